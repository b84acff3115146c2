/**
 * PagerDuty Events API v2: the event shapes and the pure mapping from a normalized alert.
 * No I/O here; delivery lives in client.ts. PagerDuty's rules are summarised in
 * /work/shared/reference/pagerduty-events-v2.md.
 *
 * Layout of `payload.custom_details` on a trigger (what a responder sees in the incident):
 *   - every key of `alert.details`, unchanged, at the top level (the source's own words first);
 *   - `labels`: the alert's label map, the same one suppression and routing matched on;
 *   - `source`: the adapter that produced the alert (e.g. `prometheus`);
 *   - `alert_id`: the normalized alert's id, to find it in logs and the state table.
 * A detail whose key is one of `labels`, `source` or `alert_id` would be overwritten by the
 * relay's field; it is kept under `conflicting_details` instead, so nothing the source said is lost.
 */
import type { NormalizedAlert, Severity } from "../alert/schema.ts";

/** PagerDuty's limit for one event: 512 KB, measured like Alertmanager and Grafana do. */
export const MAX_EVENT_BYTES = 512_000;

export const DEFAULT_CLIENT = "alert-relay";

/** The Events API's paths: where the client sends, and where alert-relay's own ingest listens. */
export const ALERT_EVENTS_PATH = "/v2/enqueue";
export const CHANGE_EVENTS_PATH = "/v2/change/enqueue";

export const EVENT_ACTIONS = ["trigger", "acknowledge", "resolve"] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

export type PagerDutySeverity = Severity;

export interface PagerDutyLink {
  href: string;
  text?: string;
}

export interface PagerDutyImage {
  /** Must be an https:// URL. */
  src: string;
  href?: string;
  alt?: string;
}

export interface PagerDutyPayload {
  summary: string;
  source: string;
  severity: PagerDutySeverity;
  timestamp?: string;
  component?: string;
  group?: string;
  class?: string;
  custom_details?: Record<string, unknown>;
}

export interface PagerDutyTriggerEvent {
  routing_key: string;
  event_action: "trigger";
  /** Optional for PagerDuty; the relay always sets it so retries can never open a second incident. */
  dedup_key?: string;
  payload: PagerDutyPayload;
  links?: PagerDutyLink[];
  images?: PagerDutyImage[];
  client?: string;
  client_url?: string;
}

export interface PagerDutyFollowUpEvent {
  routing_key: string;
  event_action: "acknowledge" | "resolve";
  dedup_key: string;
}

export type PagerDutyAlertEvent = PagerDutyTriggerEvent | PagerDutyFollowUpEvent;

/** Change events (`/v2/change/enqueue`) inform responders (deploys, config changes); they never open incidents. */
export interface PagerDutyChangeEvent {
  routing_key: string;
  payload: {
    summary: string;
    source?: string;
    timestamp?: string;
    custom_details?: Record<string, unknown>;
  };
  links?: PagerDutyLink[];
}

export interface EventMappingOptions {
  /** Shown on the incident as the sending tool; defaults to "alert-relay". */
  client?: string;
  /** Link shown next to `client`, e.g. the relay's dashboard or the source's console. */
  clientUrl?: string;
}

const RESERVED_DETAIL_KEYS = ["labels", "source", "alert_id"] as const;

export function toPagerDutyEvent(
  alert: NormalizedAlert,
  action: "trigger",
  routingKey: string,
  opts?: EventMappingOptions,
): PagerDutyTriggerEvent;
export function toPagerDutyEvent(
  alert: NormalizedAlert,
  action: "resolve",
  routingKey: string,
  opts?: EventMappingOptions,
): PagerDutyFollowUpEvent;
export function toPagerDutyEvent(
  alert: NormalizedAlert,
  action: "trigger" | "resolve",
  routingKey: string,
  opts?: EventMappingOptions,
): PagerDutyAlertEvent;
/**
 * The PagerDuty event for one alert. A resolve carries only what PagerDuty reads (routing key,
 * action, dedup key); a trigger carries everything, already fitted to MAX_EVENT_BYTES.
 */
export function toPagerDutyEvent(
  alert: NormalizedAlert,
  action: "trigger" | "resolve",
  routingKey: string,
  opts: EventMappingOptions = {},
): PagerDutyAlertEvent {
  if (action === "resolve") {
    return { routing_key: routingKey, event_action: "resolve", dedup_key: alert.dedupKey };
  }
  const payload: PagerDutyPayload = {
    summary: alert.summary,
    source: alert.sourceHost,
    severity: alert.severity,
    timestamp: alert.occurredAt,
  };
  if (alert.component !== undefined) payload.component = alert.component;
  if (alert.group !== undefined) payload.group = alert.group;
  if (alert.class !== undefined) payload.class = alert.class;
  payload.custom_details = customDetails(alert);

  const event: PagerDutyTriggerEvent = {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: alert.dedupKey,
    payload,
    client: opts.client ?? DEFAULT_CLIENT,
  };
  if (opts.clientUrl !== undefined) event.client_url = opts.clientUrl;
  if (alert.links.length > 0) event.links = alert.links.map((link) => ({ ...link }));
  if (alert.images.length > 0) event.images = alert.images.map((image) => ({ ...image }));
  return fitEventSize(event);
}

