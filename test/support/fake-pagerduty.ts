/**
 * A strict fake of PagerDuty's Events API v2 on 127.0.0.1, for client, router and end-to-end tests.
 *
 *   const fake = await startFakePagerDuty();
 *   process.env.PAGERDUTY_EVENTS_URL = fake.url;
 *   ... exercise the code ...
 *   expect(fake.openIncidents()).toHaveLength(1);
 *   await fake.close();
 *
 * It is stricter than PagerDuty where PagerDuty is lenient in ways the relay must not rely on
 * (an empty dedup_key, a non-object custom_details), so a bug shows up here first. It keeps
 * incident state per (routing_key, dedup_key) the way PagerDuty does, and fails on demand
 * (failNext, failWhile, down/recover, rate limiting) without that failure touching the state,
 * unless a timeout fault asks to process the event first ("PagerDuty got it, the answer was lost").
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { randomUUID } from "node:crypto";
import {
  EVENT_ACTIONS,
  MAX_EVENT_BYTES,
  type EventAction,
  type PagerDutyAlertEvent,
  type PagerDutyChangeEvent,
} from "../../lib/pagerduty/payloads.ts";
import { SEVERITIES } from "../../lib/alert/schema.ts";

export type FakeFault =
  /** Answer with this status (and body, default a short non-JSON text) instead of processing. */
  | { status: 429 | 500 | 502 | 503 | 504; body?: string | object; retryAfter?: number | string }
  /**
   * Hold the answer: for `ms` then answer 504, or never (until the client gives up or the fake
   * closes). With `afterProcessing`, the event is processed first and the normal answer is held.
   */
  | { kind: "timeout"; ms?: number; afterProcessing?: boolean }
  /** Destroy the connection without an answer; with `afterProcessing`, after the event took effect. */
  | { kind: "reset"; afterProcessing?: boolean }
  /**
   * A congested PagerDuty: the event takes effect only after `ms`, then the answer goes out. A
   * client that gave up meanwhile does not stop it: its event lands late, maybe after a newer one.
   */
  | { kind: "slow"; ms: number };

export interface FakeRequest {
  receivedAt: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  bytes: number;
  /** Parsed JSON body, undefined when it is not JSON. */
  body: unknown;
  /** The routing_key of the body, when there is one, for predicates. */
  routingKey: string | undefined;
  /** Status sent, or null while held or when the connection was destroyed. */
  status: number | null;
  fault?: FakeFault;
}

export type EventEffect = "opened" | "deduplicated" | "acknowledged" | "resolved" | "dropped";

export interface FakeEvent {
  receivedAt: number;
  routingKey: string;
  action: EventAction;
  /** As sent, or as generated for a trigger without one. */
  dedupKey: string;
  /** What the event did to incident state; acknowledge/resolve of a closed or unknown alert is "dropped". */
  effect: EventEffect;
  event: PagerDutyAlertEvent;
}

export interface FakeChangeEvent {
  receivedAt: number;
  routingKey: string;
  event: PagerDutyChangeEvent;
}

export interface FakeRejection {
  receivedAt: number;
  path: string;
  errors: string[];
  body: unknown;
}

export type IncidentStatus = "triggered" | "acknowledged" | "resolved";

export interface FakeIncident {
  routingKey: string;
  dedupKey: string;
  status: IncidentStatus;
  /** Trigger events applied: 1 for the one that opened it, plus every de-duplicated trigger. */
  triggers: number;
  summary: string;
  severity: string;
  openedAt: number;
  acknowledgedAt?: number;
  resolvedAt?: number;
}

export interface FakePagerDutyOptions {
  /** Clock for receive times and the rate-limit window. */
  now?: () => number;
}

export interface RateLimit {
  /** Valid events accepted per routing key in any 60-second window before answering 429. */
  perMinute: number;
  /** Seconds for a Retry-After header; PagerDuty documents none, so none by default. */
  retryAfter?: number;
}

