/**
 * The one path from raw bytes to normalized alerts, shared by the HTTP handler and the CLI so
 * both give the same answer and the same error for the same input.
 */
import type { Adapter, RejectionCode } from "../adapters/types.ts";
import type { NormalizedAlert } from "../alert/schema.ts";

/** 1 MiB: far above any real alert group, far below API Gateway's and Lambda's own limits. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * Nesting no alert payload comes near (Alertmanager, Datadog, CloudWatch and Events API bodies
 * nest under 10 levels); deeper documents are refused before parsing, so nothing downstream
 * (adapters, details bounding, log excerpts) ever walks an unbounded structure.
 */
export const MAX_JSON_DEPTH = 64;

export type InputRejectionReason = "not_json" | "too_large" | "too_deep" | "empty_body" | RejectionCode;

export interface InputRejection {
  ok: false;
  /** The HTTP status the webhook answers with: 400 not JSON (or nested too deep), 413 too large, 422 wrong shape. */
  status: 400 | 413 | 422;
  reason: InputRejectionReason;
  /** What was wrong, and where (the path is repeated in `path`). */
  message: string;
  path?: string;
}

export interface NormalizedPayload {
  ok: true;
  alerts: NormalizedAlert[];
  notice?: string;
}

export function parseJsonBody(text: string, maxBytes = DEFAULT_MAX_BODY_BYTES): { ok: true; value: unknown } | InputRejection {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) {
    return { ok: false, status: 413, reason: "too_large", message: `body is ${bytes} bytes; the limit is ${maxBytes}` };
  }
  if (text.trim() === "") return { ok: false, status: 400, reason: "empty_body", message: "body is empty; expected a JSON document" };
  const tooDeep = nestingBeyond(text, MAX_JSON_DEPTH);
  if (tooDeep >= 0) {
    return {
      ok: false,
      status: 400,
      reason: "too_deep",
      message: `body nests deeper than ${MAX_JSON_DEPTH} levels (at character ${tooDeep})`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${parseErrorWithoutInput(error.message)}` : "";
    return { ok: false, status: 400, reason: "not_json", message: `body is not JSON${detail}` };
  }
}

/**
 * V8 quotes a piece of the input in some parse errors (`Unexpected token 'x', "{"routing_k"... is
 * not valid JSON`): that piece may be a credential or control characters, so only what and where stay.
 */
function parseErrorWithoutInput(message: string): string {
  return message.replace(/, ".*" is not valid JSON$/s, " (not valid JSON)");
}

/**
 * The offset at which JSON text opens its (maxDepth + 1)th nested array or object, or -1. One pass
 * over the characters, strings skipped; what is not JSON at all is left to JSON.parse to describe.
 * Hand-written because JSON.parse has no depth limit and the question must be answered before it runs.
 */
export function nestingBeyond(text: string, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return i;
    } else if (code === 0x5d || code === 0x7d) depth -= 1;
  }
  return -1;
}

export function normalizePayload<Config>(
  adapter: Adapter<Config>,
  payload: unknown,
  ctx: { receivedAt: string; config: Config },
): NormalizedPayload | InputRejection {
  const result = adapter.normalize(payload, ctx);
  if (!result.ok) {
    const { code, message, path } = result.rejection;
    const where = path ? ` (at ${path})` : "";
    return { ok: false, status: 422, reason: code, message: `${adapter.name}: ${message}${where}`, ...(path ? { path } : {}) };
  }
  return { ok: true, alerts: result.alerts, ...(result.notice ? { notice: result.notice } : {}) };
}

/** Raw text → alerts, or the rejection both the webhook and the CLI report. */
export function normalizeText<Config>(
  adapter: Adapter<Config>,
  text: string,
  ctx: { receivedAt: string; config: Config; maxBytes?: number },
): NormalizedPayload | InputRejection {
  const parsed = parseJsonBody(text, ctx.maxBytes);
  if (!parsed.ok) return parsed;
  return normalizePayload(adapter, parsed.value, ctx);
}
