/**
 * What the local stack assumes when nobody says otherwise. Timings are shorter than in AWS
 * (lib/handlers/pipeline.ts) where waiting minutes would make trying things by hand painful.
 */
import { PIPELINE } from "../handlers/pipeline.ts";

export const LOCAL_REGION = "us-east-1";
/** The emulators check that requests are signed, not by whom. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;
export const LOCAL_HOST = "127.0.0.1";

export const LOCAL_DEFAULTS = {
  port: 3000,
  /** 360 s in AWS; locally a failed delivery should come back while someone is still watching. */
  visibilityTimeoutSeconds: 30,
  sweepIntervalSeconds: 15,
  /**
   * local-aws-sqs holds a receive until it has MaxNumberOfMessages or the wait ends, keeping the
   * messages it already took invisible meanwhile (real SQS answers as soon as one is there).
   * A 0 s wait makes it answer within ~40 ms with what it has, which is what Lambda's poller gets.
   */
  pollWaitSeconds: 0,
  /** Lambda's SQS event source starts with five concurrent pollers. */
  maxPollers: 5,
  /** An adapter Lambda's timeout; the handler itself needs milliseconds. */
  adapterTimeoutMs: 10_000,
  sweepTimeoutMs: PIPELINE.routerTimeoutSeconds * 1000,
} as const;

/**
 * Lambda keeps a margin of its timeout for confirming and answering (3 s of 60 s); locally the
 * router timeout can be a second, so the margin scales with it instead of swallowing it.
 */
export function routerSafetyMarginMs(routerTimeoutMs: number): number {
  return Math.min(3_000, Math.floor(routerTimeoutMs / 4));
}

/**
 * The router must finish a batch before its messages become visible again: a second receive
 * while the first is still delivering would see the live claim, call it "in flight" and delete
 * the message. Lambda gets this from visibility = 6 × timeout; locally half the visibility.
 */
export function defaultRouterTimeoutMs(visibilityTimeoutSeconds: number): number {
  return Math.min(PIPELINE.routerTimeoutSeconds * 1000, Math.floor((visibilityTimeoutSeconds * 1000) / 2));
}

/**
 * Powertools reads its settings from the process environment when a logger or metrics object is
 * made, so these are filled in there (never overriding what is set): no EMF blobs on the
 * console, warnings and errors only, and LOG_LEVEL as the one knob a person remembers.
 */
export function applyProcessDefaults(env: NodeJS.ProcessEnv = process.env): void {
  env.POWERTOOLS_METRICS_DISABLED ??= "true";
  if (env.LOG_LEVEL?.trim()) env.POWERTOOLS_LOG_LEVEL = env.LOG_LEVEL.trim().toUpperCase();
  else env.POWERTOOLS_LOG_LEVEL ||= "WARN";
}