function customDetails(alert: NormalizedAlert): Record<string, unknown> {
  // Entries, not assignment: a source's "__proto__" is a detail like any other.
  const entries = Object.entries(alert.details);
  const isReserved = ([key]: [string, unknown]) => (RESERVED_DETAIL_KEYS as readonly string[]).includes(key);
  const conflicting = entries.filter(isReserved);
  const details = Object.fromEntries(entries.filter((entry) => !isReserved(entry)));
  if (conflicting.length > 0) details.conflicting_details = Object.fromEntries(conflicting);
  return { ...details, labels: { ...alert.labels }, source: alert.source, alert_id: alert.id };
}

/** Size of the event as sent: UTF-8 bytes of its JSON, the measure PagerDuty's limit applies to. */
export function eventBytes(event: unknown): number {
  return Buffer.byteLength(JSON.stringify(event), "utf8");
}

/**
 * The event within MAX_EVENT_BYTES, giving up the least useful parts first: `custom_details`
 * becomes a note saying it was dropped and how big it was (keeping `labels` if they fit, since
 * responders and the relay's own matching rely on them), then images, then links. Returns the
 * same object when it already fits. Summary, source and the other payload fields are bounded by
 * the alert contract, so a normalized alert always fits after these steps; an event built by
 * hand that still does not is returned as small as this can make it, and PagerDuty's 400 says why.
 */
export function fitEventSize<E extends PagerDutyAlertEvent | PagerDutyChangeEvent>(event: E): E {
  const originalBytes = eventBytes(event);
  if (originalBytes <= MAX_EVENT_BYTES || !("payload" in event)) return event;

  // Only events with a payload (trigger and change events) can grow past the limit.
  type Shrinkable = Record<string, unknown> & { payload: Record<string, unknown> & { custom_details?: Record<string, unknown> } };
  const original = event as unknown as Shrinkable;
  const originalDetails = original.payload.custom_details;
  const detailsBytes = originalDetails === undefined ? 0 : eventBytes(originalDetails);
  const note = {
    note:
      `custom_details (${detailsBytes} bytes) dropped: the event was ${originalBytes} bytes, ` +
      `over PagerDuty's limit of ${MAX_EVENT_BYTES} bytes`,
    dropped_bytes: detailsBytes,
  };
  const labels = originalDetails?.labels;
  const withDetails = (e: Shrinkable, custom_details: Record<string, unknown>): Shrinkable => ({
    ...e,
    payload: { ...e.payload, custom_details },
  });
  const withoutKey = (e: Shrinkable, key: string): Shrinkable =>
    Object.fromEntries(Object.entries(e).filter(([k]) => k !== key)) as Shrinkable;
  const shrinkSteps: ((e: Shrinkable) => Shrinkable)[] = [
    (e) => withDetails(e, labels === undefined ? note : { ...note, labels }),
    (e) => withDetails(e, note),
    (e) => withoutKey(e, "images"),
    (e) => withoutKey(e, "links"),
  ];
  let fitted = original;
  for (const shrink of shrinkSteps) {
    fitted = shrink(fitted);
    if (eventBytes(fitted) <= MAX_EVENT_BYTES) break;
  }
  return fitted as unknown as E;
}

const REGION_BASE_URLS = {
  us: "https://events.pagerduty.com",
  eu: "https://events.eu.pagerduty.com",
} as const;

/**
 * Base URL of the Events API (the client appends `/v2/enqueue`): `PAGERDUTY_EVENTS_URL` when set
 * (a fake or a proxy; its base, or the full `…/v2/enqueue` endpoint), else the `PAGERDUTY_REGION`
 * endpoint (`us`, the default, or `eu`).
 */
export function eventsEndpoint(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env.PAGERDUTY_EVENTS_URL?.trim();
  if (override) return parseBaseUrl(override);
  const region = (env.PAGERDUTY_REGION?.trim() || "us").toLowerCase();
  if (region === "us" || region === "eu") return REGION_BASE_URLS[region];
  throw new Error(
    `PAGERDUTY_REGION must be "us" or "eu" (the region of your PagerDuty account), got ${JSON.stringify(env.PAGERDUTY_REGION)}`,
  );
}

function parseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`PAGERDUTY_EVENTS_URL must be an absolute http(s) URL such as http://127.0.0.1:9999, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`PAGERDUTY_EVENTS_URL must use http or https, got ${JSON.stringify(text)}`);
  }
  if (url.search || url.hash) {
    throw new Error(`PAGERDUTY_EVENTS_URL must not carry a query or fragment, got ${JSON.stringify(text)}`);
  }
  // The client appends the API path. The full endpoint, as Alertmanager and PagerDuty's docs write
  // it (…/v2/enqueue), is taken as its base rather than refused or doubled to /v2/enqueue/v2/enqueue.
  return url.href.replace(/\/+$/, "").replace(/\/v2(\/change)?\/enqueue$/, "");
}

/**
 * A routing key fit for logs: `R0…7f (32 chars)`. Routing keys let anyone open incidents on a
 * service, so they are never logged whole; keys too short to hide anything show only their length.
 */
export function maskRoutingKey(key: string): string {
  if (key.length === 0) return "(empty routing key)";
  const shown = key.length >= 16 ? `${key.slice(0, 2)}…${key.slice(-2)}` : "…";
  return `${shown} (${key.length} chars)`;
}
