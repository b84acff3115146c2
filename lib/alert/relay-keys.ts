/**
 * Dedup keys alert-relay keeps for its own records in the state table (group and storm incidents,
 * storm counters, heartbeats, the full alert kept beside a problem's small state item). Only alerts of its own (source "alert-relay") may
 * use them: an
 * alert from outside with such a key would resolve a storm incident or silence a dead man's
 * switch. The contract refuses it on both sides of the queue; the Events API ingest answers 400.
 */
export const RELAY_SOURCE = "alert-relay";

export const KEY_PREFIX = {
  group: "group:",
  storm: "storm:",
  rate: "rate:",
  pace: "pace:",
  heartbeat: "heartbeat:",
  heartbeatMissing: "heartbeat-missing:",
  alertBody: "alert-body:",
} as const;

/** The reserved prefix the key starts with, if any. */
export function reservedPrefixOf(dedupKey: string): string | undefined {
  return Object.values(KEY_PREFIX).find((prefix) => dedupKey.startsWith(prefix));
}
