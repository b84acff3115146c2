/**
 * Builds a normalized alert from what an adapter extracted, applying every bound of the contract
 * in one place, so adapters only decide meaning (status, severity, identity) and never limits.
 * Here too every text that reaches PagerDuty or a console is made safe (limits.ts safeText: no
 * control characters, no bidi overrides): summary, source, component, group, class, link texts,
 * image alts, labels and details. The dedup key is an identity and stays as sent (consoles escape it).
 * The result is valid by construction; the schema still checks it at the queue boundaries.
 */
import { SCHEMA_VERSION, type AlertImage, type AlertLink, type AlertStatus, type NormalizedAlert, type Severity } from "./schema.ts";
import { LIMITS, boundDedupKey, boundDetails, digest, hasUnsafeChars, oneLine, safeText, truncate } from "./limits.ts";
import { parseSeverity } from "./severity.ts";

export interface AlertDraft {
  source: string;
  /** The identity of the problem before bounding, e.g. `cloudwatch:123456789012:us-east-1:HighCPU`. */
  identity: string;
  status: AlertStatus;
  severity: Severity;
  /** ISO 8601; adapters pass what the source said (see parseTimestamp), or undefined to use receivedAt. */
  occurredAt?: string | undefined;
  /** Candidates in order of preference; the first non-blank one is used. */
  summary: readonly (string | undefined | null)[];
  sourceHost?: string | undefined;
  component?: string | undefined;
  group?: string | undefined;
  class?: string | undefined;
  links?: readonly { href?: string | undefined | null; text?: string | undefined | null }[];
  images?: readonly { src?: string | undefined | null; href?: string | undefined | null; alt?: string | undefined | null }[];
  details?: Record<string, unknown>;
  labels?: Record<string, unknown>;
  /** What makes this *event* unique beyond identity/status/time (e.g. a source event id). */
  eventKey?: string | undefined;
}

export interface BuildContext {
  /** When the adapter received the payload (ISO 8601). */
  receivedAt: string;
}

export function buildAlert(draft: AlertDraft, ctx: BuildContext): NormalizedAlert {
  const labels = sanitizeLabels(draft.labels ?? {});
  const dedupKey = boundDedupKey(draft.identity);
  const occurredAt = draft.occurredAt ?? ctx.receivedAt;
  const severity = parseSeverity(labels.severity) ?? draft.severity;
  const summary = firstNonBlank(draft.summary) ?? `${draft.source} alert ${dedupKey}`;
  const alert: NormalizedAlert = {
    schema: SCHEMA_VERSION,
    id: `${draft.source}:${digest(`${dedupKey}\u0000${draft.status}\u0000${occurredAt}\u0000${draft.eventKey ?? ""}`)}`,
    source: draft.source,
    dedupKey,
    status: draft.status,
    severity,
    occurredAt,
    receivedAt: ctx.receivedAt,
    summary: truncate(summary, LIMITS.summaryChars),
    sourceHost: truncate(firstNonBlank([draft.sourceHost]) ?? draft.source, LIMITS.fieldChars),
    links: sanitizeLinks(draft.links ?? []),
    images: sanitizeImages(draft.images ?? []),
    details: boundDetails(draft.details ?? {}),
    labels,
  };
  // Named stores, not alert[key]: a keyed store on this hot path is several times slower.
  const component = optionalField(draft.component);
  if (component) alert.component = component;
  const group = optionalField(draft.group);
  if (group) alert.group = group;
  const alertClass = optionalField(draft.class ?? labels.class);
  if (alertClass) alert.class = alertClass;
  return alert;
}

function optionalField(value: string | undefined): string | undefined {
  const text = value === undefined ? undefined : oneLine(value);
  return text ? truncate(text, LIMITS.fieldChars) : undefined;
}

function firstNonBlank(candidates: readonly (string | undefined | null)[]): string | undefined {
  for (const candidate of candidates) {
    if (typeof candidate !== "string") continue;
    const text = oneLine(candidate);
    if (text) return text;
  }
  return undefined;
}

