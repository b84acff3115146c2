/**
 * The one path from raw bytes to normalized alerts, shared by the HTTP handler and the CLI so
 * both give the same answer and the same error for the same input.
 */
import type { Adapter, RejectionCode } from "../adapters/types.ts";
import type { NormalizedAlert } from "../alert/schema.ts";

/** 1 MiB: far above any real alert group, far below API Gateway's and Lambda's own limits. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

export type InputRejectionReason = "not_json" | "too_large" | "empty_body" | RejectionCode;

export interface InputRejection {
  ok: false;
  /** The HTTP status the webhook answers with: 400 not JSON, 413 too large, 422 wrong shape. */
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
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : "";
    return { ok: false, status: 400, reason: "not_json", message: `body is not JSON${detail}` };
  }
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
