/**
 * Whether a window suppresses an alert right now. Pure: the caller passes the time, so the
 * router, the CLI ("what would this window catch?") and tests agree on every boundary.
 */
import type { MatchableAlert } from "../matchers/subject.ts";
import { matchSubject } from "../matchers/subject.ts";
import { matches } from "../matchers/matcher.ts";
import type { SuppressionWindow } from "./window-item.ts";

export type WindowState = "active" | "pending" | "expired" | "disabled";

/** Like an Alertmanager silence: active from startsAt (inclusive) until endsAt (exclusive). */
export function windowState(window: SuppressionWindow, now: Date): WindowState {
  if (!window.enabled) return "disabled";
  if (window.startsAt && now < window.startsAt) return "pending";
  if (window.endsAt && now >= window.endsAt) return "expired";
  return "active";
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
    if (windowState(window, now) === "active" && matches(window.matchers, subject)) found = window;
  }
  return found;
}
