import { describe, expect, it } from "vitest";
import { requestTime, toApiGatewayEvent, type RequestFacts } from "../../../lib/local/api-gateway-event.ts";

const request = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  method: "POST",
  url: "/webhooks/prometheus",
  headers: { host: "127.0.0.1:3000", "content-type": "application/json", "user-agent": "curl/8" },
  body: Buffer.from('{"alerts":[]}'),
  sourceIp: "127.0.0.1",
  httpVersion: "1.1",
  ...overrides,
});
const at = new Date("2026-11-26T18:00:00Z");

describe("HTTP request → API Gateway HTTP API event (payload 2.0)", () => {
  it("carries method, path, route, JSON body as text, and a request context", () => {
    const event = toApiGatewayEvent(request(), "POST /webhooks/prometheus", at);
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "POST /webhooks/prometheus",
      rawPath: "/webhooks/prometheus",
      rawQueryString: "",
      body: '{"alerts":[]}',
      isBase64Encoded: false,
      requestContext: {
        http: { method: "POST", path: "/webhooks/prometheus", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "curl/8" },
        routeKey: "POST /webhooks/prometheus",
        stage: "$default",
        domainName: "127.0.0.1:3000",
        time: "26/Nov/2026:18:00:00 +0000",
        timeEpoch: at.getTime(),
      },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.queryStringParameters).toBeUndefined();
  });

  it("joins repeated headers and query parameters with commas and splits cookies out", () => {
    const event = toApiGatewayEvent(
      request({ url: "/webhooks/x?a=1&a=2&b=x%20y", headers: { "x-tag": ["one", "two"], cookie: "s=1; t=2", authorization: "Bearer t" } }),
      "POST /webhooks/x",
      at,
    );
    expect(event.headers).toEqual({ "x-tag": "one,two", authorization: "Bearer t" });
    expect(event.cookies).toEqual(["s=1", "t=2"]);
    expect(event.rawQueryString).toBe("a=1&a=2&b=x%20y");
    expect(event.queryStringParameters).toEqual({ a: "1,2", b: "x y" });
  });

  it("base64-encodes a body that is not text, and leaves an empty body out", () => {
    const binary = toApiGatewayEvent(
      request({ headers: { "content-type": "application/octet-stream" }, body: Buffer.from([0xff, 0x00]) }),
      "POST /webhooks/x",
      at,
    );
    expect(binary).toMatchObject({ isBase64Encoded: true, body: "/wA=" });
    const empty = toApiGatewayEvent(request({ body: Buffer.alloc(0) }), "POST /webhooks/x", at);
    expect(empty.body).toBeUndefined();
    expect(empty.isBase64Encoded).toBe(false);
  });

  it("formats requestContext.time as API Gateway does", () => {
    expect(requestTime(new Date("2026-01-05T03:04:05.678Z"))).toBe("05/Jan/2026:03:04:05 +0000");
  });
});
