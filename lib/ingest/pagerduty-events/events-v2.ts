/**
 * PagerDuty Events API v2 bodies, read the way PagerDuty reads them: the checks PagerDuty makes
 * (listed all at once, each naming its field as PagerDuty's errors do), then the mapping onto the
 * normalized alert contract (triggers, resolves), the acknowledge message (acknowledges) or the
 * change message (change events). Pure: no I/O, no clock, no randomness of its own; handler.ts
 * answers HTTP and publishes.
 *
 * Only what PagerDuty requires is refused. Optional fields PagerDuty would show are taken when
 * usable and otherwise left out (a link that is not an http(s) URL, an image that is not https,
 * a timestamp that cannot be read): a tool that pages through PagerDuty today keeps paging.
 */
import { reservedPrefixOf } from "../../alert/relay-keys.ts";
import { EVENT_ACTIONS, type EventAction } from "../../pagerduty/payloads.ts";
import { randomUUID } from "node:crypto";
import { buildAlert, parseTimestamp, sanitizeLabels } from "../../alert/build.ts";
import { LIMITS, boundDetails, hasUnsafeChars, oneLine, truncate } from "../../alert/limits.ts";
import { SEVERITIES, type NormalizedAlert, type Severity } from "../../alert/schema.ts";
import {
  ACKNOWLEDGE_MESSAGE_KIND,
  ACKNOWLEDGE_MESSAGE_SCHEMA_VERSION,
  type AcknowledgeMessage,
} from "../../messages/acknowledge-message.ts";
import { CHANGE_MESSAGE_KIND, CHANGE_MESSAGE_SCHEMA_VERSION, type ChangeMessage } from "../../messages/change-message.ts";

/** The alerts', acknowledges' and change messages' `source`: what `source=` matchers in windows and routes see. */
export const EVENTS_V2_SOURCE = "events-v2";

/**
 * Where the ingest takes events: PagerDuty's own paths, so a sender only swaps the base URL. The
 * handler answers them, the stack routes them (infra/constructs/ingress.ts), the local stack serves them.
 */
export { ALERT_EVENTS_PATH, CHANGE_EVENTS_PATH } from "../../pagerduty/payloads.ts";

export { EVENT_ACTIONS, type EventAction } from "../../pagerduty/payloads.ts";

/** Custom details longer than this are descriptions, not values to match on: they stay details only. */
export const MAX_DETAIL_LABEL_CHARS = 256;

/**
 * Labels set from the event's own fields. A custom detail of the same name never becomes a label
 * (nor `severity`, which would override payload.severity, nor the fields windows and routes
 * already match on: `source`, `dedupKey`).
 */
export const FIELD_LABELS = ["source_host", "component", "group", "class", "client"] as const;
const NOT_FROM_DETAILS = new Set<string>([...FIELD_LABELS, "severity", "source", "dedupKey"]);

/** PagerDuty's error strings, in its form: the field quoted by its path. */
export const ERRORS = {
  missing: (path: string) => `'${path}' is missing or blank`,
  notText: (path: string) => `'${path}' is invalid (must be a string)`,
  eventAction: `'event_action' is invalid (must be one of: ${EVENT_ACTIONS.join(", ")})`,
  severity: `'payload.severity' is invalid (must be one of: ${SEVERITIES.join(", ")})`,
  dedupKeyLength: `Length of 'dedup_key' is incorrect (should be at most ${LIMITS.dedupKeyChars} characters)`,
  dedupKeyReserved: (prefix: string) =>
    `'dedup_key' is invalid (may not start with "${prefix}": alert-relay keeps such keys for its own records)`,
  invalidRoutingKey: "Invalid routing key",
} as const;

type Json = Record<string, unknown>;

export type AlertEventResult =
  | { ok: true; action: "trigger" | "resolve"; dedupKey: string; alert: NormalizedAlert }
  /** Not an alert (the normalized contract knows firing and resolved only): a message the router passes on to PagerDuty. */
  | { ok: true; action: "acknowledge"; dedupKey: string; message: AcknowledgeMessage }
  | { ok: false; errors: string[] };

export type ChangeEventResult = { ok: true; message: ChangeMessage } | { ok: false; errors: string[] };

