import { describe, expect, it } from "vitest";
import { normalizeText, parseJsonBody } from "../../../lib/ingest/normalize-payload.ts";
import { echoAdapter } from "../../support/echo-adapter.ts";

const ctx = { receivedAt: "2026-11-26T18:00:00.000Z", config: { prefix: "t" } };

describe("parseJsonBody", () => {
  it("rejects non-JSON with 400 and says so", () => {
    const result = parseJsonBody("{not json");
    expect(result).toMatchObject({ ok: false, status: 400, reason: "not_json" });
    expect(!result.ok && result.message).toMatch(/^body is not JSON/);
  });
  it("rejects an empty body with 400", () => {
    expect(parseJsonBody("  ")).toMatchObject({ ok: false, status: 400, reason: "empty_body" });
  });
  it("measures the limit in UTF-8 bytes, not characters", () => {
    const text = JSON.stringify("é".repeat(60));
    expect(parseJsonBody(text, 100)).toMatchObject({ ok: false, status: 413, reason: "too_large" });
    expect(parseJsonBody(text, 200)).toMatchObject({ ok: true });
  });
});

describe("normalizeText", () => {
  it("turns an adapter rejection into 422 naming the path", () => {
    const result = normalizeText(
      echoAdapter,
      JSON.stringify({
        alerts: [
          { key: "a", status: "firing" },
          { key: "b", status: "up" },
        ],
      }),
      ctx,
    );
    expect(result).toMatchObject({ ok: false, status: 422, reason: "wrong_shape", path: "alerts.1.status" });
    expect(!result.ok && result.message).toContain("(at alerts.1.status)");
  });
  it("returns the adapter's alerts and notice", () => {
    const result = normalizeText(echoAdapter, JSON.stringify({ notice: "hello", alerts: [{ key: "a", status: "resolved" }] }), ctx);
    expect(result.ok && result.alerts.map((a) => [a.dedupKey, a.status])).toEqual([["t:a", "resolved"]]);
    expect(result.ok && result.notice).toBe("hello");
  });
});
