/**
 * Powertools' getSecret, imported on first use. It brings the Secrets Manager client, which only
 * a cold invocation that reads a secret needs (most do not: a duplicate pages nobody), so a cold
 * start does not pay for loading it (issue 15).
 */
import { onFirstUse } from "./on-first-use.ts";

export const loadGetSecret = onFirstUse(async () => (await import("@aws-lambda-powertools/parameters/secrets")).getSecret);