export interface ReadContext {
  /** ISO 8601 time the request arrived. */
  receivedAt: string;
  /** A dedup key for a trigger without one (PagerDuty generates one and returns it). */
  newDedupKey?: () => string;
  /** A change or acknowledge message id. */
  newId?: () => string;
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Text as PagerDuty takes it: strings only. PagerDuty's schema types these fields as strings and
 * refuses a number or a boolean, so they are refused here too (not turned into text).
 */
function asText(value: unknown): string | undefined | null {
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : null;
}

function required(errors: string[], value: unknown, path: string): string | undefined {
  const text = asText(value);
  if (text === null) errors.push(ERRORS.notText(path));
  // Blank once made safe (only control characters, say) is blank: nothing of it would show.
  else if (text === undefined || oneLine(text) === "") errors.push(ERRORS.missing(path));
  else return text;
  return undefined;
}

/** An optional text field: its text when non-blank; anything else (another type too) is left out, as PagerDuty shows nothing for it. */
function optional(value: unknown): string | undefined {
  const text = asText(value);
  return text && text.trim() !== "" ? text : undefined;
}

/** Checks every request shares: the routing key must be there (handler.ts decides whether it is the right one). */
function checkRoutingKey(errors: string[], body: Json): void {
  const key = body.routing_key;
  if (typeof key !== "string" || key.trim() === "") errors.push(ERRORS.missing("routing_key"));
}

function readDedupKey(errors: string[], value: unknown): string | undefined {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) return undefined;
  const key = asText(value);
  if (key === null || key === undefined) {
    errors.push(ERRORS.notText("dedup_key"));
    return undefined;
  }
  if (key.length > LIMITS.dedupKeyChars) {
    errors.push(ERRORS.dedupKeyLength);
    return undefined;
  }
  const reserved = reservedPrefixOf(key);
  if (reserved) {
    errors.push(ERRORS.dedupKeyReserved(reserved));
    return undefined;
  }
  return key;
}

function readSeverity(errors: string[], value: unknown): Severity | undefined {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) {
    errors.push(ERRORS.missing("payload.severity"));
    return undefined;
  }
  // Exactly PagerDuty's four words, lower case: PagerDuty refuses "Info" and so does this.
  if (typeof value === "string" && (SEVERITIES as readonly string[]).includes(value)) return value as Severity;
  errors.push(ERRORS.severity);
  return undefined;
}

/** custom_details as the contract's details: an object as it is; any other value under `details`. */
function detailsOf(customDetails: unknown): Json {
  if (customDetails === undefined || customDetails === null) return {};
  return isObject(customDetails) ? { ...customDetails } : { details: customDetails };
}

/**
 * The flat labels routes and windows match on: the event's own fields under FIELD_LABELS, then
 * every top-level custom detail whose value is a string of at most MAX_DETAIL_LABEL_CHARS, in
 * order, up to the contract's LIMITS.labels. Names are made matcher-safe (`free space` → `free_space`).
 */
export function labelsFor(
  fields: Partial<Record<(typeof FIELD_LABELS)[number], string | undefined>>,
  customDetails: unknown,
): Record<string, string> {
  const own = sanitizeLabels(fields);
  const fromDetails: Json = {};
  if (isObject(customDetails)) {
    for (const [name, value] of Object.entries(customDetails)) {
      if (typeof value === "string" && value.length <= MAX_DETAIL_LABEL_CHARS) fromDetails[name] = value;
    }
  }
  const labels: Record<string, string> = {};
  let room = LIMITS.labels - Object.keys(own).length;
  for (const [name, value] of Object.entries(sanitizeLabels(fromDetails))) {
    if (room === 0) break;
    if (NOT_FROM_DETAILS.has(name)) continue;
    labels[name] = value;
    room -= 1;
  }
  return { ...labels, ...own };
}

function arrayOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function linksOf(body: Json, clientName: string | undefined, clientUrl: string | undefined): { href?: string; text?: string }[] {
  const links: { href?: string; text?: string }[] = [];
  // client_url is PagerDuty's "View in <client>" link; the contract keeps it as the first link.
  if (clientUrl) links.push({ href: clientUrl, text: clientName ? `View in ${clientName}` : "Client" });
  for (const link of arrayOf(body.links)) links.push({ href: optional(link.href), text: optional(link.text) });
  return links;
}

