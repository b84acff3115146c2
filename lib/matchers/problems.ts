/**
 * Problem sentences for people fixing config by hand: the field as they see it, then what is
 * wrong with it (`matchers[1] "env=~(prod" is not a valid regex: ...`). Shared by suppression
 * windows and routes so both read the same way.
 */

/** How a value reads inside a sentence: `"text"`, `a number (3)`, `a list`, `missing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value instanceof Set) return "a set";
  if (typeof value === "object") return "an object";
  return `a ${typeof value} (${String(value)})`;
}

/** `matchers[1]`, `routes[0].routingKey`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join("");
}

/** One sentence per zod issue whose message is written as a predicate ("is empty; ..."). */
export function issueSentences(issues: readonly { path: readonly PropertyKey[]; message: string }[], root: string): string[] {
  return issues.map((issue) => `${fieldPath(issue.path) || root} ${issue.message}`);
}