export interface FakePagerDuty {
  /** Base URL, e.g. http://127.0.0.1:40123 — the value for PAGERDUTY_EVENTS_URL. */
  readonly url: string;
  /** Every accepted alert event, in order of arrival. */
  readonly events: readonly FakeEvent[];
  readonly changeEvents: readonly FakeChangeEvent[];
  /** Every 400, with PagerDuty-style error strings. */
  readonly rejected: readonly FakeRejection[];
  /** Every request, including injected failures and rate-limited ones. */
  readonly requests: readonly FakeRequest[];
  /** Every incident ever opened, oldest first (copies). */
  incidents(): FakeIncident[];
  openIncidents(): FakeIncident[];
  /** Accepted trigger events, for one dedup key or all; a retry that reached PagerDuty counts. */
  triggerCount(dedupKey?: string): number;
  /** The next n requests to an Events API path fail with this fault (queued after earlier failNext calls). */
  failNext(n: number, fault: FakeFault): void;
  /** Requests matching the predicate fail until recover() or reset(). */
  failWhile(predicate: (request: FakeRequest) => boolean, fault?: FakeFault): void;
  /** Every request fails until recover(); default fault 503. */
  down(fault?: FakeFault): void;
  /** Ends down() and failWhile(); failNext faults still queued stay. */
  recover(): void;
  /** Emulates PagerDuty's per-key rate limit; null turns it off. */
  rateLimit(limit: RateLimit | null): void;
  /** Forgets events, requests, incidents, faults and rate limiting. */
  reset(): void;
  close(): Promise<void>;
}

const ALERT_PATH = "/v2/enqueue";
const CHANGE_PATH = "/v2/change/enqueue";
const ROUTING_KEY_CHARS = 32;
const SUMMARY_CHARS = 1024;
const DEDUP_KEY_CHARS = 255;
/** Bodies beyond this are not read at all; the 512 KB rule is checked on what was read. */
const MAX_READ_BYTES = 4 * MAX_EVENT_BYTES;
const DEFAULT_DOWN_FAULT: FakeFault = { status: 503 };
const RATE_WINDOW_MS = 60_000;

