/**
 * Powertools' getSecret, imported on first use. It brings the Secrets Manager client, which only
 * a cold invocation that reads a secret needs (most do not: a duplicate pages nobody), so a cold
 * start does not pay for loading it (issue 15).
 */
import type { getSecret } from "@aws-lambda-powertools/parameters/secrets";

let loading: Promise<typeof getSecret> | undefined;

export function loadGetSecret(): Promise<typeof getSecret> {
  // A failed import is tried again on the next read rather than remembered.
  loading ??= import("@aws-lambda-powertools/parameters/secrets").then(
    (module) => module.getSecret,
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}
