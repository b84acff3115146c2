/**
 * Alertmanager matchers (`name=value`, `name!=value`, `name=~regex`, `name!~regex`): the one
 * syntax suppression windows and routes share, so an operator learns it once.
 *
 * Follows Alertmanager's classic parser where it has an answer: values may be double-quoted,
 * `\"`, `\\` and `\n` are escapes and any other backslash stays literal (so `\.` reaches the
 * regex), regexes are anchored (`^(?:re)$`), and an absent label reads as the empty string.
 * Where this parser is stricter, it is because a window that silently means something else can
 * hide a real incident; every refusal says what to write instead.
 */
import { describeValue } from "./problems.ts";

export const MATCH_OPS = ["=", "!=", "=~", "!~"] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

/**
 * `value` is the value as written (unescaped); for `=~` and `!~` it is the regex source before
 * anchoring, and `regex` is the anchored, compiled form.
 */
export type Matcher =
  | { readonly name: string; readonly op: "=" | "!="; readonly value: string; readonly regex?: undefined }
  | { readonly name: string; readonly op: "=~" | "!~"; readonly value: string; readonly regex: RegExp };

/**
 * Longest regex accepted. Subjects are bounded (label values ≤ 1024 characters), but a long
 * regex is where backtracking hides; 1024 still fits a list of a few dozen hostnames.
 */
export const MAX_REGEX_CHARS = 1024;

export class MatcherError extends Error {
  /** The matcher as the operator wrote it. */
  readonly text: string;
  /** What is wrong, without the text. */
  readonly reason: string;
  constructor(text: string, reason: string) {
    super(`${JSON.stringify(text)} ${reason}`);
    this.name = "MatcherError";
    this.text = text;
    this.reason = reason;
  }
}

/**
 * Label names match lib/alert's label rule (no whitespace, `=`, `!` or `~`) so every label an
 * adapter can emit, e.g. a Datadog tag `kube.namespace`, is addressable. Double quotes are
 * refused too: `"team"=x` would name a label that never exists, and `"team"!=x` would then
 * match every alert.
 */
const NAME_CHARS = /^[^\s=!~"]+/;
const OPERATOR = /^(=~|!~|!=|=)/;
/** An unquoted value that continues with `, name=...` is two matchers typed into one entry. */
const SECOND_MATCHER = /,\s*[^\s=!~",]+\s*(=~|!~|!=|=)/;

/** Parses one matcher, or throws a MatcherError that quotes the text and says what is wrong. */
export function parseMatcher(text: string): Matcher {
  if (typeof text !== "string") throw new MatcherError(String(text), "is not text");
  const trimmed = text.trim();
  if (trimmed === "") throw new MatcherError(text, 'is empty; write name=value, e.g. "service=checkout"');
  if (trimmed.startsWith("{")) {
    throw new MatcherError(text, 'has braces; write one matcher per entry without { }, e.g. "service=checkout"');
  }
  if (trimmed.startsWith('"')) {
    throw new MatcherError(text, 'quotes the label name; quote only the value, e.g. team="a, b"');
  }
  const name = NAME_CHARS.exec(trimmed)?.[0];
  if (name === undefined) {
    throw new MatcherError(text, 'does not start with a label name; write name=value, e.g. "service=checkout"');
  }
  const afterName = trimmed.slice(name.length).trimStart();
  const op = OPERATOR.exec(afterName)?.[0] as MatchOp | undefined;
  if (op === undefined) {
    throw new MatcherError(text, `has no operator after "${name}"; use one of = != =~ !~`);
  }
  const rawValue = afterName.slice(op.length).trimStart();
  const value = unescapeValue(text, rawValue);
  if (!rawValue.startsWith('"') && SECOND_MATCHER.test(rawValue)) {
    throw new MatcherError(
      text,
      "looks like several matchers in one entry; put each in its own list item, or quote a value that really contains a comma",
    );
  }
  if (op === "=" || op === "!=") return { name, op, value };
  return { name, op, value, regex: compileAnchored(text, value) };
}

/** Same unescaping as Alertmanager's classic parser; a value starting with `"` must end with one. */
function unescapeValue(text: string, raw: string): string {
  const quoted = raw.startsWith('"');
  const body = quoted ? raw.slice(1) : raw;
  let value = "";
  let closed = false;
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i] as string;
    if (closed) throw new MatcherError(text, "has text after the closing quote; quote the whole value or nothing");
    if (char === "\\" && i + 1 < body.length) {
      const next = body[i + 1] as string;
      i += 1;
      if (next === "n") value += "\n";
      else if (next === '"' || next === "\\") value += next;
      else value += `\\${next}`;
    } else if (char === '"') {
      if (!quoted) throw new MatcherError(text, 'has a double quote inside an unquoted value; write \\" or quote the whole value');
      closed = true;
    } else {
      value += char;
    }
  }
  if (quoted && !closed) throw new MatcherError(text, "has an opening double quote but no closing one");
  return value;
}

