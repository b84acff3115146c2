/**
 * An incoming HTTP request as API Gateway's HTTP API (payload format 2.0) hands it to Lambda, so
 * the adapter handler sees locally exactly what it sees in AWS: lower-case headers, cookies split
 * out, repeated query parameters joined with commas, binary bodies base64-encoded.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

export interface RequestFacts {
  method: string;
  /** Path and query as received, e.g. `/webhooks/prometheus?x=1`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
  httpVersion: string;
}

/** What API Gateway passes through as text; every other body arrives base64-encoded. */
const TEXT_CONTENT =
  /^(text\/[^;]*|application\/([\w.+-]*\+)?(json|xml)|application\/javascript|application\/x-www-form-urlencoded)\s*(;|$)/i;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `26/Nov/2026:18:00:00 +0000`, the format of requestContext.time. */
export function requestTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}`;
  return `${day}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

export function toApiGatewayEvent(request: RequestFacts, routeKey: string, now: Date = new Date()): APIGatewayProxyEventV2 {
  const [rawPath = "/", rawQueryString = ""] = splitOnce(request.url, "?");
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === "cookie") {
      cookies = String(value).split(/;\s*/).filter(Boolean);
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query = queryParameters(rawQueryString);
  const host = headers.host ?? "localhost";
  const text = request.body.length === 0 || TEXT_CONTENT.test(headers["content-type"] ?? "");
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: "123456789012",
      apiId: "local",
      domainName: host,
      domainPrefix: host.split(".")[0] ?? host,
      http: {
        method: request.method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: !text,
  };
  if (request.body.length > 0) event.body = text ? request.body.toString("utf8") : request.body.toString("base64");
  if (cookies) event.cookies = cookies;
  if (query) event.queryStringParameters = query;
  return event;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (!rawQueryString) return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return parameters;
}