const INVALID_LABEL_CHARS = /[\s=!~"]/g;
const HAS_INVALID_LABEL_CHAR = /[\s=!~"]/;

/** A label name matchers can address: whitespace, =, !, ~ and quotes become "_" ("__proto__" cannot be a plain own key). */
function labelName(raw: string): string {
  const visible = safeText(raw);
  const safe = HAS_INVALID_LABEL_CHAR.test(visible) ? visible.replace(INVALID_LABEL_CHARS, "_") : visible;
  return safe === "__proto__" ? "_proto_" : truncate(safe, LIMITS.labelKeyChars);
}

/** Flat string map: names made safe for matchers, values stringified and cut, at most LIMITS.labels. */
export function sanitizeLabels(raw: Record<string, unknown>): Record<string, string> {
  const labels: Record<string, string> = {};
  let count = 0;
  for (const rawKey in raw) {
    if (!Object.hasOwn(raw, rawKey)) continue;
    const rawValue = raw[rawKey];
    if (rawValue === undefined || rawValue === null) continue;
    const key = labelName(rawKey);
    if (!key) continue;
    const value = typeof rawValue === "string" ? rawValue : typeof rawValue === "object" ? JSON.stringify(rawValue) : String(rawValue);
    if (!Object.hasOwn(labels, key)) {
      if (count >= LIMITS.labels) continue;
      count += 1;
    }
    labels[key] = truncate(safeText(value), LIMITS.labelValueChars);
  }
  return labels;
}

/** An http(s) URL a browser would open as written: one holding control or bidi characters is not (safeText). */
function isHttpUrl(text: string, httpsOnly: boolean): boolean {
  if (!text.startsWith("https://") && (httpsOnly || !text.startsWith("http://"))) return false;
  if (hasUnsafeChars(text)) return false;
  return text.length <= LIMITS.urlChars && canParseUrl(text);
}

/**
 * URL.canParse, remembered: the same runbook, dashboard and Alertmanager URLs come with every
 * alert of a group and every repeat, and parsing them is a large part of building an alert.
 */
const parsedUrls = new Map<string, boolean>();
function canParseUrl(text: string): boolean {
  let ok = parsedUrls.get(text);
  if (ok === undefined) {
    ok = URL.canParse(text);
    if (parsedUrls.size >= 1024) parsedUrls.clear();
    parsedUrls.set(text, ok);
  }
  return ok;
}

function sanitizeLinks(raw: NonNullable<AlertDraft["links"]>): AlertLink[] {
  const links: AlertLink[] = [];
  for (const { href, text } of raw) {
    if (!href || !isHttpUrl(href, false) || links.some((link) => link.href === href)) continue;
    const link: AlertLink = { href };
    const label = text ? oneLine(text) : "";
    if (label) link.text = truncate(label, LIMITS.linkTextChars);
    links.push(link);
    if (links.length === LIMITS.links) break;
  }
  return links;
}

function sanitizeImages(raw: NonNullable<AlertDraft["images"]>): AlertImage[] {
  const images: AlertImage[] = [];
  for (const { src, href, alt } of raw) {
    if (!src || !isHttpUrl(src, true)) continue;
    const image: AlertImage = { src };
    if (href && isHttpUrl(href, false)) image.href = href;
    if (alt) image.alt = truncate(oneLine(alt), LIMITS.linkTextChars);
    images.push(image);
    if (images.length === LIMITS.images) break;
  }
  return images;
}

/**
 * Reads the timestamps sources send: RFC 3339, CloudWatch's `+0000` offsets, epoch seconds or
 * milliseconds (as numbers or strings). Returns ISO 8601 UTC, or undefined when unreadable or
 * a placeholder (Alertmanager's `0001-01-01T00:00:00Z`).
 */
export function parseTimestamp(value: unknown): string | undefined {
  if (typeof value === "string") {
    const utc = canonicalUtc(value);
    if (utc !== undefined) return utc;
  }
  let ms: number;
  if (typeof value === "number") {
    ms = value < 1e11 ? value * 1000 : value;
  } else if (typeof value === "string") {
    const text = value.trim();
    if (/^\d{9,13}(\.\d+)?$/.test(text)) {
      const n = Number(text);
      ms = n < 1e11 ? n * 1000 : n;
    } else {
      ms = Date.parse(text.replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
    }
  } else {
    return undefined;
  }
  // Outside 1971..9999 is a unit mix-up or garbage, and ISO 8601's extended years fail the schema.
  if (!Number.isFinite(ms) || ms < Date.UTC(1971, 0, 1) || ms > Date.UTC(9999, 11, 31, 23, 59, 59, 999)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

/**
 * The common `2026-11-26T17:40:00(.fraction)Z` in toISOString's form without the Date round trip
 * (about a microsecond); undefined for anything the general path must judge, including dates
 * Date.parse would roll over (Feb 30, hour 24) and years before 1971.
 */
function canonicalUtc(text: string): string | undefined {
  if (text.length < 20 || text.length > 30 || !RFC3339_UTC.test(text)) return undefined;
  const digit = (i: number) => text.charCodeAt(i) - 48;
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const month = digit(5) * 10 + digit(6);
  const day = digit(8) * 10 + digit(9);
  if (year < 1971 || month < 1 || month > 12 || day < 1 || digit(11) * 10 + digit(12) > 23 || digit(14) > 5 || digit(17) > 5)
    return undefined;
  if (day > 28 && day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  const fraction = text.length === 20 ? "000" : `${text.slice(20, -1)}00`.slice(0, 3);
  return `${text.slice(0, 19)}.${fraction}Z`;
}
