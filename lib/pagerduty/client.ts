/**
 * Delivers events to PagerDuty's Events API v2 within a caller's deadline.
 *
 * One retry loop serves alert and change events: 429, 5xx, timeouts and network errors are
 * retried with exponential backoff and full jitter, bounded by max attempts and by the deadline;
 * 400 and the other 4xx are never retried. What cannot be delivered in time comes back as
 * `retry_later` so the caller (the router) can leave the message on the queue, and eventually
 * the DLQ, instead of losing it. A 429 closes a per-routing-key gate on this client instance so
 * concurrent sends to a throttled key wait or give up instead of hammering PagerDuty.
 */
import { randomUUID } from "node:crypto";
import { ALERT_EVENTS_PATH, CHANGE_EVENTS_PATH, maskRoutingKey, type PagerDutyAlertEvent, type PagerDutyChangeEvent } from "./payloads.ts";

export { ALERT_EVENTS_PATH, CHANGE_EVENTS_PATH };

export interface Accepted {
  outcome: "accepted";
  /** An earlier attempt got no answer (timeout, reset): it may still be processed, after this one. */
  uncertain?: true;
  /** The key PagerDuty filed the event under (its answer, else the key that was sent). */
  dedupKey: string;
  attempts: number;
  /** From the call to send() until PagerDuty accepted, including backoff and rate-limit waits. */
  latencyMs: number;
}

export interface Rejected {
  outcome: "rejected";
  /** 400 for an invalid event, or another 4xx (except 429); never retried, since resending cannot help. */
  status: number;
  message: string;
  errors: string[];
  attempts: number;
}

export interface RetryLater {
  outcome: "retry_later";
  /** Some attempt got no answer (timeout, reset after sending): PagerDuty may have it, or get it late. */
  uncertain?: true;
  /** The last failure, e.g. "429 rate limited", "503 from PagerDuty", "timeout after 5000 ms", "ECONNRESET". */
  reason: string;
  /**
   * Why the client stopped: it used every attempt, the next wait or attempt would have passed the deadline, or the event was no longer
   * wanted.
   */
  stoppedBy: "max_attempts" | "deadline" | "outdated";
  /** When PagerDuty (Retry-After) or the routing key's rate-limit gate says a retry could succeed. */
  retryAfterMs?: number;
  /** Set when the last answer was a 429, with its Retry-After if it had one: for pausing the key beyond this client. */
  rateLimited?: { retryAfterMs?: number };
  attempts: number;
}

export type DeliveryResult = Accepted | Rejected | RetryLater;
/** Change events have no dedup key; otherwise they are delivered exactly like alert events. */
export type ChangeDeliveryResult = Omit<Accepted, "dedupKey"> | Rejected | RetryLater;

export interface SendOptions {
  /** Epoch ms by which send() must have returned, e.g. Lambda's remaining time minus a safety margin. */
  deadline: number;
  /**
   * Asked before each retry: false means the event is no longer wanted (the problem changed while
   * it was failing, e.g. a resolve arrived), so the send stops with `outdated` instead of sending it.
   */
  stillWanted?: () => Promise<boolean>;
}

/** What the router depends on; tests of the router can hand it a stub. */
export interface PagerDutyClient {
  send(event: PagerDutyAlertEvent, opts: SendOptions): Promise<DeliveryResult>;
  sendChange(event: PagerDutyChangeEvent, opts: SendOptions): Promise<ChangeDeliveryResult>;
}

export interface PagerDutyClientOptions {
  /** Events API base URL, normally eventsEndpoint(); the client appends the API path. */
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** In [0, 1); drives the backoff jitter. */
  random?: () => number;
  /** Attempts per send, the first one included. Default 5. */
  maxAttempts?: number;
  /** Backoff ceiling before jitter for the first retry; doubles per retry. Default 500 ms. */
  baseDelayMs?: number;
  /** Largest backoff ceiling. Default 8000 ms. */
  maxDelayMs?: number;
  /**
   * Per-request timeout, further capped by the time left before the deadline. Default 10000 ms:
   * PagerDuty answers in well under a second, and a request abandoned early is one whose fate is
   * unknown (it may be processed later), so the timeout leaves a slow PagerDuty room to answer.
   */
  requestTimeoutMs?: number;
  /** An attempt is not started with less time than this before the deadline. Default 250 ms. */
  minAttemptMs?: number;
  /** How long a routing key is held back after its first 429 (without Retry-After); doubles per further 429. Default 1000 ms. */
  rateLimitBaseMs?: number;
  /** Longest hold on a routing key. Default 60000 ms, PagerDuty's rate-limit look-back. */
  rateLimitMaxMs?: number;
  /**
   * After a send gives up on 5xx, timeouts or network errors, hold its routing key this long
   * (doubling per further failed send, up to rateLimitMaxMs) so other sends to it fail fast
   * instead of each spending its deadline on a PagerDuty that is down. Default 0: no hold.
   */
  holdAfterFailureMs?: number;
  /** Longest such hold: one send per key probes PagerDuty this often while it is down. Default 5000 ms. */
  holdAfterFailureMaxMs?: number;
  /**
   * Request timeout while a routing key's last request timed out, until one succeeds: a probe of a
   * hanging PagerDuty should not tie up its caller for the full timeout each time. Default: requestTimeoutMs.
   */
  probeTimeoutMs?: number;
  /**
   * Requests to one routing key awaiting an answer at once (per client); a send waits up to maxGateWaitMs for a place. Default: no limit.
   */
  maxInFlightPerKey?: number;
  /**
   * A send waits for a held key at most this long; beyond it, it returns retry_later at once with the hint. Default: until the deadline.
   */
  maxGateWaitMs?: number;
}

