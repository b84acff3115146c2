import { describe, expect, it } from "vitest";
import {
  MAX_REGEX_CHARS,
  MatcherError,
  formatMatcher,
  matches,
  matchesEmpty,
  parseMatcher,
  parseMatcherList,
} from "../../../lib/matchers/matcher.ts";
import { matchSubject } from "../../../lib/matchers/subject.ts";
import { alertAt } from "../../support/alerts.ts";

function parseError(text: string): MatcherError {
  try {
    parseMatcher(text);
  } catch (error) {
    if (error instanceof MatcherError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe("parseMatcher", () => {
  it.each([
    ["service=checkout", { name: "service", op: "=", value: "checkout" }],
    ["alertname!=Watchdog", { name: "alertname", op: "!=", value: "Watchdog" }],
    ["  team  =  payments  ", { name: "team", op: "=", value: "payments" }],
    ['team="a, b"', { name: "team", op: "=", value: "a, b" }],
    ['team=" padded "', { name: "team", op: "=", value: " padded " }],
    ["team=", { name: "team", op: "=", value: "" }],
    ['team=""', { name: "team", op: "=", value: "" }],
    ["kube.namespace=payments-prod", { name: "kube.namespace", op: "=", value: "payments-prod" }],
    ["aws-region=eu-west-1", { name: "aws-region", op: "=", value: "eu-west-1" }],
    ["url==x", { name: "url", op: "=", value: "=x" }],
    ['msg="say \\"hi\\"\\nbye \\\\ \\d"', { name: "msg", op: "=", value: 'say "hi"\nbye \\ \\d' }],
    ["path=C:\\temp\\", { name: "path", op: "=", value: "C:\\temp\\" }],
  ])("reads %j", (text, expected) => {
    expect(parseMatcher(text)).toEqual(expected);
  });

  it("compiles =~ and !~ as regexes anchored at both ends", () => {
    const matcher = parseMatcher("env =~ prod|staging");
    expect(matcher).toMatchObject({ name: "env", op: "=~", value: "prod|staging" });
    expect(matcher.regex?.test("prod")).toBe(true);
    expect(matcher.regex?.test("staging")).toBe(true);
    // Unanchored, `prod|staging` would match both of these.
    expect(matcher.regex?.test("preprod")).toBe(false);
    expect(matcher.regex?.test("staging-2")).toBe(false);
    expect(parseMatcher("env!~dev.*").op).toBe("!~");
  });

  it("keeps a backslash before other characters so regex escapes survive", () => {
    const matcher = parseMatcher('host=~"db\\.internal"');
    expect(matcher.value).toBe("db\\.internal");
    expect(matcher.regex?.test("db.internal")).toBe(true);
    expect(matcher.regex?.test("dbXinternal")).toBe(false);
  });

  it("reads a leading (?i) as case-insensitive, like RE2", () => {
    const matcher = parseMatcher("env=~(?i)PROD");
    expect(matcher.regex?.test("prod")).toBe(true);
    expect(matcher.regex?.test("Prod")).toBe(true);
    expect(parseMatcher("env=~PROD").regex?.test("prod")).toBe(false);
  });

  it.each([
    ["", "is empty"],
    ["   ", "is empty"],
    ["team", "has no operator"],
    ["team payments", "has no operator"],
    ["=payments", "does not start with a label name"],
    ["~=x", "does not start with a label name"],
    ['"team"=x', "quotes the label name"],
    ['{team="x"}', "has braces"],
    ['team="payments', "no closing one"],
    ['team="pay"ments', "text after the closing quote"],
    ['team=pay"ments', "double quote inside an unquoted value"],
    ["alertname!=Watchdog, service=checkout", "several matchers in one entry"],
    ["env=~(prod", "is not a valid regex: Unterminated group"],
    ["env=~[", "is not a valid regex"],
    // `u` mode refuses escapes that non-unicode JavaScript would read as a different literal.
    ["env=~\\a", "is not a valid regex"],
  ])("refuses %j: %s", (text, reason) => {
    const error = parseError(text);
    expect(error.message).toContain(reason);
    expect(error.message.startsWith(JSON.stringify(text))).toBe(true);
    expect(error.text).toBe(text);
  });

  it("accepts a comma inside a quoted value", () => {
    expect(parseMatcher('summary="disk full, node=a"').value).toBe("disk full, node=a");
  });

  it.each(["(a+)+", "(.*)*", "(x|y+){2,}", "((ab)*c)+", "(\\d+\\.)+"])("refuses nested repetition %s", (regex) => {
    expect(parseError(`x=~${regex}`).message).toContain("exponential time");
  });

  it.each(["(a)\\1", "(?<n>a)\\k<n>"])("refuses the backreference in %s", (regex) => {
    expect(parseError(`x=~${regex}`).message).toContain("backreferences are not supported");
  });

  it.each(["(prod|staging)+", "(a|b)*c+", "[(]+(b)+", "\\(a+\\)+", "a{2,3}(bc)?", "(ab)+", "[+*](x)+"])(
    "accepts %s, which repeats nothing that repeats",
    (regex) => {
      expect(parseMatcher(`x=~${regex}`).regex).toBeInstanceOf(RegExp);
    },
  );

  it("caps regex length", () => {
    expect(parseMatcher(`x=~${"a".repeat(MAX_REGEX_CHARS)}`).regex).toBeInstanceOf(RegExp);
    expect(parseError(`x=~${"a".repeat(MAX_REGEX_CHARS + 1)}`).message).toContain(`the limit is ${MAX_REGEX_CHARS}`);
  });

  it("does not cap = values, which are never compiled", () => {
    expect(parseMatcher(`x=${"a".repeat(MAX_REGEX_CHARS + 1)}`).value).toHaveLength(MAX_REGEX_CHARS + 1);
  });
});

describe("formatMatcher", () => {
  it.each([
    [{ name: "team", op: "=", value: "payments" }, "team=payments"],
    [{ name: "env", op: "=~", value: "prod|staging" }, "env=~prod|staging"],
    [{ name: "team", op: "=", value: "" }, 'team=""'],
    [{ name: "team", op: "=", value: "a, b" }, 'team="a, b"'],
    [{ name: "x", op: "=", value: "~y" }, 'x="~y"'],
    [{ name: "x", op: "!=", value: 'say "hi"\n' }, 'x!="say \\"hi\\"\\n"'],
  ] as const)("writes %j as %s", (matcher, text) => {
    expect(formatMatcher(matcher)).toBe(text);
  });
});

describe("matches", () => {
  const subject = { team: "payments", env: "prod", empty: "" };
  const all = (...texts: string[]) => matches(texts.map(parseMatcher), subject);

  it("requires every matcher to match", () => {
    expect(all("team=payments", "env=prod")).toBe(true);
    expect(all("team=payments", "env=staging")).toBe(false);
    expect(all()).toBe(true);
  });

  it("reads an absent label as the empty string, as Alertmanager does", () => {
    expect(all("region=")).toBe(true);
    expect(all("region!=eu")).toBe(true);
    expect(all("region=eu")).toBe(false);
    expect(all("region=~.*")).toBe(true);
    expect(all("region=~.+")).toBe(false);
    expect(all("region!~.+")).toBe(true);
    expect(all("empty=")).toBe(true);
  });

  it("ignores inherited properties: a label named like an Object method is absent unless set", () => {
    expect(all("constructor=")).toBe(true);
    expect(all("toString=~.+")).toBe(false);
  });
});

describe("matchesEmpty", () => {
  it.each([
    ["team!=payments", true],
    ["team=", true],
    ["team=~.*", true],
    ["team!~.+", true],
    ["team=payments", false],
    ["team=~.+", false],
    ["team!=", false],
  ])("%s → %s", (text, expected) => {
    expect(matchesEmpty(parseMatcher(text))).toBe(expected);
  });
});

describe("parseMatcherList", () => {
  it("reports every bad entry with its index and keeps the good ones", () => {
    const { matchers, problems } = parseMatcherList(["team=payments", "env=~(prod", 7, "x"]);
    expect(matchers.map((m) => m.name)).toEqual(["team"]);
    expect(problems).toEqual([
      { index: 1, problem: '"env=~(prod" is not a valid regex: Unterminated group' },
      { index: 2, problem: 'is a number (7); expected text like "service=checkout"' },
      { index: 3, problem: '"x" has no operator after "x"; use one of = != =~ !~' },
    ]);
  });
});

describe("matchSubject", () => {
  const alert = alertAt("HighCPU", "firing", 0, { severity: "critical", labels: { team: "payments" } });

  it("is the labels plus source, severity and dedupKey", () => {
    const subject = matchSubject(alert);
    expect(subject).toMatchObject({ alertname: "HighCPU", team: "payments", source: "echo", dedupKey: alert.dedupKey });
  });

  it("lets the alert's own fields win over labels of the same name", () => {
    const subject = matchSubject({ ...alert, labels: { severity: "info", source: "spoofed", dedupKey: "other" } });
    expect(subject.severity).toBe("critical");
    expect(subject.source).toBe("echo");
    expect(subject.dedupKey).toBe(alert.dedupKey);
  });

  it("does not expose status, so nothing can split a trigger from its resolve", () => {
    expect(Object.hasOwn(matchSubject(alert), "status")).toBe(false);
  });

  it("keeps a label named __proto__ as a plain label", () => {
    const labels = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
    const subject = matchSubject({ ...alert, labels });
    expect(matches([parseMatcher("__proto__=x")], subject)).toBe(true);
  });
});
