/**
 * Bounds every normalized alert respects. They keep one SQS message far below SQS's limit and
 * one PagerDuty event far below its 512 KB limit, and they are PagerDuty's own limits where it
 * has one (summary 1024, dedup_key 255).
 */
import { hash } from "node:crypto";

export const LIMITS = {
  summaryChars: 1024,
  dedupKeyChars: 255,
  idChars: 128,
  fieldChars: 1024,
  urlChars: 2048,
  linkTextChars: 256,
  links: 10,
  images: 5,
  labels: 64,
  labelKeyChars: 128,
  labelValueChars: 1024,
  /** JSON length of `details`; 32 K characters leave room for everything else under 64 KB. */
  detailsChars: 32_768,
  /** A string inside `details` longer than this is cut, so one huge field cannot crowd out the rest. */
  detailStringChars: 4096,
} as const;

const ELLIPSIS = "…";

/** Cuts text to `max` characters, ending with an ellipsis when cut; never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - ELLIPSIS.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

/**
 * What no text alert-relay sends or prints may hold: C0 controls but tab and newline (ESC starts
 * terminal escape sequences, NUL truncates, CR overwrites a console line), DEL, C1 controls, and
 * the bidirectional embeddings, overrides and isolates that make text display in another order
 * than it reads (U+202A–U+202E, U+2066–U+2069). Tab and newline are whitespace to one-line fields.
 */
const UNSAFE_RANGES = String.raw`\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069`;
const UNSAFE_CHARS = new RegExp(`[${UNSAFE_RANGES}]`, "g");
const HAS_UNSAFE_CHAR = new RegExp(`[${UNSAFE_RANGES}]`);
/** Text without any of them, for the schema's checks at the queue boundaries. */
export const SAFE_TEXT = new RegExp(`^[^${UNSAFE_RANGES}]*$`);

/** Whether text holds a character safeText removes. */
export function hasUnsafeChars(text: string): boolean {
  return HAS_UNSAFE_CHAR.test(text);
}

/**
 * Text without control characters and bidi overrides (tab and newline stay): the one rule for
 * every string of the alert contract that reaches PagerDuty or a console (build.ts applies it).
 */
export function safeText(text: string): string {
  // Most text has none; testing is far cheaper than rewriting (hot path).
  return HAS_UNSAFE_CHAR.test(text) ? text.replace(UNSAFE_CHARS, "") : text;
}

/** Text with each character safeText removes shown as an escape (`\u001b`), for consoles: nothing is hidden, nothing acts. */
export function escapeUnsafe(text: string): string {
  return HAS_UNSAFE_CHAR.test(text) ? text.replace(UNSAFE_CHARS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`) : text;
}

/** Two spaces, any whitespace but a plain space, or whitespace at either end: text that needs collapsing. */
const NOT_ONE_LINE = /\s\s|[^\S ]|^\s|\s$/;

/** Safe text (safeText) with whitespace collapsed and trimmed: summaries are one line in PagerDuty and in pages. */
export function oneLine(text: string): string {
  const safe = safeText(text);
  // Most text is one line already; testing is several times cheaper than rewriting (hot path).
  return NOT_ONE_LINE.test(safe) ? safe.replace(/\s+/g, " ").trim() : safe;
}

/** Short, stable hex digest (for ids and long identities). */
export function digest(text: string, hexChars = 32): string {
  return hash("sha256", text, "hex").slice(0, hexChars);
}

/**
 * A dedup key within PagerDuty's 255 characters. A longer identity keeps a readable prefix and
 * ends with a digest of the whole, so two long identities with the same prefix stay distinct.
 */
export function boundDedupKey(identity: string): string {
  if (identity.length <= LIMITS.dedupKeyChars) return identity;
  const suffix = `~${digest(identity, 40)}`;
  let prefix = identity.slice(0, LIMITS.dedupKeyChars - suffix.length);
  const code = prefix.charCodeAt(prefix.length - 1);
  if (code >= 0xd800 && code <= 0xdbff) prefix = prefix.slice(0, -1);
  return prefix + suffix;
}

/**
 * Details bounded by LIMITS.detailsChars, their strings and keys safe (safeText): long strings are cut first; if the object is still too
 * large, whole fields are dropped (largest first) and listed under `_truncated` so a reader knows.
 */
export function boundDetails(details: Record<string, unknown>): Record<string, unknown> {
  if (isSmallEnough(details, 0, SMALL_DETAILS_BUDGET) >= 0) return details;
  const cut = cutLongStrings(details, 0) as Record<string, unknown>;
  if (JSON.stringify(cut).length <= LIMITS.detailsChars) return cut;
  const sizes = Object.entries(cut)
    .map(([key, value]) => [key, JSON.stringify(value)?.length ?? 0] as const)
    .sort((a, b) => b[1] - a[1]);
  const kept: Record<string, unknown> = { ...cut };
  const dropped: string[] = [];
  for (const [key] of sizes) {
    delete kept[key];
    dropped.push(key);
    const note = { ...kept, _truncated: `dropped to stay within ${LIMITS.detailsChars} characters: ${dropped.join(", ")}` };
    if (JSON.stringify(note).length <= LIMITS.detailsChars) return note;
  }
  return { _truncated: `all details dropped to stay within ${LIMITS.detailsChars} characters` };
}

/**
 * Characters of keys and strings under which details need no bounding: even if every character
 * were escaped as \uXXXX (6 characters), the JSON stays within LIMITS.detailsChars.
 */
const SMALL_DETAILS_BUDGET = Math.floor(LIMITS.detailsChars / 6) - 64;

/**
 * The budget left after `value`, or -1 when it may need cutting (a long string, a long array,
 * deep nesting, or too many characters). Cheaper than JSON.stringify on the hot path.
 */
function isSmallEnough(value: unknown, depth: number, budget: number): number {
  if (typeof value === "string")
    return value.length > LIMITS.detailStringChars || HAS_UNSAFE_CHAR.test(value) ? -1 : budget - value.length - 2;
  if (value === null || typeof value !== "object") return budget - 24;
  if (depth > 8) return -1;
  if (Array.isArray(value)) {
    if (value.length > 100) return -1;
    for (const item of value) if ((budget = isSmallEnough(item, depth + 1, budget - 1)) < 0) return -1;
    return budget;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (HAS_UNSAFE_CHAR.test(key)) return -1;
    budget = isSmallEnough((value as Record<string, unknown>)[key], depth + 1, budget - key.length - 4);
    if (budget < 0) return -1;
  }
  return budget;
}

/** Details with long strings cut and every string and key made safe (safeText). */
function cutLongStrings(value: unknown, depth: number): unknown {
  if (typeof value === "string") return truncate(safeText(value), LIMITS.detailStringChars);
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return "[nested too deep]";
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => cutLongStrings(v, depth + 1));
  // fromEntries defines own data properties: a key "__proto__" stays a key, never the prototype.
  return Object.fromEntries(
    Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : [[safeText(k), cutLongStrings(v, depth + 1)]])),
  );
}