const DEFAULTS = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  requestTimeoutMs: 10_000,
  minAttemptMs: 250,
  rateLimitBaseMs: 1000,
  rateLimitMaxMs: 60_000,
  holdAfterFailureMs: 0,
  holdAfterFailureMaxMs: 5_000,
  probeTimeoutMs: Number.POSITIVE_INFINITY,
  maxInFlightPerKey: Number.POSITIVE_INFINITY,
  maxGateWaitMs: Number.POSITIVE_INFINITY,
};

type AttemptOutcome =
  | { kind: "accepted"; body: unknown }
  | { kind: "rejected"; status: number; message: string; errors: string[] }
  | { kind: "retryable"; reason: string; rateLimited: boolean; retryAfterMs?: number; uncertain?: boolean };

/** Hold on one routing key after 429s: no request before notBefore. */
interface KeyGate {
  notBefore: number;
  strikes: number;
  /** What closed it, for the reason a held-back send gives: "429 rate limited" or the last failure. */
  cause: string;
}

export function createPagerDutyClient(options: PagerDutyClientOptions): PagerDutyClient {
  const config = { ...DEFAULTS, ...definedOnly(options) };
  if (!Number.isInteger(config.maxAttempts) || config.maxAttempts < 1) {
    throw new Error(`maxAttempts must be a positive integer, got ${config.maxAttempts}`);
  }
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const fetchFn = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const gates = new Map<string, KeyGate>();

  /** Keys whose last request timed out: probed with the shorter probeTimeoutMs until one answers. */
  const timedOutKeys = new Set<string>();
  /** Start times of requests awaiting an answer, per routing key (start time → how many). */
  const inFlight = new Map<string, Map<number, number>>();
  function trackInFlight(routingKey: string, startedAt: number, delta: 1 | -1): void {
    const starts = inFlight.get(routingKey) ?? new Map<number, number>();
    const count = (starts.get(startedAt) ?? 0) + delta;
    if (count > 0) starts.set(startedAt, count);
    else starts.delete(startedAt);
    if (starts.size > 0) inFlight.set(routingKey, starts);
    else inFlight.delete(routingKey);
  }
  function inFlightCount(routingKey: string): number {
    let count = 0;
    for (const n of inFlight.get(routingKey)?.values() ?? []) count += n;
    return count;
  }
  function oldestInFlight(routingKey: string): number | undefined {
    const starts = inFlight.get(routingKey);
    return starts && Math.min(...starts.keys());
  }

  function gateOpensAt(routingKey: string): number {
    return gates.get(routingKey)?.notBefore ?? 0;
  }

  function holdKey(
    routingKey: string,
    retryAfterMs: number | undefined,
    cause = "429 rate limited",
    baseMs = config.rateLimitBaseMs,
    maxMs = config.rateLimitMaxMs,
  ): void {
    const strikes = (gates.get(routingKey)?.strikes ?? 0) + 1;
    const backoff = Math.min(maxMs, baseMs * 2 ** (strikes - 1));
    gates.set(routingKey, { notBefore: Math.max(gateOpensAt(routingKey), now() + Math.max(backoff, retryAfterMs ?? 0)), strikes, cause });
  }

  function backoffMs(retryNumber: number): number {
    const ceiling = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** (retryNumber - 1));
    return Math.floor(random() * ceiling);
  }

  async function attempt(path: string, body: string, timeoutMs: number): Promise<AttemptOutcome> {
    try {
      const response = await fetchFn(baseUrl + path, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      return classifyResponse(response.status, response.headers.get("retry-after"), text, now());
    } catch (error) {
      if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
        return { kind: "retryable", reason: `timeout after ${timeoutMs} ms`, rateLimited: false, uncertain: true };
      }
      const reason = networkErrorReason(error);
      // Refused or unresolvable: nothing was sent. Anything else may have reached PagerDuty.
      return { kind: "retryable", reason, rateLimited: false, ...(NOT_SENT_ERRORS.test(reason) ? {} : { uncertain: true }) };
    }
  }

  async function deliver(path: string, routingKey: string, body: string, deadline: number, stillWanted?: () => Promise<boolean>) {
    const startedAt = now();
    let attempts = 0;
    let retryAt = 0;
    let last: Extract<AttemptOutcome, { kind: "retryable" }> | undefined;
    let uncertain = false;

    const giveUp = (stoppedBy: RetryLater["stoppedBy"], waitUntil?: number): RetryLater => {
      // PagerDuty looks down for this key: hold it so the next sends fail fast (a 429 already held it).
      if (last && !last.rateLimited && config.holdAfterFailureMs > 0)
        holdKey(routingKey, last.retryAfterMs, last.reason, config.holdAfterFailureMs, config.holdAfterFailureMaxMs);
      const hint = Math.max(waitUntil ?? 0, gateOpensAt(routingKey)) - now();
      const result: RetryLater = {
        outcome: "retry_later",
        reason:
          stoppedBy === "outdated"
            ? `not sent again: the event is outdated by a newer change${last ? ` (last failure: ${last.reason})` : ""}`
            : (last?.reason ?? heldBackReason(routingKey, gates.get(routingKey), startedAt, deadline)),
        stoppedBy,
        attempts,
      };
      if (hint > 0) result.retryAfterMs = hint;
      if (last?.rateLimited) result.rateLimited = last.retryAfterMs === undefined ? {} : { retryAfterMs: last.retryAfterMs };
      if (uncertain) result.uncertain = true;
      return result;
    };

    for (;;) {
      const waitUntil = Math.max(retryAt, gateOpensAt(routingKey));
      if (waitUntil + config.minAttemptMs > deadline) return giveUp("deadline", waitUntil);
      if (gateOpensAt(routingKey) - now() > config.maxGateWaitMs) return giveUp("deadline", waitUntil);
      const waitMs = waitUntil - now();
      if (waitMs > 0) await sleep(waitMs);
      if (attempts > 0 && stillWanted && !(await stillWanted())) return giveUp("outdated");
      const timeLeft = deadline - now();
      if (timeLeft < config.minAttemptMs) return giveUp("deadline");
      // A key whose earlier request is still unanswered well past PagerDuty's usual latency is hanging:
      // one request waits it out, the others come back at once instead of all hanging with it.
      const stalledMs = config.holdAfterFailureMs > 0 ? now() - (oldestInFlight(routingKey) ?? now()) : 0;
      if (stalledMs > config.maxGateWaitMs) {
        const stalled: RetryLater = {
          outcome: "retry_later",
          reason: last?.reason ?? `PagerDuty has not answered a request for routing key ${maskRoutingKey(routingKey)} for ${stalledMs} ms`,
          stoppedBy: "deadline",
          attempts,
          retryAfterMs: config.holdAfterFailureMs,
        };
        if (uncertain) stalled.uncertain = true;
        return stalled;
      }

      // A few requests per key at a time: a burst to a PagerDuty that hangs ties up a few callers, not all.
      const waitedFrom = now();
      while (
        inFlightCount(routingKey) >= config.maxInFlightPerKey &&
        now() - waitedFrom <= config.maxGateWaitMs &&
        deadline - now() > config.minAttemptMs
      )
        await sleep(SLOT_POLL_MS);
      if (inFlightCount(routingKey) >= config.maxInFlightPerKey) {
        const busy: RetryLater = {
          outcome: "retry_later",
          reason:
            last?.reason ??
            `routing key ${maskRoutingKey(routingKey)} has ${inFlightCount(routingKey)} requests awaiting PagerDuty's answer`,
          stoppedBy: "deadline",
          attempts,
          retryAfterMs: Math.max(config.holdAfterFailureMs, SLOT_POLL_MS),
        };
        if (uncertain) busy.uncertain = true;
        return busy;
      }

      attempts += 1;
      const started = now();
      trackInFlight(routingKey, started, +1);
      const timeoutMs = Math.min(
        config.requestTimeoutMs,
        timeLeft,
        timedOutKeys.has(routingKey) ? config.probeTimeoutMs : Number.POSITIVE_INFINITY,
      );
      const outcome = await attempt(path, body, timeoutMs).finally(() => trackInFlight(routingKey, started, -1));
      if (outcome.kind === "retryable" && outcome.reason.startsWith("timeout")) timedOutKeys.add(routingKey);
      else if (outcome.kind !== "retryable") timedOutKeys.delete(routingKey);
      if (outcome.kind === "accepted") {
        gates.delete(routingKey);
        return { attempts, latencyMs: now() - startedAt, body: outcome.body, ...(uncertain ? { uncertain: true as const } : {}) };
      }
      if (outcome.kind === "rejected") {
        const { kind: _kind, ...rejection } = outcome;
        return { outcome: "rejected", ...rejection, attempts } satisfies Rejected;
      }
      last = outcome;
      if (outcome.uncertain) uncertain = true;
      if (outcome.rateLimited) holdKey(routingKey, outcome.retryAfterMs);
      if (attempts >= config.maxAttempts) return giveUp("max_attempts", now() + (outcome.retryAfterMs ?? 0));
      retryAt = now() + Math.max(backoffMs(attempts), outcome.retryAfterMs ?? 0);
    }
  }

  return {
    async send(event, { deadline, stillWanted }) {
      // A trigger without a dedup key would open a second incident if a timed-out attempt had in
      // fact reached PagerDuty; a key fixed before the first attempt makes every retry idempotent.
      const sent = event.event_action === "trigger" && !event.dedup_key ? { ...event, dedup_key: randomUUID() } : event;
      const result = await deliver(ALERT_EVENTS_PATH, sent.routing_key, JSON.stringify(sent), deadline, stillWanted);
      if ("outcome" in result) return result;
      const { body, ...counts } = result;
      return { outcome: "accepted", dedupKey: dedupKeyIn(body) ?? sent.dedup_key ?? "", ...counts };
    },
    async sendChange(event, { deadline }) {
      const result = await deliver(CHANGE_EVENTS_PATH, event.routing_key, JSON.stringify(event), deadline);
      if ("outcome" in result) return result;
      const { body: _body, ...counts } = result;
      return { outcome: "accepted", ...counts };
    },
  };
}

