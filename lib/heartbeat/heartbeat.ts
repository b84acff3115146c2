/**
 * Heartbeats (dead man's switch), the pure parts: which declaration an alert beats for, when a
 * heartbeat counts as missing, and the alerts that tell PagerDuty it went missing and came back.
 * The store (lib/state-table/heartbeat-store.ts) keeps one tracker item per heartbeat; the router wrapper and the sweep
 * (monitor.ts) do the I/O. Same inputs, same answers: the tests rely on it.
 */
import { KEY_PREFIX, RELAY_SOURCE } from "../alert/relay-keys.ts";
import { SCHEMA_VERSION, type AlertStatus, type NormalizedAlert } from "../alert/schema.ts";
import { LIMITS, truncate } from "../alert/limits.ts";
import { formatMatcher, matches } from "../matchers/matcher.ts";
import { matchSubject } from "../matchers/subject.ts";
import type { HeartbeatDeclaration } from "../routes/policies.ts";
import { formatDuration } from "../platform/duration.ts";

/** Marks tracker items, which share the state table with problems but are not problems (they have no `status`). */
export const HEARTBEAT_ITEM_TYPE = "heartbeat";
/** The label every "heartbeat missing" alert carries, naming the heartbeat. */
export const HEARTBEAT_LABEL = "heartbeat";

/** The tracker item of a heartbeat in the state table: `heartbeat:<name>`. */
export const trackerKey = (name: string) => `${KEY_PREFIX.heartbeat}${name}`;
/** The problem (and PagerDuty dedup key) of a missing heartbeat: `heartbeat-missing:<name>`. */
export const missingDedupKey = (name: string) => `${KEY_PREFIX.heartbeatMissing}${name}`;

/** A heartbeat's tracker item: what the router and the sweep recorded about its beats. */
export interface HeartbeatRecord {
  dedupKey: string;
  itemType: typeof HEARTBEAT_ITEM_TYPE;
  name: string;
  /** Since when alert-relay has been watching (first beat or first sweep, whichever came first). */
  watchingSince?: string;
  /** The newest beat's time; never moves backwards. */
  lastBeatAt?: string;
  lastBeatAlertId?: string;
  lastBeatSource?: string;
  /** When the router recorded the newest beat. */
  lastBeatRecordedAt?: string;
  /** Beats recorded (duplicates and late copies are not counted). */
  beats?: number;
  /** The declared interval, as the sweep last saw it. */
  intervalMs?: number;
  /** When the sweep last checked this heartbeat. */
  checkedAt?: string;
}

export function isHeartbeatItem(item: unknown): item is HeartbeatRecord {
  return typeof item === "object" && item !== null && (item as { itemType?: unknown }).itemType === HEARTBEAT_ITEM_TYPE;
}

/**
 * The declaration this alert is a beat of (the first that matches), on the same subject as
 * windows and routes. Alerts alert-relay made itself (a "heartbeat missing" alert carries the
 * declaration's labels) never are: a missing heartbeat must not beat for itself.
 */
export function heartbeatFor(declarations: readonly HeartbeatDeclaration[], alert: NormalizedAlert): HeartbeatDeclaration | undefined {
  if (declarations.length === 0 || alert.source === RELAY_SOURCE) return undefined;
  const subject = matchSubject(alert);
  return declarations.find((declaration) => matches(declaration.matchers, subject));
}

/**
 * When a beat happened: when its adapter received it. Not occurredAt: Alertmanager re-sends the
 * always-firing Watchdog with the same startsAt (hours or days old) every repeat_interval, so
 * only the arrival tells one beat from the next. Never later than the router's clock; a
 * redelivered message keeps its receivedAt, so it is the same beat.
 */
export function beatTime(alert: Pick<NormalizedAlert, "receivedAt">, now: Date): string {
  const received = Date.parse(alert.receivedAt);
  return new Date(Number.isNaN(received) ? now.getTime() : Math.min(received, now.getTime())).toISOString();
}

export type HeartbeatStatus =
  | { missing: false; /** no beat yet, still within the first interval */ waiting: boolean; dueBy: string }
  | {
      missing: true;
      /** The moment it went missing: the last beat (or the start of watching) plus the interval. */
      since: string;
      /** How long nothing has come (since the last beat, or since watching began). */
      silentForMs: number;
      lastBeatAt?: string;
    };

/**
 * Missing once a whole interval has passed without a beat: `now - lastBeat >= interval`, or,
 * never having had one, `now - watchingSince >= interval`. Not missing means the next beat is
 * due by `dueBy`.
 */
export function heartbeatStatus(
  record: Pick<HeartbeatRecord, "lastBeatAt" | "watchingSince">,
  intervalMs: number,
  now: Date,
): HeartbeatStatus {
  const from = record.lastBeatAt ?? record.watchingSince ?? now.toISOString();
  const fromMs = Date.parse(from);
  const dueMs = fromMs + intervalMs;
  if (now.getTime() < dueMs) return { missing: false, waiting: record.lastBeatAt === undefined, dueBy: new Date(dueMs).toISOString() };
  return {
    missing: true,
    since: new Date(dueMs).toISOString(),
    silentForMs: now.getTime() - fromMs,
    ...(record.lastBeatAt ? { lastBeatAt: record.lastBeatAt } : {}),
  };
}

