/**
 * When a queue message that must wait comes back. Not after the queue's whole visibility timeout
 * (360 s in the stack: a one-minute PagerDuty blip would delay pages by six), but after a short
 * per-message backoff that grows with each receive up to a cap, and never sooner than PagerDuty's
 * Retry-After. Waiting alone never dead-letters a message: the give-up rule is the message's age.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { loadSqs } from "../platform/lazy-sqs.ts";
import { durationSetting, type Env } from "../platform/settings.ts";

export interface RedeliveryPolicy {
  /** First wait; doubles per receive. */
  baseMs: number;
  /** Longest wait between two tries of one message. */
  maxMs: number;
  /** A message still not done this long after it was first sent goes to the DLQ with its reason. */
  giveUpAfterMs: number;
}

/**
 * The cap is 30 s so that even a lone waiting message tries again within 30 s of PagerDuty's
 * recovery (a crowd of them does within a second or two, and the first through drains the rest);
 * while PagerDuty is down a retry costs one SQS receive, since the router holds a failing key.
 */
export const DEFAULT_REDELIVERY: RedeliveryPolicy = { baseMs: 1_000, maxMs: 30_000, giveUpAfterMs: 6 * 3_600_000 };

/** RETRY_BACKOFF_MAX (default 30s) and GIVE_UP_AFTER (default 6h), written as durations: "90s", "2m", "12h". */
export function redeliveryPolicyFromEnv(env: Env): RedeliveryPolicy {
  return {
    baseMs: DEFAULT_REDELIVERY.baseMs,
    maxMs: durationSetting(env, "RETRY_BACKOFF_MAX", DEFAULT_REDELIVERY.maxMs),
    giveUpAfterMs: durationSetting(env, "GIVE_UP_AFTER", DEFAULT_REDELIVERY.giveUpAfterMs),
  };
}

/**
 * The wait before receive number `receiveCount + 1`: base × 2^(receiveCount − 1) capped at maxMs,
 * jittered into its upper half so a crowd of messages from one outage does not return in step,
 * and at least `retryAfterMs` (whole seconds: SQS counts visibility in seconds).
 */
export function redeliveryDelaySeconds(
  receiveCount: number,
  retryAfterMs: number | undefined,
  policy: RedeliveryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(receiveCount, 1) - 1, 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  const wait = Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return Math.max(1, Math.ceil(wait / 1000));
}

/** A Retry-After beyond this is not believed (SQS allows up to 12 h, but nothing we send should wait that long). */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Sets how long until a received message is visible again. */
export type RedeliverIn = (receiptHandle: string, seconds: number) => Promise<void>;

export function createSqsRedeliverIn(sqs: Pick<SQSClient, "send">, queueUrl: string): RedeliverIn {
  return async (receiptHandle, seconds) => {
    const { ChangeMessageVisibilityCommand } = await loadSqs();
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
  };
}