function classifyResponse(status: number, retryAfterHeader: string | null, text: string, nowMs: number): AttemptOutcome {
  const body = parseJson(text);
  if (status >= 200 && status < 300) return { kind: "accepted", body };
  const retryAfterMs = parseRetryAfter(retryAfterHeader, nowMs);
  const withHint = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) return { kind: "retryable", reason: "429 rate limited", rateLimited: true, ...withHint };
  if (status >= 500) return { kind: "retryable", reason: `${status} from PagerDuty`, rateLimited: false, ...withHint };
  return { kind: "rejected", status, message: messageIn(body) ?? (snippet(text) || `HTTP ${status}`), errors: errorsIn(body) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function field(body: unknown, name: string): unknown {
  return body !== null && typeof body === "object" ? (body as Record<string, unknown>)[name] : undefined;
}

function dedupKeyIn(body: unknown): string | undefined {
  const key = field(body, "dedup_key");
  return typeof key === "string" && key !== "" ? key : undefined;
}

function messageIn(body: unknown): string | undefined {
  const message = field(body, "message");
  return typeof message === "string" && message !== "" ? message : undefined;
}

function errorsIn(body: unknown): string[] {
  const errors = field(body, "errors");
  if (!Array.isArray(errors)) return [];
  return errors.map((error) => (typeof error === "string" ? error : JSON.stringify(error)));
}

/** A non-JSON error body (an HTML error page, say) is kept short enough for a log line. */
function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110); anything else is ignored. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date format starts with the day name; without that check "-5" would parse as year -5.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** How often a send waiting for a place among a key's requests looks again. */
const SLOT_POLL_MS = 25;

/** Connection-level failures before any byte of the request left: PagerDuty cannot have the event. */
const NOT_SENT_ERRORS = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

/** fetch reports socket failures as TypeError("fetch failed") with the system error as its cause. */
function networkErrorReason(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = field(cause, "code");
  const causeMessage = field(cause, "message");
  if (typeof code === "string")
    return typeof causeMessage === "string" && !causeMessage.includes(code) ? `${code} (${causeMessage})` : code;
  if (typeof causeMessage === "string") return causeMessage;
  return error instanceof Error ? error.message : String(error);
}

function heldBackReason(routingKey: string, gate: KeyGate | undefined, startedAt: number, deadline: number): string {
  if (gate && gate.notBefore > startedAt) {
    return `${gate.cause}: routing key ${maskRoutingKey(routingKey)} is held back for ${gate.notBefore - startedAt} ms`;
  }
  return `deadline reached before the first attempt (${deadline - startedAt} ms left)`;
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
