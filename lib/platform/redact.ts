/**
 * The one redaction rule for everything alert-relay logs, prints, writes to the outbox or the DLQ
 * reason, or answers with an error: credentials never leave in clear text. Three parts:
 *
 *  1. Fields named like a credential (routing_key, integration_key, token, secret, password,
 *     authorization, api_key …): their string value is replaced, wherever they are nested.
 *  2. In free text (a refused body's excerpt, an error message, a console line): the value after
 *     such a name (`"routing_key":"…"`, `token=…`) and the credential after an HTTP auth scheme
 *     (`Bearer …`, `Basic …`).
 *  3. The secrets alert-relay itself holds (the webhook token, resolved routing keys), registered
 *     with rememberSecret when read: any occurrence, in any text, under any name.
 *
 * Hand-written: Powertools Logger has a JSON replacer hook (used in observability.ts) but no
 * redaction of its own, and the rule must be the same for the console and the outbox.
 */

export const REDACTED = "(redacted)";

/**
 * Names whose value is a credential. Anchored at the end so `routingKeyRef` (the name of a key in
 * the routes config, not the key) and `dedupKey` are not caught; `_`/`-` separated or camelCase.
 */
const SECRET_NAME =
  /(?:routing|integration|service|api|access|private|secret)[-_]?key$|token$|secret$|passw(?:or)?d$|authorization$|credentials?$/i;

const NAME_PART =
  String.raw`(?:routing|integration|service|api|access|private|secret)[-_]?key|[a-z_-]*token|` +
  String.raw`[a-z_-]*secret|passw(?:or)?d|authorization|credentials?`;

/**
 * `name: value` / `"name":"value"` / `name=value` in text, case-insensitive, also inside JSON that
 * was escaped into a string (`\"routing_key\":\"…\"`). The value is a quoted string (possibly cut
 * short by an excerpt's end) or a run without separators.
 */
const NAMED_VALUE = new RegExp(
  String.raw`((?:\\?["'])?\b(?:${NAME_PART})(?:\\?["'])?\s*[:=]\s*)` +
    String.raw`(\\"(?:[^"\\]|\\[^"])*(?:\\"|$)|"(?:[^"\\]|\\.)*(?:"|$)|'[^']*(?:'|$)|[^\s"',;&}\]\\]+)`,
  "gi",
);

/** An HTTP auth scheme and its credential (token68 of 6+ characters), e.g. a header echoed into an error. */
const AUTH_SCHEME = /\b(Bearer|Basic|Digest)(\s+)[A-Za-z0-9._~+/-]{6,}=*/gi;

/** Secrets shorter than this are not searched for in text: they would blank out ordinary words. */
const MIN_SECRET_CHARS = 8;
/** At most this many remembered secrets (the webhook token and a handful of routing keys in practice). */
const MAX_SECRETS = 256;

const secrets = new Set<string>();
let secretPattern: RegExp | undefined;

/** Registers a secret alert-relay holds, so any occurrence of it is redacted from then on. */
export function rememberSecret(value: string | undefined): void {
  const secret = value?.trim();
  if (!secret || secret.length < MIN_SECRET_CHARS || secrets.has(secret)) return;
  if (secrets.size >= MAX_SECRETS) secrets.delete(secrets.values().next().value!);
  secrets.add(secret);
  const alternatives = [...secrets].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  secretPattern = new RegExp(alternatives.join("|"), "g");
}

/** For tests: forget every remembered secret. */
export function forgetSecrets(): void {
  secrets.clear();
  secretPattern = undefined;
}

/** Text with every credential it contains replaced (rules 2 and 3). */
export function redactText(text: string): string {
  let out = secretPattern ? text.replace(secretPattern, REDACTED) : text;
  // Cheap guards first: most log lines and answers hold neither pattern. The scheme goes first, so
  // `Authorization: Bearer x` loses the credential, not only the word "Bearer".
  if (/bearer|basic|digest/i.test(out))
    out = out.replace(AUTH_SCHEME, (_, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
  if (/token|key|secret|passw|authorization|credential/i.test(out)) {
    out = out.replace(NAMED_VALUE, (_, name: string, value: string) =>
      value.startsWith('\\"') ? `${name}\\"${REDACTED}\\"` : `${name}"${REDACTED}"`,
    );
  }
  return out;
}

/** Whether a field of this name holds a credential (rule 1). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A JSON.stringify replacer applying the whole rule: credential-named fields replaced, every
 * other string redacted as text. Used by the logger, the console and error answers alike.
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (typeof value !== "string") return value;
  if (key !== "" && isSecretName(key) && !PLACEHOLDER.test(value)) return REDACTED;
  return redactText(value);
}

/** A placeholder standing where a credential would be, e.g. the outbox's `(dry-run)` routing key: no credential. */
const PLACEHOLDER = /^\([a-z -]{1,32}\)$/;

/** JSON text of a value with the rule applied (for lines written outside the logger: the outbox). */
export function redactedJson(value: unknown): string {
  return JSON.stringify(value, redactingReplacer);
}
