/**
 * Helpers every adapter shares: defining one so that a thrown PayloadRejection becomes a typed
 * result, turning zod issues into a path-naming rejection, and reading settings from the env.
 */
import type { z } from "zod";
import type { Adapter, AdapterResult, NormalizeContext, Rejection, RejectionCode } from "./types.ts";
import { SEVERITIES, type Severity } from "../alert/schema.ts";

/** Thrown inside an adapter to reject the payload; defineAdapter turns it into a result. */
export class PayloadRejection extends Error {
  readonly rejection: Rejection;
  constructor(code: RejectionCode, message: string, path = "") {
    super(path ? `${path}: ${message}` : message);
    this.name = "PayloadRejection";
    this.rejection = { code, message, path };
  }
}

export function reject(code: RejectionCode, message: string, path = ""): never {
  throw new PayloadRejection(code, message, path);
}

/** Parses with a zod schema, or throws a PayloadRejection naming the first failing path. */
export function parseShape<S extends z.ZodType>(schema: S, payload: unknown, what: string): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue ? issue.path.map(String).join(".") : "";
  reject("wrong_shape", `not ${what}: ${issue?.message ?? "invalid"}`, path);
}

/** Wraps an adapter's normalize so PayloadRejection becomes `{ ok: false }`; other errors are bugs and propagate. */
export function defineAdapter<Config>(adapter: {
  name: string;
  description: string;
  transports: Adapter<Config>["transports"];
  config: Adapter<Config>["config"];
  normalize: (payload: unknown, ctx: NormalizeContext<Config>) => Omit<Extract<AdapterResult, { ok: true }>, "ok">;
}): Adapter<Config> {
  return {
    ...adapter,
    normalize(payload, ctx): AdapterResult {
      try {
        return { ok: true, ...adapter.normalize(payload, ctx) };
      } catch (error) {
        if (error instanceof PayloadRejection) return { ok: false, rejection: error.rejection };
        throw error;
      }
    },
  };
}

/** Reads a severity setting (e.g. `CLOUDWATCH_DEFAULT_SEVERITY`), failing loudly on a typo. */
export function severitySetting(env: Readonly<Record<string, string | undefined>>, name: string, fallback: Severity): Severity {
  const value = env[name]?.trim().toLowerCase();
  if (!value) return fallback;
  if ((SEVERITIES as readonly string[]).includes(value)) return value as Severity;
  throw new Error(`${name}="${env[name]}" is not a severity; use one of ${SEVERITIES.join(", ")}`);
}

/** Reads a setting that must be one of a few words. */
export function choiceSetting<T extends string>(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = env[name]?.trim().toLowerCase();
  if (!value) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`${name}="${env[name]}" is not valid; use one of ${choices.join(", ")}`);
}