/** `POST /v2/enqueue`: a trigger becomes a firing alert, a resolve a resolved one, an acknowledge an acknowledge message. */
export function readAlertEvent(body: Json, ctx: ReadContext): AlertEventResult {
  const errors: string[] = [];
  checkRoutingKey(errors, body);
  const rawAction = body.event_action;
  let action: EventAction | undefined;
  if (rawAction === undefined || rawAction === null || rawAction === "") errors.push(ERRORS.missing("event_action"));
  else if ((EVENT_ACTIONS as readonly unknown[]).includes(rawAction)) action = rawAction as EventAction;
  else errors.push(ERRORS.eventAction);

  const dedupErrors = errors.length;
  let dedupKey = readDedupKey(errors, body.dedup_key);
  if (dedupKey === undefined && errors.length === dedupErrors && (action === "acknowledge" || action === "resolve")) {
    errors.push(ERRORS.missing("dedup_key"));
  }
  if (action !== "trigger") {
    if (errors.length > 0 || action === undefined || dedupKey === undefined) return { ok: false, errors };
    if (action === "acknowledge") {
      const message: AcknowledgeMessage = {
        kind: ACKNOWLEDGE_MESSAGE_KIND,
        schema: ACKNOWLEDGE_MESSAGE_SCHEMA_VERSION,
        id: `${EVENTS_V2_SOURCE}-acknowledge:${(ctx.newId ?? randomUUID)()}`,
        source: EVENTS_V2_SOURCE,
        dedupKey,
        receivedAt: ctx.receivedAt,
      };
      return { ok: true, action, dedupKey, message };
    }
    // A resolve carries only the key: PagerDuty reads nothing else, and the router needs nothing else
    // (a resolve goes where its trigger went, and windows only hold back firing alerts).
    const alert = buildAlert({ source: EVENTS_V2_SOURCE, identity: dedupKey, status: "resolved", severity: "info", summary: [] }, ctx);
    return { ok: true, action, dedupKey, alert };
  }

  const payload = body.payload;
  if (!isObject(payload)) {
    errors.push(ERRORS.missing("payload"));
    return { ok: false, errors };
  }
  const summary = required(errors, payload.summary, "payload.summary");
  const sourceHost = required(errors, payload.source, "payload.source");
  const severity = readSeverity(errors, payload.severity);
  const component = optional(payload.component);
  const group = optional(payload.group);
  const alertClass = optional(payload.class);
  const client = optional(body.client);
  const clientUrl = optional(body.client_url);
  if (errors.length > 0 || summary === undefined || sourceHost === undefined || severity === undefined) return { ok: false, errors };

  dedupKey ??= (ctx.newDedupKey ?? (() => randomUUID().replaceAll("-", "")))();
  const details = detailsOf(payload.custom_details);
  // Events are ordered by arrival, as PagerDuty orders them (docs/pagerduty-senders.md): the sender's own
  // timestamp is kept for the responder, in custom_details, unless a detail of that name exists.
  const timestamp = optional(payload.timestamp);
  if (timestamp !== undefined && !Object.hasOwn(details, "timestamp")) details.timestamp = timestamp;

  const alert = buildAlert(
    {
      source: EVENTS_V2_SOURCE,
      identity: dedupKey,
      status: "firing",
      severity,
      summary: [summary],
      sourceHost,
      component,
      group,
      class: alertClass,
      links: linksOf(body, client, clientUrl),
      images: arrayOf(body.images).map((image) => ({ src: optional(image.src), href: optional(image.href), alt: optional(image.alt) })),
      details,
      labels: labelsFor({ source_host: sourceHost, component, group, class: alertClass, client }, payload.custom_details),
    },
    ctx,
  );
  return { ok: true, action, dedupKey, alert };
}

const HTTP_URL = /^https?:\/\/./;

/** `POST /v2/change/enqueue`: the change event as PagerDuty will take it, bounded, with labels for routing. */
export function readChangeEvent(body: Json, ctx: ReadContext): ChangeEventResult {
  const errors: string[] = [];
  checkRoutingKey(errors, body);
  const payload = body.payload;
  if (!isObject(payload)) {
    errors.push(ERRORS.missing("payload"));
    return { ok: false, errors };
  }
  const summary = required(errors, payload.summary, "payload.summary");
  const source = optional(payload.source);
  if (errors.length > 0 || summary === undefined) return { ok: false, errors };

  const timestamp = parseTimestamp(payload.timestamp);
  // Made safe like an alert's fields (no control characters, no bidi overrides), then bounded.
  const event: ChangeMessage["event"] = { payload: { summary: truncate(oneLine(summary), LIMITS.summaryChars) } };
  const visibleSource = source === undefined ? "" : oneLine(source);
  if (visibleSource) event.payload.source = truncate(visibleSource, LIMITS.fieldChars);
  if (timestamp !== undefined) event.payload.timestamp = timestamp;
  if (payload.custom_details !== undefined && payload.custom_details !== null)
    event.payload.custom_details = boundDetails(detailsOf(payload.custom_details));
  const links: NonNullable<ChangeMessage["event"]["links"]> = [];
  for (const link of arrayOf(body.links)) {
    const href = optional(link.href);
    if (!href || !HTTP_URL.test(href) || href.length > LIMITS.urlChars || hasUnsafeChars(href) || !URL.canParse(href)) continue;
    const text = optional(link.text) && oneLine(optional(link.text)!);
    links.push(text ? { href, text: truncate(text, LIMITS.linkTextChars) } : { href });
    if (links.length === LIMITS.links) break;
  }
  if (links.length > 0) event.links = links;

  const message: ChangeMessage = {
    kind: CHANGE_MESSAGE_KIND,
    schema: CHANGE_MESSAGE_SCHEMA_VERSION,
    id: `${EVENTS_V2_SOURCE}-change:${(ctx.newId ?? randomUUID)()}`,
    source: EVENTS_V2_SOURCE,
    receivedAt: ctx.receivedAt,
    labels: labelsFor({ source_host: source }, payload.custom_details),
    event,
  };
  return { ok: true, message };
}
