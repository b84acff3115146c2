/**
 * Pacing: alert-relay never sends PagerDuty more than a budget of events per minute per routing
 * key (PagerDuty takes about 120), however many router instances run. Each routing key has one
 * record in the state table (`pace:<routing key ref>`) counting the events sent per 5-second slot;
 * an event takes its place with one atomic increment of its slot and is admitted when the slots
 * of the last minute (and a little more) hold no more than the budget, else it gives the place
 * back and waits until enough slots have aged out. Racing instances never both take the last
 * place (each sees the other's increment), and nobody retries a lost race. A share of the budget
 * is kept for resolves, acknowledges and group/storm updates, so those get through while new
 * pages wait. A 429 pauses the key for every instance: for Retry-After, or a minute without one.
 *
 * Hand-rolled rather than a library: the limiter must be shared through the state table with
 * single-item writes (dynalite has no transactions), which no limiter package does.
 */
import { KEY_PREFIX } from "../alert/relay-keys.ts";
import type { DeliveryOutcome } from "./router.ts";

/** PagerDuty's own limit is about 120 a minute per key; 100 leaves room for clocks and other senders. */
export const DEFAULT_EVENTS_PER_MINUTE = 100;
/** The share of the budget only priority events (resolves, acknowledges, aggregate updates) may use. */
export const PRIORITY_SHARE = 0.2;
export const PACE_WINDOW_MS = 60_000;
export const SLOT_MS = 5_000;
/** Slots counted: the current one and enough before it to cover any 60 seconds ending now. */
export const SLOTS = PACE_WINDOW_MS / SLOT_MS + 1;
/** Without Retry-After, a 429 pauses the key this long: PagerDuty's rate-limit look-back. */
export const DEFAULT_PAUSE_MS = 60_000;
/** The pacing record of one routing key. */
export interface PaceRecord {
  dedupKey: string;
  recordType: "pace";
  routingKeyRef: string;
  /** Events sent per slot (`s<slot number>`, a slot being SLOT_MS of epoch time). */
  w?: Record<string, number>;
  /** Epoch ms until which PagerDuty asked this key to wait (a 429). */
  pausedUntil?: number;
  perMinute?: number;
  expiresAt?: number;
}

export const paceKey = (routingKeyRef: string) => `${KEY_PREFIX.pace}${routingKeyRef}`;
export const slotOf = (ms: number) => Math.floor(ms / SLOT_MS);
export const slotName = (slot: number) => `s${slot}`;

/** Events counted in the window ending now. */
export function eventsInWindow(w: Record<string, number> | undefined, nowMs: number): number {
  const current = slotOf(nowMs);
  let sum = 0;
  for (let slot = current - SLOTS + 1; slot <= current; slot += 1) sum += w?.[slotName(slot)] ?? 0;
  return sum;
}

export type PaceDecision = { admit: true } | { admit: false; waitMs: number; why: string };

/**
 * Whether an event whose place is already counted in `w` may go now (pure). Normal events may use
 * the budget less the priority share; priority events all of it. Waiting: until enough of the
 * oldest slots have aged out of the window.
 */
export function decidePace(
  record: Pick<PaceRecord, "w" | "pausedUntil"> | undefined,
  nowMs: number,
  perMinute: number,
  priority: boolean,
): PaceDecision {
  if (record?.pausedUntil !== undefined && record.pausedUntil > nowMs) {
    return {
      admit: false,
      waitMs: record.pausedUntil - nowMs,
      why: `PagerDuty answered 429: the routing key is paused until ${new Date(record.pausedUntil).toISOString()}`,
    };
  }
  const limit = priority ? perMinute : Math.max(1, perMinute - Math.ceil(perMinute * PRIORITY_SHARE));
  const sum = eventsInWindow(record?.w, nowMs);
  if (sum <= limit) return { admit: true };
  const current = slotOf(nowMs);
  let freed = 0;
  let slot = current - SLOTS + 1;
  for (; slot < current; slot += 1) {
    freed += record?.w?.[slotName(slot)] ?? 0;
    if (sum - freed <= limit) break;
  }
  const waitMs = Math.max(1, (slot + SLOTS) * SLOT_MS - nowMs);
  return {
    admit: false,
    waitMs,
    why:
      `${sum - 1} events in the last minute, the budget for ` +
      `${priority ? "resolves and updates" : "new pages"} is ${limit} (of ${perMinute})`,
  };
}

export interface Pacer {
  /** Takes a place for one event on the routing key, or says how long to wait. */
  admit(routingKeyRef: string, priority: boolean): Promise<{ admitted: true } | { admitted: false; retryAfterMs: number; reason: string }>;
  /** Pauses the routing key for every instance (after a 429). */
  pause(routingKeyRef: string, ms: number): Promise<void>;
  /** Gives an admitted place back: the event never reached PagerDuty (e.g. the deadline came first). */
  release(routingKeyRef: string, admittedAt: Date): Promise<void>;
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
  now: () => Date = () => new Date(),
): (...args: Args) => Promise<DeliveryOutcome> {
  return async (...args) => {
    const { routingKeyRef, priority } = describe(...args);
    const admittedAt = now();
    const gate = await pacer.admit(routingKeyRef, priority);
    if (!gate.admitted) return { outcome: "retry_later", reason: gate.reason, retryAfterMs: gate.retryAfterMs };
    const result = await send(...args);
    if (result.outcome === "retry_later") {
      if (result.pauseMs !== undefined) await pacer.pause(routingKeyRef, result.pauseMs);
      // Nothing reached PagerDuty: the place goes back, or failed attempts would eat the budget.
      else if (result.attempts === 0) await pacer.release(routingKeyRef, admittedAt);
    }
    return result;
  };
}