export async function startFakePagerDuty(options: FakePagerDutyOptions = {}): Promise<FakePagerDuty> {
  const now = options.now ?? Date.now;
  let events: FakeEvent[] = [];
  let changeEvents: FakeChangeEvent[] = [];
  let rejected: FakeRejection[] = [];
  let requests: FakeRequest[] = [];
  let incidents: FakeIncident[] = [];
  let queuedFaults: FakeFault[] = [];
  let faultRules: { predicate: (request: FakeRequest) => boolean; fault: FakeFault }[] = [];
  let limit: RateLimit | null = null;
  let acceptedAtByKey = new Map<string, number[]>();
  const heldTimers = new Set<NodeJS.Timeout>();

  function faultFor(request: FakeRequest): FakeFault | undefined {
    const queued = queuedFaults.shift();
    if (queued) return queued;
    return faultRules.find((rule) => rule.predicate(request))?.fault;
  }

  function openIncident(routingKey: string, dedupKey: string): FakeIncident | undefined {
    return incidents.findLast((i) => i.routingKey === routingKey && i.dedupKey === dedupKey && i.status !== "resolved");
  }

  function applyAlertEvent(event: PagerDutyAlertEvent, receivedAt: number): string {
    const dedupKey = event.dedup_key || randomUUID().replaceAll("-", "");
    const open = openIncident(event.routing_key, dedupKey);
    let effect: EventEffect;
    if (event.event_action === "trigger") {
      if (open) {
        open.triggers += 1;
        effect = "deduplicated";
      } else {
        const { summary, severity } = event.payload;
        incidents.push({
          routingKey: event.routing_key,
          dedupKey,
          status: "triggered",
          triggers: 1,
          summary,
          severity,
          openedAt: receivedAt,
        });
        effect = "opened";
      }
    } else if (!open) {
      effect = "dropped";
    } else if (event.event_action === "acknowledge") {
      if (open.status === "triggered") {
        open.status = "acknowledged";
        open.acknowledgedAt = receivedAt;
      }
      effect = "acknowledged";
    } else {
      open.status = "resolved";
      open.resolvedAt = receivedAt;
      effect = "resolved";
    }
    events.push({ receivedAt, routingKey: event.routing_key, action: event.event_action, dedupKey, effect, event });
    return dedupKey;
  }

  function overRateLimit(routingKey: string, at: number): boolean {
    if (!limit) return false;
    const recent = (acceptedAtByKey.get(routingKey) ?? []).filter((t) => t > at - RATE_WINDOW_MS);
    acceptedAtByKey.set(routingKey, recent);
    return recent.length >= limit.perMinute;
  }

  function countForRateLimit(routingKey: string, at: number): void {
    if (!limit) return;
    acceptedAtByKey.set(routingKey, [...(acceptedAtByKey.get(routingKey) ?? []), at]);
  }

  /** Validates and applies one request to an Events API path; returns the answer PagerDuty would give. */
  function processRequest(request: FakeRequest, rawBody: Buffer): Answer {
    const errors =
      request.path === ALERT_PATH ? validateAlertRequest(request.headers, rawBody) : validateChangeRequest(request.headers, rawBody);
    if (errors.length > 0) {
      rejected.push({ receivedAt: request.receivedAt, path: request.path, errors, body: request.body });
      return { status: 400, body: { status: "invalid event", message: "Event object is invalid", errors } };
    }
    const routingKey = request.routingKey ?? "";
    if (overRateLimit(routingKey, request.receivedAt)) {
      return { status: 429, body: "Too Many Requests", retryAfter: limit?.retryAfter };
    }
    countForRateLimit(routingKey, request.receivedAt);
    if (request.path === CHANGE_PATH) {
      changeEvents.push({ receivedAt: request.receivedAt, routingKey, event: request.body as PagerDutyChangeEvent });
      return { status: 202, body: { status: "success", message: "Change event processed" } };
    }
    const dedupKey = applyAlertEvent(request.body as PagerDutyAlertEvent, request.receivedAt);
    return { status: 202, body: { status: "success", message: "Event processed", dedup_key: dedupKey } };
  }

  function answer(res: ServerResponse, request: FakeRequest, reply: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    request.status = reply.status;
    const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    const headers: Record<string, string> = {
      "content-type": typeof reply.body === "string" ? "text/plain" : "application/json",
    };
    if (reply.retryAfter !== undefined) headers["retry-after"] = String(reply.retryAfter);
    res.writeHead(reply.status, headers).end(text);
  }

  function hold(ms: number | undefined, then: () => void): void {
    if (ms === undefined) return;
    const timer = setTimeout(() => {
      heldTimers.delete(timer);
      then();
    }, ms);
    heldTimers.add(timer);
  }

  function handle(req: IncomingMessage, res: ServerResponse, rawBody: Buffer): void {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const body = parseJson(rawBody);
    const request: FakeRequest = {
      receivedAt: now(),
      method: req.method ?? "",
      path,
      headers: req.headers,
      bytes: rawBody.length,
      body,
      routingKey: stringField(body, "routing_key"),
      status: null,
    };
    requests.push(request);
    if (path !== ALERT_PATH && path !== CHANGE_PATH)
      return answer(res, request, { status: 404, body: { status: "not found", message: `no such path ${path}` } });
    if (req.method !== "POST") return answer(res, request, { status: 405, body: { status: "method not allowed", message: "use POST" } });

    const fault = faultFor(request);
    if (!fault) return answer(res, request, processRequest(request, rawBody));
    request.fault = fault;
    if ("status" in fault) {
      return answer(res, request, {
        status: fault.status,
        body: fault.body ?? defaultFaultBody(fault.status),
        retryAfter: fault.retryAfter,
      });
    }
    if (fault.kind === "reset") {
      if (fault.afterProcessing) processRequest(request, rawBody);
      req.socket.destroy();
      return;
    }
    if (fault.kind === "slow") return hold(fault.ms, () => answer(res, request, processRequest(request, rawBody)));
    const reply: Answer = fault.afterProcessing ? processRequest(request, rawBody) : { status: 504, body: "Gateway Timeout" };
    hold(fault.ms, () => answer(res, request, reply));
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let read = 0;
    req.on("data", (chunk: Buffer) => {
      read += chunk.length;
      if (read > MAX_READ_BYTES) req.socket.destroy();
      else chunks.push(chunk);
    });
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get events() {
      return events;
    },
    get changeEvents() {
      return changeEvents;
    },
    get rejected() {
      return rejected;
    },
    get requests() {
      return requests;
    },
    incidents: () => incidents.map((incident) => ({ ...incident })),
    openIncidents: () => incidents.filter((incident) => incident.status !== "resolved").map((incident) => ({ ...incident })),
    triggerCount: (dedupKey) => events.filter((e) => e.action === "trigger" && (dedupKey === undefined || e.dedupKey === dedupKey)).length,
    failNext(n, fault) {
      for (let i = 0; i < n; i += 1) queuedFaults.push(fault);
    },
    failWhile(predicate, fault = DEFAULT_DOWN_FAULT) {
      faultRules.push({ predicate, fault });
    },
    down(fault = DEFAULT_DOWN_FAULT) {
      faultRules.push({ predicate: () => true, fault });
    },
    recover() {
      faultRules = [];
    },
    rateLimit(next) {
      limit = next;
      acceptedAtByKey = new Map();
    },
    reset() {
      events = [];
      changeEvents = [];
      rejected = [];
      requests = [];
      incidents = [];
      queuedFaults = [];
      faultRules = [];
      limit = null;
      acceptedAtByKey = new Map();
    },
    async close() {
      for (const timer of heldTimers) clearTimeout(timer);
      heldTimers.clear();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      // Held answers and keep-alive connections would otherwise keep close() waiting forever.
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

interface Answer {
  status: number;
  body: string | object;
  retryAfter?: number | string | undefined;
}

function defaultFaultBody(status: number): string {
  return status === 429 ? "Too Many Requests" : `<html><body>${status} injected by fake PagerDuty</body></html>`;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function stringField(value: unknown, name: string): string | undefined {
  const field = isObject(value) ? value[name] : undefined;
  return typeof field === "string" ? field : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The checks every Events API request shares; returns the parsed body when they pass. */
function validateEnvelope(headers: IncomingHttpHeaders, rawBody: Buffer, errors: string[]): Record<string, unknown> | undefined {
  if (!/^application\/json\s*(;|$)/i.test(headers["content-type"] ?? "")) {
    errors.push(`Content-Type must be application/json, got ${JSON.stringify(headers["content-type"] ?? null)}`);
  }
  if (rawBody.length > MAX_EVENT_BYTES) errors.push(`event is ${rawBody.length} bytes; the limit is ${MAX_EVENT_BYTES} bytes`);
  const body = parseJson(rawBody);
  if (!isObject(body)) {
    errors.push(body === undefined ? "body is not valid JSON" : "body must be a JSON object");
    return undefined;
  }
  const routingKey = body.routing_key;
  if (routingKey === undefined) errors.push("'routing_key' is missing");
  else if (typeof routingKey !== "string" || routingKey.length !== ROUTING_KEY_CHARS) {
    errors.push(`'routing_key' must be a ${ROUTING_KEY_CHARS}-character integration key`);
  }
  return body;
}

type Check = (errors: string[], value: unknown, path: string) => void;

const optionalString: Check = (errors, value, path) => {
  if (value !== undefined && typeof value !== "string") errors.push(`'${path}' must be a string`);
};

const requiredText =
  (maxChars?: number): Check =>
  (errors, value, path) => {
    if (value === undefined) errors.push(`'${path}' is missing`);
    else if (typeof value !== "string" || value.trim() === "") errors.push(`'${path}' must be a non-empty string`);
    else if (maxChars !== undefined && value.length > maxChars)
      errors.push(`'${path}' must be at most ${maxChars} characters, got ${value.length}`);
  };

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

const optionalTimestamp: Check = (errors, value, path) => {
  if (value === undefined) return;
  if (typeof value !== "string" || !ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
    errors.push(`'${path}' must be an ISO 8601 timestamp, got ${JSON.stringify(value)}`);
  }
};

const optionalObject: Check = (errors, value, path) => {
  if (value !== undefined && !isObject(value)) errors.push(`'${path}' must be a JSON object`);
};

function checkArray(
  errors: string[],
  value: unknown,
  path: string,
  checkItem: (item: Record<string, unknown>, itemPath: string) => void,
): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    errors.push(`'${path}' must be an array`);
    return;
  }
  value.forEach((item, index) => {
    if (isObject(item)) checkItem(item, `${path}[${index}]`);
    else errors.push(`'${path}[${index}]' must be an object`);
  });
}

function checkLinks(errors: string[], links: unknown): void {
  checkArray(errors, links, "links", (link, path) => {
    requiredText()(errors, link.href, `${path}.href`);
    optionalString(errors, link.text, `${path}.text`);
  });
}

/** Every rule of an alert event (`/v2/enqueue`); empty when valid. */
export function validateAlertRequest(headers: IncomingHttpHeaders, rawBody: Buffer): string[] {
  const errors: string[] = [];
  const body = validateEnvelope(headers, rawBody, errors);
  if (!body) return errors;

  const action = body.event_action;
  if (!(EVENT_ACTIONS as readonly unknown[]).includes(action)) {
    errors.push(`'event_action' must be one of ${EVENT_ACTIONS.join(", ")}, got ${JSON.stringify(action ?? null)}`);
  }
  const dedupKey = body.dedup_key;
  if (dedupKey === undefined) {
    if (action === "acknowledge" || action === "resolve") errors.push(`'dedup_key' is required for ${action}`);
  } else {
    requiredText(DEDUP_KEY_CHARS)(errors, dedupKey, "dedup_key");
  }
  if (action !== "trigger") return errors;

  const payload = body.payload;
  if (!isObject(payload)) {
    errors.push("'payload' must be an object with summary, source and severity");
  } else {
    requiredText(SUMMARY_CHARS)(errors, payload.summary, "payload.summary");
    requiredText()(errors, payload.source, "payload.source");
    if (!(SEVERITIES as readonly unknown[]).includes(payload.severity)) {
      errors.push(`'payload.severity' must be one of ${SEVERITIES.join(", ")}, got ${JSON.stringify(payload.severity ?? null)}`);
    }
    optionalTimestamp(errors, payload.timestamp, "payload.timestamp");
    for (const name of ["component", "group", "class"]) optionalString(errors, payload[name], `payload.${name}`);
    optionalObject(errors, payload.custom_details, "payload.custom_details");
  }
  checkArray(errors, body.images, "images", (image, path) => {
    if (typeof image.src !== "string" || !image.src.startsWith("https://")) errors.push(`'${path}.src' must be an https:// URL`);
    optionalString(errors, image.href, `${path}.href`);
    optionalString(errors, image.alt, `${path}.alt`);
  });
  checkLinks(errors, body.links);
  optionalString(errors, body.client, "client");
  optionalString(errors, body.client_url, "client_url");
  return errors;
}

/** Every rule of a change event (`/v2/change/enqueue`); empty when valid. */
export function validateChangeRequest(headers: IncomingHttpHeaders, rawBody: Buffer): string[] {
  const errors: string[] = [];
  const body = validateEnvelope(headers, rawBody, errors);
  if (!body) return errors;
  const payload = body.payload;
  if (!isObject(payload)) {
    errors.push("'payload' must be an object with a summary");
    return errors;
  }
  requiredText(SUMMARY_CHARS)(errors, payload.summary, "payload.summary");
  optionalString(errors, payload.source, "payload.source");
  optionalTimestamp(errors, payload.timestamp, "payload.timestamp");
  optionalObject(errors, payload.custom_details, "payload.custom_details");
  checkLinks(errors, body.links);
  return errors;
}
