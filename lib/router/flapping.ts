/**
 * Flapping: a problem whose state keeps changing would page, resolve and page again. Once it has
 * changed state more than `changes` times within `within`, its resolve is held until it has
 * stayed resolved for `stableFor`; the incident stays open through the flapping and is resolved
 * once, instead of a page for every bounce.
 */
import type { FlappingPolicy } from "../routes/policies.ts";

/** How many recent change times a problem keeps at least (up to twice as many between trims): enough for any allowed threshold. */
export const MAX_RECORDED_CHANGES = 24;

/** Changes (transition times) within `withinMs` before `at`, including `at` itself. */
export function recentChanges(changes: readonly string[] | undefined, at: Date, withinMs: number): number {
  if (!changes) return 0;
  const since = at.getTime() - withinMs;
  let count = 0;
  for (const change of changes) {
    const time = Date.parse(change);
    if (time > since && time <= at.getTime()) count += 1;
  }
  return count;
}

/** True when the problem changed state more than `policy.changes` times in the window ending at its last change. */
export function isFlapping(changes: readonly string[] | undefined, lastChangeAt: Date, policy: FlappingPolicy): boolean {
  return recentChanges(changes, lastChangeAt, policy.withinMs) > policy.changes;
}

/** When a held resolve may go out: `stableFor` after the resolve, if nothing changed since. */
export function holdUntil(resolvedAt: Date, policy: FlappingPolicy): Date {
  return new Date(resolvedAt.getTime() + policy.stableMs);
}