/** `2026-11-26T17:55:00Z`: milliseconds are noise at 3 a.m. */
export const isoSeconds = (iso: string) => iso.replace(/\.\d{3}Z$/, "Z");

/** Everything an on-call person may want in the PagerDuty incident's details. */
function heartbeatDetails(
  declaration: HeartbeatDeclaration,
  record: HeartbeatRecord,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    heartbeat: declaration.name,
    ...(declaration.description ? { description: declaration.description } : {}),
    expectedEvery: formatDuration(declaration.intervalMs),
    beatsAre: declaration.matchers.map(formatMatcher),
    ...extra,
    lastBeatAt: record.lastBeatAt ?? null,
    ...(record.lastBeatAlertId ? { lastBeatAlertId: record.lastBeatAlertId } : {}),
    ...(record.lastBeatSource ? { lastBeatSource: record.lastBeatSource } : {}),
    beats: record.beats ?? 0,
    ...(record.watchingSince ? { watchingSince: record.watchingSince } : {}),
  };
}

/** The declaration's labels plus `heartbeat=<name>`, within the contract's bounds. */
export function heartbeatLabels(declaration: HeartbeatDeclaration): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(declaration.labels)) {
    if (name === HEARTBEAT_LABEL || name.length > LIMITS.labelKeyChars) continue;
    if (Object.keys(labels).length >= LIMITS.labels - 1) break;
    labels[name] = truncate(value, LIMITS.labelValueChars);
  }
  labels[HEARTBEAT_LABEL] = declaration.name;
  return labels;
}

function heartbeatAlert(
  declaration: HeartbeatDeclaration,
  status: AlertStatus,
  occurredAt: string,
  now: Date,
  summary: string,
  details: Record<string, unknown>,
): NormalizedAlert {
  const dedupKey = missingDedupKey(declaration.name);
  return {
    schema: SCHEMA_VERSION,
    // One id per episode and status, so a retried or overlapping sweep sends the same event.
    id: `${dedupKey}:${status}:${occurredAt}`.slice(0, LIMITS.idChars),
    source: RELAY_SOURCE,
    dedupKey,
    status,
    severity: declaration.severity,
    occurredAt,
    receivedAt: now.toISOString(),
    summary: truncate(summary, LIMITS.summaryChars),
    sourceHost: RELAY_SOURCE,
    component: declaration.name,
    class: "heartbeat-missing",
    links: [],
    images: [],
    details,
    labels: heartbeatLabels(declaration),
  };
}

/**
 * "No heartbeat from prometheus-watchdog for 7m (expected every 5m); last seen 2026-11-26T17:53:00Z".
 * occurredAt is the moment it went missing, the same for every sweep of one outage, so each
 * sweep's alert is a duplicate of the first and PagerDuty hears one trigger.
 */
export function missingAlert(
  declaration: HeartbeatDeclaration,
  record: HeartbeatRecord,
  status: Extract<HeartbeatStatus, { missing: true }>,
  now: Date,
): NormalizedAlert {
  const every = formatDuration(declaration.intervalMs);
  const silent = formatDuration(status.silentForMs);
  const about = declaration.description ? ` — ${declaration.description}` : "";
  const summary = status.lastBeatAt
    ? `No heartbeat from ${declaration.name} for ${silent} (expected every ${every}); last seen ${isoSeconds(status.lastBeatAt)}${about}`
    : `No heartbeat from ${declaration.name} for ${silent} (expected every ${every}); none seen since ` +
      `alert-relay began watching at ${isoSeconds(record.watchingSince ?? status.since)}${about}`;
  return heartbeatAlert(
    declaration,
    "firing",
    status.since,
    now,
    summary,
    heartbeatDetails(declaration, record, { missingSince: status.since }),
  );
}

/**
 * The resolve once beats are back. occurredAt is the newest beat, unless that is not after the
 * recorded "missing" event (a beat that was already on its way, only processed late): then it is
 * the sweep's clock, so the resolve is always newer than the trigger it ends.
 */
export function backAlert(declaration: HeartbeatDeclaration, record: HeartbeatRecord, missingEventAt: string, now: Date): NormalizedAlert {
  const lastBeatAt = record.lastBeatAt ?? now.toISOString();
  const occurredAt = Date.parse(lastBeatAt) > Date.parse(missingEventAt) ? lastBeatAt : now.toISOString();
  const summary =
    `Heartbeat ${declaration.name} is back: beat at ${isoSeconds(lastBeatAt)} ` +
    `(expected every ${formatDuration(declaration.intervalMs)})`;
  return heartbeatAlert(declaration, "resolved", occurredAt, now, summary, heartbeatDetails(declaration, record, { backAt: lastBeatAt }));
}

/** Where tracker items are kept (lib/state-table/heartbeat-store.ts on the state table). */
export interface Beat {
  /** ISO time of the beat (see beatTime). */
  at: string;
  alertId: string;
  source: string;
}

export interface HeartbeatStore {
  /** Records a beat; false when it is not newer than the last one (a redelivery, a duplicate, a late copy). */
  beat(name: string, beat: Beat, now: Date): Promise<boolean>;
  /** The sweep's check-in: starts watching on first sight, notes the interval; returns the tracker. */
  watch(name: string, intervalMs: number, now: Date): Promise<HeartbeatRecord>;
  get(name: string): Promise<HeartbeatRecord | undefined>;
}