/**
 * Anchored like Alertmanager. A leading `(?i)` (RE2's case-insensitive flag, common in
 * Alertmanager configs) becomes JavaScript's `i` flag. The `u` flag makes JavaScript refuse
 * escapes it would otherwise read as a different literal (`\p{L}`, `\a`), so a regex either
 * means what RE2 means or is reported.
 */
function compileAnchored(text: string, source: string): RegExp {
  if (source.length > MAX_REGEX_CHARS) {
    throw new MatcherError(text, `has a regex of ${source.length} characters; the limit is ${MAX_REGEX_CHARS}`);
  }
  const caseInsensitive = source.startsWith("(?i)");
  const body = caseInsensitive ? source.slice(4) : source;
  const risk = backtrackingRisk(body);
  if (risk) throw new MatcherError(text, `is refused: ${risk}`);
  try {
    return new RegExp(`^(?:${body})$`, caseInsensitive ? "iu" : "u");
  } catch (error) {
    const detail = (error as Error).message.split(": ").pop();
    throw new MatcherError(text, `is not a valid regex: ${detail}`);
  }
}

/** `*`, `+` and any `{n,m}`: a repetition that can multiply backtracking when nested. */
const REPETITION = /[*+]|\{\d+(?:,\d*)?\}/y;

function repetitionAt(source: string, index: number): boolean {
  REPETITION.lastIndex = index;
  return REPETITION.test(source);
}

/**
 * A heuristic, not a proof: refuses the two shapes that make JavaScript's backtracking engine
 * take exponential time (Go's RE2, which Alertmanager uses, never does), because one such
 * window would stall every alert the router handles:
 * - a repeated group that itself repeats, like `(a+)+` or `(.*,)*`;
 * - backreferences (`\1`, `\k<name>`), which RE2 rejects anyway.
 */
function backtrackingRisk(source: string): string | undefined {
  // One entry per open group: whether something inside it repeats.
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i += 1) {
    const char = source[i];
    if (char === "\\") {
      const next = source[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || next === "k")) {
        return "backreferences are not supported (Alertmanager's RE2 rejects them too)";
      }
      i += 1;
      continue;
    }
    if (inClass) {
      if (char === "]") inClass = false;
      continue;
    }
    if (char === "[") {
      inClass = true;
    } else if (char === "(") {
      groups.push(false);
    } else if (char === ")") {
      const innerRepeats = groups.pop() ?? false;
      const repeated = repetitionAt(source, i + 1);
      if (innerRepeats && repeated) {
        return "a repeated group contains a repetition, like (a+)+, which can take exponential time; rewrite it without the nesting";
      }
      if ((innerRepeats || repeated) && groups.length > 0) groups[groups.length - 1] = true;
    } else if (groups.length > 0 && repetitionAt(source, i)) {
      groups[groups.length - 1] = true;
    }
  }
  return undefined;
}

/** Formats a matcher so that parseMatcher returns an equal matcher; quotes only when needed. */
export function formatMatcher(matcher: Pick<Matcher, "name" | "op" | "value">): string {
  const { name, op, value } = matcher;
  const plain = value !== "" && !/^[\s~"]|\s$|["\\\n]|,/.test(value);
  if (plain) return `${name}${op}${value}`;
  const escaped = value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
  return `${name}${op}"${escaped}"`;
}

/** Whether one matcher accepts this value; an absent label is the empty string. */
export function matchesValue(matcher: Matcher, value: string | undefined): boolean {
  const actual = value ?? "";
  switch (matcher.op) {
    case "=":
      return actual === matcher.value;
    case "!=":
      return actual !== matcher.value;
    case "=~":
      return matcher.regex.test(actual);
    case "!~":
      return !matcher.regex.test(actual);
  }
}

/** All matchers must match (an empty list matches everything: callers that must not allow that check it). */
export function matches(matchers: readonly Matcher[], subject: Readonly<Record<string, string>>): boolean {
  return matchers.every((matcher) => matchesValue(matcher, Object.hasOwn(subject, matcher.name) ? subject[matcher.name] : undefined));
}

/**
 * Whether the matcher accepts an alert that lacks the label. Alertmanager requires a silence
 * to have at least one matcher that does not, so a silence cannot match every alert.
 */
export function matchesEmpty(matcher: Matcher): boolean {
  return matchesValue(matcher, "");
}

export interface MatcherListProblem {
  readonly index: number;
  /** A predicate to follow the field path, e.g. `"env=~(prod" is not a valid regex: Unterminated group`. */
  readonly problem: string;
}

/**
 * Parses a list of matchers, collecting one problem per bad entry instead of stopping at the
 * first, so an operator fixes them all in one go.
 */
export function parseMatcherList(texts: readonly unknown[]): { matchers: Matcher[]; problems: MatcherListProblem[] } {
  const matchers: Matcher[] = [];
  const problems: MatcherListProblem[] = [];
  texts.forEach((text, index) => {
    if (typeof text !== "string") {
      problems.push({ index, problem: `is ${describeValue(text)}; expected text like "service=checkout"` });
      return;
    }
    try {
      matchers.push(parseMatcher(text));
    } catch (error) {
      if (!(error instanceof MatcherError)) throw error;
      problems.push({ index, problem: error.message });
    }
  });
  return { matchers, problems };
}
