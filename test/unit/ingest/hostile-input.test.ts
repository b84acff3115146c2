/**
 * The malformed requests of issue 12 on every ingest entry: each is a 4xx naming what was wrong,
 * with and without credentials, and nothing reaches the queue.
 */
import { describe, expect, it } from "vitest";
import { boundedJson, excerpt } from "../../../lib/ingest/common.ts";
import { MAX_JSON_DEPTH, nestingBeyond } from "../../../lib/ingest/normalize-payload.ts";
import { HTTP_ENTRIES, directEntries } from "../../support/ingest-entries.ts";
import { httpEvent } from "../../support/http-event.ts";

const TOKEN = "hostile-input-token-0001";
const brackets = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
const objects = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;

describe("deep documents", () => {
  it.each(HTTP_ENTRIES)("%s answers 400 naming the depth, before and after authentication", async (path) => {
    const entries = directEntries({ token: TOKEN });
    for (const [body, headers] of [
      [brackets(5_000), {}],
      [brackets(5_000), { authorization: `Bearer ${TOKEN}` }],
      [objects(100_000), { authorization: `Bearer ${TOKEN}` }],
    ] as const) {
      const answer = await entries.http(httpEvent(body, { path, headers }));
      const text = String(answer.body);
      if (path.startsWith("/v2") && !("authorization" in headers)) {
        // PagerDuty's answer for what it cannot read; the depth is named all the same.
        expect(answer.statusCode).toBe(400);
        expect(text).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
      } else if (path.startsWith("/webhooks") && !("authorization" in headers)) {
        expect(answer.statusCode).toBe(401);
      } else {
        expect(answer.statusCode).toBe(400);
        expect(text).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
      }
    }
    expect(entries.queued).toEqual([]);
  });

  it("a document exactly at the limit is parsed (and judged by the adapter)", async () => {
    const entries = directEntries();
    const answer = await entries.http(httpEvent(`{"alerts":${brackets(MAX_JSON_DEPTH - 1)}}`, { path: "/webhooks/prometheus" }));
    expect(answer.statusCode).toBe(422);
  });

  it("nestingBeyond skips brackets inside strings and escaped quotes", () => {
    expect(nestingBeyond(`{"a":"[[[[\\"[[["}`, 1)).toBe(-1);
    expect(nestingBeyond("[[1]]", 1)).toBe(1);
  });

  it("a direct invocation 100,000 levels deep is refused, not thrown", async () => {
    const entries = directEntries();
    const event = JSON.parse(objects(100_000)) as Record<string, unknown>;
    await expect(entries.invoke("cloudwatch", event)).resolves.toMatchObject({ status: "rejected" });
  });
});

describe("the log excerpt", () => {
  it("is built without recursion and bounded, whatever the depth", () => {
    const value = JSON.parse(objects(100_000)) as unknown;
    const text = excerpt(value);
    expect(text.length).toBeLessThanOrEqual(8193);
    expect(text.startsWith('{"a":{"a":')).toBe(true);
  });

  it("is JSON.stringify's text when small, with credential-named fields redacted", () => {
    const value = { a: [1, "x", null, true, { b: undefined, c: 2 }], n: Number.NaN, routing_key: "k".repeat(32) };
    expect(boundedJson(value, 10_000)).toBe(JSON.stringify({ ...value, routing_key: "(redacted)" }));
  });
});

describe("/v2 strictness and bearer tokens", () => {
  it("refuses a numeric summary and source as PagerDuty does", async () => {
    const entries = directEntries();
    const answer = await entries.http(
      httpEvent(
        JSON.stringify({ routing_key: "r".repeat(32), event_action: "trigger", payload: { summary: 42, source: 7, severity: "info" } }),
        { path: "/v2/enqueue" },
      ),
    );
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(String(answer.body)).errors).toEqual([
      "'payload.summary' is invalid (must be a string)",
      "'payload.source' is invalid (must be a string)",
    ]);
  });

  it.each(HTTP_ENTRIES)("%s refuses `Bearer <token> extra`", async (path) => {
    const entries = directEntries({ token: TOKEN });
    const body = JSON.stringify({
      routing_key: "wrong-key",
      event_action: "trigger",
      payload: { summary: "s", source: "h", severity: "info" },
    });
    const answer = await entries.http(httpEvent(body, { path, headers: { authorization: `Bearer ${TOKEN} extra` } }));
    expect(answer.statusCode).toBe(path.startsWith("/v2") ? 400 : 401);
    expect(entries.queued).toEqual([]);
  });
});
