/**
 * Where the webhook's shared secret comes from: `WEBHOOK_TOKEN` locally, a Secrets Manager secret
 * named by `WEBHOOK_TOKEN_SECRET` in AWS (read at run time and cached, never in the template).
 * Neither set means authentication is off, which the handler logs once at start.
 */
import { loadGetSecret } from "../platform/lazy-secrets.ts";
import { rememberSecret } from "../platform/redact.ts";
import { sharedFetch } from "../platform/shared-fetch.ts";

export type WebhookTokenSource = () => Promise<string | undefined>;

/** Cached for five minutes: a rotated token takes effect without a redeploy. */
const SECRET_MAX_AGE_SECONDS = 300;

export function webhookTokenFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  fetchSecret: (name: string, options: { maxAge: number }) => Promise<unknown> = async (name, options) =>
    (await loadGetSecret())(name, options),
): WebhookTokenSource {
  const inline = env.WEBHOOK_TOKEN;
  // The token is remembered by the redaction rule as soon as it is known: it never reaches a log.
  rememberSecret(inline);
  if (inline) return async () => inline;
  const secretName = env.WEBHOOK_TOKEN_SECRET;
  if (secretName) {
    // Concurrent cold requests share one fetch (Powertools caches only once a value has arrived).
    const read = sharedFetch((name) => fetchSecret(name, { maxAge: SECRET_MAX_AGE_SECONDS }), { isMissing: () => false });
    return async () => {
      const value = await read(secretName);
      if (typeof value !== "string" || value.trim() === "") {
        throw new Error(
          `secret ${secretName} holds no webhook token; put one in with: aws secretsmanager ` +
            `put-secret-value --secret-id ${secretName} --secret-string <token>`,
        );
      }
      rememberSecret(value);
      return value.trim();
    };
  }
  return async () => undefined;
}
