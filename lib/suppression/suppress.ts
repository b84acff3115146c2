/**
 * Whether a window suppresses an alert right now. Pure: the caller passes the time, so the
 * router, the CLI ("what would this window catch?") and tests agree on every boundary.
 */
import type { MatchableAlert } from "../matchers/subject.ts";
import { matchSubject } from "../matchers/subject.ts";
import { matches } from "../matchers/matcher.ts";
import { scheduleNextOccurrence, scheduleOccurrenceAt } from "./schedule.ts";
import type { SuppressionWindow } from "./window-item.ts";

/**
 * A recurring window between occurrences is "pending" (nextOccurrence says when), and
 * "expired" once no occurrence is left before its endsAt: one state set for both kinds, so the
 * router, `suppress list` and the sweep cannot disagree.
 */
export type WindowState = "active" | "pending" | "expired" | "disabled";

/** A stretch during which a window suppresses; no `end` = until disabled. */
export interface Suppressing {
  readonly start?: Date;
  readonly end?: Date;
}

/**
 * Like an Alertmanager silence: active from startsAt (inclusive) until endsAt (exclusive), and
 * for a recurring window only during its schedule's occurrences within those bounds.
 */
export function windowState(window: SuppressionWindow, now: Date): WindowState {
  if (!window.enabled) return "disabled";
  if (!window.schedule) {
    if (window.startsAt && now < window.startsAt) return "pending";
    if (window.endsAt && now >= window.endsAt) return "expired";
    return "active";
  }
  if (currentOccurrence(window, now)) return "active";
  return nextOccurrence(window, now) ? "pending" : "expired";
}

const clip = (end: Date, bound: Date | undefined) => (bound && bound < end ? bound : end);

/** The stretch of suppression `now` is in (enabled is not considered), or undefined when the window does not suppress at `now`. */
export function currentOccurrence(window: SuppressionWindow, now: Date): Suppressing | undefined {
  const { startsAt, endsAt, schedule } = window;
  if ((startsAt && now < startsAt) || (endsAt && now >= endsAt)) return undefined;
  if (!schedule) return { ...(startsAt && { start: startsAt }), ...(endsAt && { end: endsAt }) };
  const occurrence = scheduleOccurrenceAt(schedule, now);
  if (!occurrence) return undefined;
  return { start: startsAt && startsAt > occurrence.start ? startsAt : occurrence.start, end: clip(occurrence.end, endsAt) };
}

/**
 * When the suppression in progress at `now` stops: the current occurrence's end for a recurring
 * window (so the sweep looks at what it held back then), endsAt otherwise. Undefined when it is
 * open-ended or the window does not suppress at `now`.
 */
export function currentOccurrenceEnd(window: SuppressionWindow, now: Date): Date | undefined {
  return currentOccurrence(window, now)?.end;
}

/** The next stretch of suppression that starts after `now` (enabled is not considered), or undefined when there is none. */
export function nextOccurrence(window: SuppressionWindow, now: Date): Suppressing | undefined {
  const { startsAt, endsAt, schedule } = window;
  const beforeEnd = (start: Date) => !endsAt || start < endsAt;
  if (!schedule) return startsAt && startsAt > now && beforeEnd(startsAt) ? { start: startsAt, ...(endsAt && { end: endsAt }) } : undefined;
  if (startsAt && startsAt > now) {
    // Written in the middle of an occurrence: it starts suppressing at startsAt, not at the occurrence after.
    const first = scheduleOccurrenceAt(schedule, startsAt) ?? scheduleNextOccurrence(schedule, startsAt);
    if (!first) return undefined;
    const start = first.start > startsAt ? first.start : startsAt;
    return beforeEnd(start) ? { start, end: clip(first.end, endsAt) } : undefined;
  }
  const next = scheduleNextOccurrence(schedule, now);
  return next && beforeEnd(next.start) ? { start: next.start, end: clip(next.end, endsAt) } : undefined;
}

/**
 * The active window whose matchers all match the alert, or undefined. When several match, the
 * one with the smallest id wins whatever order the table returned them in, so every router
 * instance names the same window in its logs.
 */
export function findSuppressingWindow(
  windows: readonly SuppressionWindow[],
  alert: MatchableAlert,
  now: Date,
): SuppressionWindow | undefined {
  const subject = matchSubject(alert);
  let found: SuppressionWindow | undefined;
  for (const window of windows) {
    if (found && window.id >= found.id) continue;
    // Matchers first: they are cheap, and most windows do not match most alerts.
    if (window.enabled && matches(window.matchers, subject) && currentOccurrence(window, now)) found = window;
  }
  return found;
}
