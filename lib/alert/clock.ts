/**
 * Bounded trust in source clocks. Source timestamps order a problem's events, so one from the
 * future would make every later real event "older" and lock the problem in that state (a firing
 * stamped 2099 would never resolve). A time more than the allowed skew ahead of when the alert
 * was received is replaced by the receive time; what the source said is kept in the details.
 */
import type { NormalizedAlert } from "./schema.ts";

export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

/** The detail that keeps a clamped source time. */
export const SOURCE_TIME_DETAIL = "sourceOccurredAt";

export function boundSourceClock(alert: NormalizedAlert, maxSkewMs: number, now: Date): NormalizedAlert {
  // The receive time is our own clock, but an adapter's clock can be ahead of the router's too.
  const reference = Math.min(Date.parse(alert.receivedAt), now.getTime());
  if (!(Date.parse(alert.occurredAt) > reference + maxSkewMs)) return alert;
  return { ...alert, occurredAt: new Date(reference).toISOString(), details: { ...alert.details, [SOURCE_TIME_DETAIL]: alert.occurredAt } };
}
