/**
 * Pacing: alert-relay never sends PagerDuty more than a budget of events per minute per routing
 * key (PagerDuty takes about 120), however many router instances run. Each routing key has one
 * record in the state table (`pace:<routing key ref>`) with the times of the events sent in the
 * last minute; an event is admitted by a conditional write on that record's version, so two
 * instances never both take the last place. A share of the budget is kept for resolves,
 * acknowledges and group/storm updates, so those get through while new pages are being held.
 * A 429 pauses the key for every instance: for Retry-After, or a minute without one.
 *
 * Hand-rolled rather than a library: the limiter must be shared through the state table with
 * single-item conditional writes (dynalite has no transactions), which no limiter package does.
 */
import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { KEY_PREFIX } from "../alert/relay-keys.ts";
import { conditionalUpdate } from "./state-store.ts";
import type { DeliveryOutcome } from "./router.ts";

/** PagerDuty's own limit is about 120 a minute per key; 100 leaves room for clocks and other senders. */
export const DEFAULT_EVENTS_PER_MINUTE = 100;
/** The share of the budget only priority events (resolves, acknowledges, aggregate updates) may use. */
export const PRIORITY_SHARE = 0.2;
export const PACE_WINDOW_MS = 60_000;
/** Without Retry-After, a 429 pauses the key this long: PagerDuty's rate-limit look-back. */
export const DEFAULT_PAUSE_MS = 60_000;
/** Events waiting for room come back spread over this much more time, so they do not all return at once. */
const SPREAD_MS = { normal: 10_000, priority: 2_000 };
/** Admission attempts against racing instances before the event waits a little instead. */
const ATTEMPTS = 5;

/** The pacing record of one routing key. */
export interface PaceRecord {
  dedupKey: string;
  recordType: "pace";
  routingKeyRef: string;
  /** Epoch ms of the events admitted in the last minute, oldest first. */
  sent?: number[];
  /** Epoch ms until which PagerDuty asked this key to wait (a 429). */
  pausedUntil?: number;
  perMinute?: number;
  version?: number;
  expiresAt?: number;
}

export const paceKey = (routingKeyRef: string) => `${KEY_PREFIX.pace}${routingKeyRef}`;

export type PaceDecision = { admit: true; sent: number[] } | { admit: false; waitMs: number; why: string };

/**
 * Whether one more event may go now (pure). Normal events may use the budget less the priority
 * share; priority events all of it. Waiting: until enough of the last minute's events age out.
 */
export function decidePace(record: Pick<PaceRecord, "sent" | "pausedUntil"> | undefined, nowMs: number, perMinute: number, priority: boolean): PaceDecision {
  if (record?.pausedUntil !== undefined && record.pausedUntil > nowMs) {
    return { admit: false, waitMs: record.pausedUntil - nowMs, why: `PagerDuty answered 429: the routing key is paused until ${new Date(record.pausedUntil).toISOString()}` };
  }
  const recent = (record?.sent ?? []).filter((at) => at > nowMs - PACE_WINDOW_MS && at <= nowMs).sort((a, b) => a - b);
  const limit = priority ? perMinute : Math.max(1, perMinute - Math.ceil(perMinute * PRIORITY_SHARE));
  if (recent.length < limit) return { admit: true, sent: [...recent, nowMs] };
  const waitMs = Math.max(1, recent[recent.length - limit]! + PACE_WINDOW_MS - nowMs);
  return { admit: false, waitMs, why: `${recent.length} events in the last minute, the budget for ${priority ? "resolves and updates" : "new pages"} is ${limit} (of ${perMinute})` };
}

export interface Pacer {
  /** Takes a place for one event on the routing key, or says how long to wait. */
  admit(routingKeyRef: string, priority: boolean): Promise<{ admitted: true } | { admitted: false; retryAfterMs: number; reason: string }>;
  /** Pauses the routing key for every instance (after a 429). */
  pause(routingKeyRef: string, ms: number): Promise<void>;
}

export interface PacerOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  perMinute?: number;
  now?: () => Date;
  random?: () => number;
}

export function createPacer(options: PacerOptions): Pacer {
  const { doc, tableName } = options;
  const perMinute = options.perMinute ?? DEFAULT_EVENTS_PER_MINUTE;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const update = conditionalUpdate(doc, tableName);
  const expiresAt = (nowMs: number) => Math.floor(nowMs / 1000) + 3600;

  return {
    async admit(routingKeyRef, priority) {
      const key = paceKey(routingKeyRef);
      let last: Extract<PaceDecision, { admit: false }> | undefined;
      for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
        const nowMs = now().getTime();
        const read = await doc.send(new GetCommand({ TableName: tableName, Key: { dedupKey: key }, ConsistentRead: true }));
        const record = read.Item as PaceRecord | undefined;
        const decision = decidePace(record, nowMs, perMinute, priority);
        if (!decision.admit) {
          last = decision;
          break;
        }
        const version = record?.version;
        const written = await update({
          Key: { dedupKey: key },
          UpdateExpression: "SET sent = :sent, version = :next, recordType = :type, routingKeyRef = :ref, perMinute = :perMinute, expiresAt = :expiresAt",
          ConditionExpression: version === undefined ? "attribute_not_exists(version)" : "version = :version",
          ExpressionAttributeValues: {
            ":sent": decision.sent,
            ":next": (version ?? 0) + 1,
            ":type": "pace",
            ":ref": routingKeyRef,
            ":perMinute": perMinute,
            ":expiresAt": expiresAt(nowMs),
            ...(version === undefined ? {} : { ":version": version }),
          },
        });
        if (written) return { admitted: true };
      }
      const waitMs = last?.waitMs ?? 500;
      const spread = Math.floor(random() * (priority ? SPREAD_MS.priority : SPREAD_MS.normal));
      return { admitted: false, retryAfterMs: waitMs + spread, reason: `paced: routing key '${routingKeyRef}' waits: ${last?.why ?? "other router instances took the places first"}` };
    },

    async pause(routingKeyRef, ms) {
      const nowMs = now().getTime();
      const until = nowMs + ms;
      await update({
        Key: { dedupKey: paceKey(routingKeyRef) },
        UpdateExpression: "SET pausedUntil = :until, recordType = :type, routingKeyRef = :ref, expiresAt = :expiresAt",
        ConditionExpression: "attribute_not_exists(pausedUntil) OR pausedUntil < :until",
        ExpressionAttributeValues: { ":until": until, ":type": "pace", ":ref": routingKeyRef, ":expiresAt": expiresAt(until) },
      });
    },
  };
}

/**
 * A PagerDuty sender that asks the pacer first: over budget it answers retry_later with how long
 * to wait (the message comes back then), and a 429 pauses the key for every instance. One
 * wrapper for alert events, change events and acknowledges: all count against the same budget.
 */
export function paced<Args extends unknown[]>(
  pacer: Pacer,
  send: (...args: Args) => Promise<DeliveryOutcome>,
  describe: (...args: Args) => { routingKeyRef: string; priority: boolean },
): (...args: Args) => Promise<DeliveryOutcome> {
  return async (...args) => {
    const { routingKeyRef, priority } = describe(...args);
    const gate = await pacer.admit(routingKeyRef, priority);
    if (!gate.admitted) return { outcome: "retry_later", reason: gate.reason, retryAfterMs: gate.retryAfterMs };
    const result = await send(...args);
    if (result.outcome === "retry_later" && result.pauseMs !== undefined) await pacer.pause(routingKeyRef, result.pauseMs);
    return result;
  };
}
