/**
 * Webhook authentication with one shared secret. Accepts `Authorization: Bearer <token>`
 * (Alertmanager's `authorization`, Datadog's custom header) and HTTP Basic with the token as the
 * password (Alertmanager's `basic_auth`, SNS HTTPS subscriptions, which can only send Basic).
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** Compares digests, so neither the token's content nor its length leaks through timing. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** `<scheme> <credentials>` and nothing else: `Bearer <token> extra` is not the token. */
const AUTHORIZATION = /^(\S+) +(\S+)$/;

export function isAuthorized(authorizationHeader: string | undefined, expectedToken: string): boolean {
  const parts = authorizationHeader ? AUTHORIZATION.exec(authorizationHeader.trim()) : null;
  if (!parts) return false;
  const [, scheme = "", credentials = ""] = parts;
  switch (scheme.toLowerCase()) {
    case "bearer":
      return sameSecret(credentials, expectedToken);
    case "basic": {
      // Strict base64: Buffer.from would skip junk characters and decode the rest.
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(credentials)) return false;
      const decoded = Buffer.from(credentials, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      return colon >= 0 && sameSecret(decoded.slice(colon + 1), expectedToken);
    }
    default:
      return false;
  }
}
