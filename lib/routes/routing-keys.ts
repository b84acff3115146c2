/**
 * Turns a routing key name from the routes config into the PagerDuty routing key. Keys are
 * secrets: they come from Secrets Manager in AWS and from the environment or a git-ignored
 * file locally, and no message here ever contains one.
 */
import { readFileSync } from "node:fs";
import { ParameterNotFoundError } from "@aws-lambda-powertools/parameters/errors";
import { describeValue } from "../matchers/problems.ts";
import { DEFAULT_MISSING_FOR_MS, sharedFetch } from "../platform/shared-fetch.ts";
import { isRoutingKeyRef } from "./routes-config.ts";
import { loadGetSecret } from "../platform/lazy-secrets.ts";
import { rememberSecret } from "../platform/redact.ts";

export interface RoutingKeyResolver {
  /** The routing key for a name; rejects with MissingRoutingKeyError when there is none. */
  resolve(ref: string): Promise<string>;
  /** Where keys come from, for a start-up log line. */
  readonly location: string;
}

/** A local resolver also knows whether it has any key at all, so the local stack can run dry without one. */
export interface LocalRoutingKeyResolver extends RoutingKeyResolver {
  hasAnyKey(): boolean;
}

export class MissingRoutingKeyError extends Error {
  readonly ref: string;
  constructor(ref: string, remedy: string) {
    super(`no PagerDuty routing key named ${JSON.stringify(ref)}: ${remedy}`);
    this.name = "MissingRoutingKeyError";
    this.ref = ref;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_REF = "default";

/** `default` → PAGERDUTY_ROUTING_KEY; `payments-high` → PAGERDUTY_ROUTING_KEY_PAYMENTS_HIGH. */
export function routingKeyEnvName(ref: string): string {
  return ref === DEFAULT_REF ? "PAGERDUTY_ROUTING_KEY" : `PAGERDUTY_ROUTING_KEY_${ref.toUpperCase().replace(/-/g, "_")}`;
}

function checkRef(ref: string): void {
  if (!isRoutingKeyRef(ref)) {
    throw new TypeError(`${JSON.stringify(ref)} is not a routing key name (lower-case letters, digits and dashes)`);
  }
}

export function createEnvRoutingKeyResolver(env: Env): LocalRoutingKeyResolver {
  return {
    location: "environment variables PAGERDUTY_ROUTING_KEY[_<NAME>]",
    async resolve(ref) {
      checkRef(ref);
      const name = routingKeyEnvName(ref);
      const key = env[name]?.trim();
      if (!key) throw new MissingRoutingKeyError(ref, `set ${name}`);
      return key;
    },
    hasAnyKey: () =>
      Object.entries(env).some(([name, value]) => /^PAGERDUTY_ROUTING_KEY(_[A-Z0-9_]+)?$/.test(name) && Boolean(value?.trim())),
  };
}

/** A JSON file of name → key, e.g. `{ "default": "…", "payments-high": "…" }`; read once, now, so a bad file fails at start-up. */
export function createFileRoutingKeyResolver(
  path: string,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): LocalRoutingKeyResolver {
  const where = `ROUTING_KEYS_FILE ${JSON.stringify(path)}`;
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    throw new Error(`${where} could not be read: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // V8's JSON error quotes the text around the mistake, which here would be a key.
    throw new Error(`${where} is not valid JSON; expected an object of name → key, e.g. { "default": "<key>" }`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${where} is ${describeValue(parsed)}; expected an object of name → key, e.g. { "default": "<key>" }`);
  }
  const keys = new Map<string, string>();
  for (const [ref, key] of Object.entries(parsed)) {
    if (!isRoutingKeyRef(ref))
      throw new Error(`${where}: ${JSON.stringify(ref)} is not a routing key name (lower-case letters, digits and dashes)`);
    if (typeof key !== "string" || key.trim() === "")
      throw new Error(`${where}: the key for ${JSON.stringify(ref)} is not a non-empty string`);
    keys.set(ref, key.trim());
  }
  return {
    location: where,
    async resolve(ref) {
      checkRef(ref);
      const key = keys.get(ref);
      if (key === undefined) throw new MissingRoutingKeyError(ref, `add ${JSON.stringify(ref)} to ${where}`);
      return key;
    },
    hasAnyKey: () => keys.size > 0,
  };
}

/** ROUTING_KEYS_FILE when set, otherwise environment variables. */
export function createLocalRoutingKeyResolver(env: Env): LocalRoutingKeyResolver {
  const file = env.ROUTING_KEYS_FILE?.trim();
  return file ? createFileRoutingKeyResolver(file) : createEnvRoutingKeyResolver(env);
}

export interface SecretsRoutingKeyResolverOptions {
  /** Secret names are `<prefix>/<name>`, e.g. `alert-relay/routing-keys/payments-high`. */
  prefix: string;
  /** How long a fetched key is reused (Powertools' cache); rotation takes effect within this. */
  maxAgeSeconds?: number;
  /** Fetches a secret's value; Powertools' getSecret by default. Throws ParameterNotFoundError when the secret does not exist. */
  fetchSecret?: (name: string, options: { maxAge: number }) => Promise<unknown>;
  /** A secret found missing is not asked for again for this long (default 30 s). */
  missingForMs?: number;
  now?: () => number;
}

export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

/**
 * Reads `<prefix>/<name>` from Secrets Manager. The secret is the key as plain text, or a JSON
 * object with a `routingKey` field (what the console's key/value editor produces).
 */
export function createSecretsRoutingKeyResolver(options: SecretsRoutingKeyResolverOptions): RoutingKeyResolver {
  const prefix = options.prefix.replace(/\/+$/, "");
  const maxAge = options.maxAgeSeconds ?? DEFAULT_SECRET_MAX_AGE_SECONDS;
  const fetchOne =
    options.fetchSecret ?? (async (name, fetchOptions) => (await loadGetSecret())(name, { ...fetchOptions, throwOnMissing: true }));
  // Concurrent deliveries to one key share a fetch; a missing key is not fetched for every record.
  const fetchSecret = sharedFetch((name) => fetchOne(name, { maxAge }), {
    isMissing: (error) => error instanceof ParameterNotFoundError,
    missingForMs: options.missingForMs ?? DEFAULT_MISSING_FOR_MS,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    location: `Secrets Manager ${prefix}/<name>`,
    async resolve(ref) {
      checkRef(ref);
      const secretName = `${prefix}/${ref}`;
      let value: unknown;
      try {
        value = await fetchSecret(secretName);
      } catch (error) {
        if (error instanceof ParameterNotFoundError)
          throw new MissingRoutingKeyError(ref, `create the Secrets Manager secret ${secretName}`);
        throw new Error(`could not read the routing key ${JSON.stringify(ref)} from secret ${secretName}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const key = keyFromSecret(value);
      if (!key) {
        throw new MissingRoutingKeyError(
          ref,
          `secret ${secretName} holds no key; store the key as plain text or as {"routingKey": "<key>"}`,
        );
      }
      return key;
    },
  };
}

function keyFromSecret(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (!text.startsWith("{")) return text || undefined;
  try {
    const field = (JSON.parse(text) as { routingKey?: unknown }).routingKey;
    return typeof field === "string" && field.trim() ? field.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The resolver the environment asks for: Secrets Manager when ROUTING_KEYS_SECRET_PREFIX is set
 * (the deployed stack), the local resolver otherwise.
 */
export function routingKeyResolverFromEnv(env: Env): RoutingKeyResolver {
  const prefix = env.ROUTING_KEYS_SECRET_PREFIX?.trim();
  const resolver = prefix ? createSecretsRoutingKeyResolver({ prefix }) : createLocalRoutingKeyResolver(env);
  // Every key read is remembered by the redaction rule: it never reaches a log, the console or the outbox.
  return {
    location: resolver.location,
    async resolve(ref) {
      const key = await resolver.resolve(ref);
      rememberSecret(key);
      return key;
    },
  };
}
