/** Builds the API Gateway HTTP API v2 event a webhook call becomes (also what the local server builds). */
import type { APIGatewayProxyEventV2 } from "aws-lambda";

export function httpEvent(
  body: string | undefined,
  options: { method?: string; headers?: Record<string, string>; path?: string; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const path = options.path ?? "/webhooks/test";
  const method = options.method ?? "POST";
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json", ...options.headers },
    isBase64Encoded: options.base64 ?? false,
    body: options.base64 && body !== undefined ? Buffer.from(body).toString("base64") : body,
    requestContext: {
      accountId: "123456789012",
      apiId: "local",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: "req-1",
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: "26/Nov/2026:18:00:00 +0000",
      timeEpoch: Date.parse("2026-11-26T18:00:00Z"),
    },
  };
}
