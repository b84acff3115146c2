import { describe, expect, it, vi } from "vitest";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createAdapterHandler } from "../../../lib/handlers/adapter.ts";
import { createTelemetry } from "../../../lib/platform/observability.ts";
import type { NormalizedAlert } from "../../../lib/alert/schema.ts";
import { PublishError } from "../../../lib/publish/sqs-publisher.ts";
import { echoAdapter } from "../../support/echo-adapter.ts";
import { httpEvent } from "../../support/http-event.ts";
import { lambdaContext } from "../../support/lambda-context.ts";

function setup(options: { token?: string; failPublish?: boolean; maxBodyBytes?: number } = {}) {
  const published: NormalizedAlert[][] = [];
  const telemetry = createTelemetry("adapter", { source: "echo" });
  const warn = vi.spyOn(telemetry.logger, "warn");
  const handler = createAdapterHandler(echoAdapter, {
    ...telemetry,
    env: {},
    webhookToken: async () => options.token,
    maxBodyBytes: options.maxBodyBytes,
    now: () => new Date("2026-11-26T18:00:00Z"),
    publisher: {
      async publish(alerts) {
        if (options.failPublish) throw new PublishError(alerts.length, alerts.length, "queue down");
        published.push([...alerts]);
      },
    },
  });
  const call = async (event: Parameters<typeof handler>[0]) => (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  const bodyOf = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(response.body as string) as Record<string, unknown>;
  return { call, bodyOf, published, warn, handler };
}

const good = JSON.stringify({
  alerts: [
    { key: "a", status: "firing" },
    { key: "b", status: "resolved" },
  ],
});

describe("adapter handler over HTTP", () => {
  it("queues every alert and answers 202 with their ids", async () => {
    const { call, bodyOf, published } = setup();
    const response = await call(httpEvent(good));
    expect(response.statusCode).toBe(202);
    expect(published).toHaveLength(1);
    expect(bodyOf(response)).toEqual({ status: "accepted", alerts: 2, ids: published[0]!.map((a) => a.id) });
  });

  it("decodes base64 bodies", async () => {
    const { call, published } = setup();
    expect((await call(httpEvent(good, { base64: true }))).statusCode).toBe(202);
    expect(published[0]!.map((a) => a.dedupKey)).toEqual(["echo:a", "echo:b"]);
  });

  it("answers 401 without detail for a missing or wrong token, and queues nothing", async () => {
    const { call, bodyOf, published, warn } = setup({ token: "s3cret" });
    for (const headers of [{}, { authorization: "Bearer nope" }] as Record<string, string>[]) {
      const response = await call(httpEvent(good, { headers }));
      expect(response.statusCode).toBe(401);
      expect(bodyOf(response)).toEqual({ error: "unauthorized" });
    }
    expect(published).toHaveLength(0);
    expect(warn).toHaveBeenCalledWith("input rejected", expect.objectContaining({ reason: "unauthorized" }));
    expect((await call(httpEvent(good, { headers: { Authorization: "Bearer s3cret" } }))).statusCode).toBe(202);
  });

  it("answers 400 'body is not JSON' and logs the reason", async () => {
    const { call, bodyOf, warn } = setup();
    const response = await call(httpEvent("alert!"));
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toMatchObject({ reason: "not_json", error: expect.stringMatching(/^body is not JSON/) });
    expect(warn).toHaveBeenCalledWith("input rejected", expect.objectContaining({ reason: "not_json", payload: "alert!" }));
  });

  it("answers 413 for a body over the limit", async () => {
    const { call } = setup({ maxBodyBytes: 64 });
    expect((await call(httpEvent(JSON.stringify({ alerts: [], pad: "x".repeat(100) })))).statusCode).toBe(413);
  });

  it("answers 422 naming the field path for JSON of the wrong shape", async () => {
    const { call, bodyOf, published } = setup();
    const response = await call(
      httpEvent(
        JSON.stringify({
          alerts: [
            { key: "a", status: "firing" },
            { key: "", status: "firing" },
          ],
        }),
      ),
    );
    expect(response.statusCode).toBe(422);
    expect(bodyOf(response)).toMatchObject({ reason: "wrong_shape", path: "alerts.1.key" });
    expect(published).toHaveLength(0);
  });

  it("answers 503 when the queue will not take the alerts, so the sender retries", async () => {
    const { call, bodyOf } = setup({ failPublish: true });
    const response = await call(httpEvent(good));
    expect(response.statusCode).toBe(503);
    expect(bodyOf(response).error).toMatch(/retry/);
  });

  it("answers 200 with the notice when the payload carries no alert", async () => {
    const { call, bodyOf, published } = setup();
    const response = await call(httpEvent(JSON.stringify({ notice: "confirm the subscription", alerts: [] })));
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({ status: "ignored", message: "confirm the subscription" });
    expect(published).toHaveLength(0);
  });

  it("logs a notice that comes with alerts (e.g. a truncated Alertmanager group)", async () => {
    const { handler, call } = setup();
    void handler;
    const telemetryInfo = vi.spyOn((await import("@aws-lambda-powertools/logger")).Logger.prototype, "info");
    const response = await call(httpEvent(JSON.stringify({ notice: "3 alerts were left out", alerts: [{ key: "a", status: "firing" }] })));
    expect(response.statusCode).toBe(202);
    expect(telemetryInfo).toHaveBeenCalledWith("adapter notice", { notice: "3 alerts were left out", alerts: 1 });
    telemetryInfo.mockRestore();
  });

  it("answers 405 to anything but POST", async () => {
    const { call } = setup();
    expect((await call(httpEvent(undefined, { method: "GET" }))).statusCode).toBe(405);
  });
});

describe("adapter handler invoked directly", () => {
  it("queues the alerts of an event", async () => {
    const { handler, published } = setup();
    const result = await handler({ alerts: [{ key: "a", status: "firing" }] }, lambdaContext());
    expect(result).toEqual({ status: "accepted", alerts: 1 });
    expect(published[0]!.map((a) => a.dedupKey)).toEqual(["echo:a"]);
  });

  it("reports a malformed event without throwing (a retry cannot fix it) and logs it", async () => {
    const { handler, warn } = setup();
    const result = await handler({ Records: "nope" }, lambdaContext());
    expect(result).toMatchObject({ status: "rejected", alerts: 0 });
    expect(warn).toHaveBeenCalledWith("input rejected", expect.objectContaining({ reason: "wrong_shape", payload: '{"Records":"nope"}' }));
  });

  it("throws when the queue fails, so Lambda's async retries take over", async () => {
    const { handler } = setup({ failPublish: true });
    await expect(handler({ alerts: [{ key: "a", status: "firing" }] }, lambdaContext())).rejects.toThrow(/could not be queued/);
  });
});
