/** One API Gateway access log line in the stack's format (infra/constructs/ingress.ts), with typical values for an Alertmanager webhook. */
import { ACCESS_LOG_FIELDS } from "../../infra/constructs/ingress.ts";

const TYPICAL: Readonly<Record<string, string>> = {
  "$context.requestId": "Xk3Lq2pYIAMEbQw=",
  "$context.requestTimeEpoch": "1796209200000",
  "$context.identity.sourceIp": "203.0.113.10",
  "$context.routeKey": "POST /webhooks/prometheus",
  "$context.status": "202",
  "$context.responseLatency": "38",
};

/** API Gateway writes "-" for a variable without a value (no integration error, for one). */
export const typicalAccessLogLine = (): string =>
  JSON.stringify(ACCESS_LOG_FIELDS).replace(/\$context\.[\w.]+/g, (variable) => TYPICAL[variable] ?? "-");
