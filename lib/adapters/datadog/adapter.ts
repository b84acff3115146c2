/**
 * Datadog monitor notifications from the Webhooks integration. Datadog posts whatever JSON the
 * user templated from `$VARIABLES`, every value a string, so fields are found through one alias
 * table rather than a fixed schema, and an unset variable (empty, or left as the literal `$NAME`)
 * counts as absent. README.md holds the recommended template and every mapping table.
 */
import { buildAlert, parseTimestamp } from "../../alert/build.ts";
import { truncate } from "../../alert/limits.ts";
import type { AlertStatus, Severity } from "../../alert/schema.ts";
import { parseSeverity } from "../../alert/severity.ts";
import { defineAdapter, reject, severitySetting } from "../define.ts";

export interface DatadogConfig {
  /** Used when no priority, alert type, Warn transition or `severity:` tag says how bad it is. */
  defaultSeverity: Severity;
}

export const DEFAULT_SEVERITY_SETTING = "DATADOG_DEFAULT_SEVERITY";
export const DEFAULT_SEVERITY: Severity = "error";

/**
 * Where each field may appear, in order of preference. A payload key matches after normalizeKey
 * (case, `_`, `-` and spaces ignored), and a nested key is read with its parents' names in front
 * (`"alert": {"transition": …}` is `alerttransition`), except below a WRAPPER_KEYS object whose
 * children count as top-level. So `ALERT_TRANSITION`, `alert_transition`, `alertTransition` and
 * `alert.transition` are all one key. A matching key must hold text (tags and scope may also be
 * an array of strings): anything else is a rejection naming its path. README.md shows this table.
 */
export const FIELD_ALIASES = {
  eventId: ["id", "eventid"],
  title: ["eventtitle", "title"],
  alertTitle: ["alerttitle", "monitorname", "monitortitle"],
  textMessage: ["textonlymsg", "textonlymessage"],
  eventMessage: ["eventmsg", "eventmessage", "body", "message", "msg", "text"],
  eventType: ["eventtype"],
  transition: ["alerttransition", "transition"],
  alertType: ["alerttype"],
  priority: ["alertpriority", "priority", "monitorpriority"],
  monitorId: ["alertid", "monitorid"],
  scope: ["alertscope", "scope", "scopes"],
  cycleKey: ["alertcyclekey", "cyclekey"],
  aggregKey: ["aggregkey", "aggregationkey"],
  alertStatus: ["alertstatus"],
  alertMetric: ["alertmetric", "metric"],
  alertQuery: ["alertquery", "query", "monitorquery"],
  hostname: ["hostname", "host"],
  tags: ["tags", "eventtags", "alerttags", "monitortags"],
  link: ["link", "eventlink", "url", "eventurl"],
  snapshot: ["snapshot", "snapshoturl", "alertsnapshot"],
  date: ["date", "eventdate", "dateposix", "timestamp"],
  lastUpdated: ["lastupdated"],
  orgId: ["orgid", "organizationid"],
  orgName: ["orgname", "organizationname"],
  class: ["class"],
} as const satisfies Record<string, readonly string[]>;

type Field = keyof typeof FIELD_ALIASES;

/** Containers some templates put every variable under (`{"metadata": {"ALERT_ID": …}}`). */
export const WRAPPER_KEYS: ReadonlySet<string> = new Set([
  "metadata",
  "data",
  "payload",
  "datadog",
  "attributes",
  "fields",
  "details",
  "variables",
]);

interface TransitionMeaning {
  /** How Datadog spells it, for summaries and details. */
  label: string;
  status: AlertStatus;
  /** What the transition alone says about severity, when no priority or alert type does. */
  severity?: Severity;
}

/** `$ALERT_TRANSITION` (or the title's `[…]` prefix), keyed by transitionKey. */
export const TRANSITIONS: ReadonlyMap<string, TransitionMeaning> = new Map([
  ["triggered", { label: "Triggered", status: "firing" }],
  ["retriggered", { label: "Re-Triggered", status: "firing" }],
  ["warn", { label: "Warn", status: "firing", severity: "warning" }],
  ["rewarn", { label: "Re-Warn", status: "firing", severity: "warning" }],
  ["nodata", { label: "No Data", status: "firing" }],
  ["renodata", { label: "Re-No Data", status: "firing" }],
  ["renotify", { label: "Renotify", status: "firing" }],
  ["recovered", { label: "Recovered", status: "resolved" }],
  ["warnrecovered", { label: "Warn Recovered", status: "resolved" }],
  ["nodatarecovered", { label: "No Data Recovered", status: "resolved" }],
]);

const KNOWN_TRANSITIONS = [...TRANSITIONS.values()].map((t) => t.label).join(", ");

/** `$ALERT_TYPE`; a Map, so a value like `constructor` finds nothing rather than Object's prototype. */
export const ALERT_TYPE_SEVERITY: ReadonlyMap<string, Severity> = new Map([
  ["error", "error"],
  ["warning", "warning"],
  ["info", "info"],
  ["success", "info"],
]);

const PRIORITY = /^p[1-5]$/i;
/** What Datadog leaves when a variable does not apply to the monitor type. */
const UNSET_VARIABLE = /^\$[A-Z][A-Z0-9_]*$/;

/** Deep or huge bodies are not templates anyone wrote; the first keys (breadth first) are enough. */
const MAX_DEPTH = 4;
const MAX_INDEXED_KEYS = 1000;

interface Slot {
  value: unknown;
  /** Dotted path in the payload, for rejections. */
  path: string;
}

interface Found {
  text: string;
  path: string;
}

type PayloadIndex = Map<string, Slot[]>;

/** Templates repeat the same few dozen keys, so their normalized forms are remembered (boundedly). */
const normalizedKeys = new Map<string, string>();
const MAX_REMEMBERED_KEYS = 4096;

export function normalizeKey(key: string): string {
  let normalized = normalizedKeys.get(key);
  if (normalized === undefined) {
    normalized = key.toLowerCase().replace(/[^a-z0-9]/g, "");
    if (normalizedKeys.size < MAX_REMEMBERED_KEYS && key.length <= 64) normalizedKeys.set(key, normalized);
  }
  return normalized;
}

function transitionKey(text: string): string {
  return text.toLowerCase().replace(/[^a-z]/g, "");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Every key of the payload under its normalized name; top-level keys come first, so they win. */
function indexPayload(root: Record<string, unknown>): PayloadIndex {
  const index: PayloadIndex = new Map();
  const queue = [{ node: root, prefix: "", path: "", depth: 0 }];
  let indexed = 0;
  for (let i = 0; i < queue.length; i += 1) {
    const { node, prefix, path, depth } = queue[i]!;
    for (const key of Object.keys(node)) {
      if (indexed === MAX_INDEXED_KEYS) return index;
      indexed += 1;
      const value = node[key];
      const normalized = normalizeKey(key);
      const name = prefix + normalized;
      const slot = { value, path: path ? `${path}.${key}` : key };
      const slots = index.get(name);
      if (slots) slots.push(slot);
      else index.set(name, [slot]);
      if (isPlainObject(value) && depth < MAX_DEPTH) {
        queue.push({ node: value, prefix: WRAPPER_KEYS.has(normalized) ? prefix : name, path: slot.path, depth: depth + 1 });
      }
    }
  }
  return index;
}

/** A variable's text, or undefined when unset (numbers are tolerated: some templates leave `$DATE` unquoted). */
function textOf(value: unknown, path: string, expected = "text (Datadog sends every $VARIABLE as a string)"): string | undefined {
  if (typeof value === "string") {
    const text = value.trim();
    return text === "" || UNSET_VARIABLE.test(text) ? undefined : text;
  }
  if (typeof value === "number") return String(value);
  if (value === null || value === undefined) return undefined;
  return reject("wrong_shape", `expected ${expected}, got ${describe(value)}`, path);
}

function readText(index: PayloadIndex, field: Field, accept?: (text: string) => boolean): Found | undefined {
  for (const alias of FIELD_ALIASES[field]) {
    for (const { value, path } of index.get(alias) ?? []) {
      const text = textOf(value, path);
      if (text !== undefined && (accept === undefined || accept(text))) return { text, path };
    }
  }
  return undefined;
}

const LIST_EXPECTED = "comma-separated `key:value` text (or an array of such strings)";

/** `$TAGS` and `$ALERT_SCOPE`: a comma-separated string, or (tolerated) an array of tag strings. */
function readList(index: PayloadIndex, field: "tags" | "scope"): { items: string[]; raw: string } | undefined {
  for (const alias of FIELD_ALIASES[field]) {
    for (const { value, path } of index.get(alias) ?? []) {
      if (Array.isArray(value)) {
        const items: string[] = [];
        value.forEach((item, i) => {
          const text = textOf(item, `${path}.${i}`, "a `key:value` tag string");
          if (text !== undefined) items.push(text);
        });
        if (items.length > 0) return { items, raw: items.join(",") };
        continue;
      }
      const text = textOf(value, path, LIST_EXPECTED);
      if (text === undefined) continue;
      const items = text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
      if (items.length > 0) return { items, raw: text };
    }
  }
  return undefined;
}

interface TitleParts {
  transition?: TransitionMeaning;
  priority?: string;
  /** From `[Triggered on {host:web-1,env:prod}]`. */
  scope?: string;
  /** The title without Datadog's status and priority prefixes: the monitor's name as rendered. */
  name: string;
}

const LEADING_BRACKET = /^\s*\[([^[\]]*)\]/;
const ON_SCOPE = " on {";

/** Reads `[P1] [Triggered on {host:web-1}] CPU high`; a bracket that is neither (`[prod]`) belongs to the name. */
export function parseTitle(title: string): TitleParts {
  const parts: TitleParts = { name: title.trim() };
  let rest = title;
  for (let match = LEADING_BRACKET.exec(rest); match; match = LEADING_BRACKET.exec(rest)) {
    const inner = match[1]!.trim();
    if (PRIORITY.test(inner)) {
      parts.priority ??= inner.toUpperCase();
    } else {
      const on = inner.endsWith("}") ? inner.indexOf(ON_SCOPE) : -1;
      const transition = TRANSITIONS.get(transitionKey(on < 0 ? inner : inner.slice(0, on)));
      if (!transition) break;
      parts.transition ??= transition;
      if (on >= 0) parts.scope ??= inner.slice(on + ON_SCOPE.length, -1);
    }
    rest = rest.slice(match[0].length);
    parts.name = rest.trim();
  }
  return parts;
}

/** `env:prod, host:a` and `host:a,env:prod` are one group: trimmed, de-duplicated, sorted. */
export function normalizeScope(items: readonly string[]): string {
  return [...new Set(items.map((item) => item.trim()).filter((item) => item !== ""))].sort().join(",");
}

/**
 * `key:value` tags (split at the first colon, so `url:https://x` keeps its value), a bare tag
 * becomes `true`, and a key seen twice keeps every distinct value, joined with commas in order.
 */
export function addTags(labels: Map<string, string[]>, items: Iterable<string>): void {
  for (const item of items) {
    const colon = item.indexOf(":");
    const key = (colon < 0 ? item : item.slice(0, colon)).trim();
    if (!key) continue;
    const value = (colon < 0 ? "" : item.slice(colon + 1).trim()) || "true";
    const values = labels.get(key);
    if (!values) labels.set(key, [value]);
    else if (!values.includes(value)) values.push(value);
  }
}

/**
 * Datadog's own monitor URL in `$EVENT_MSG` (the graph and "Monitor Status" links carry
 * `link_source=monitor_notif`). The host is bounded so the scan stays linear on any input.
 */
const MONITOR_URL = /https:\/\/[a-z0-9.-]{1,100}\/monitors\/(\d{1,20})(?:[?#][^\s()<>"[\]]{0,2000})?/gi;
const METRIC_GRAPH = /!\[Metric Graph\]\((https:\/\/[^\s()]{1,2000})\)/;
const DATADOG_SITE = /^https:\/\/[a-z0-9-]+\.(?:datadoghq\.com|datadoghq\.eu|ddog-gov\.com)(?=\/|$)/i;

interface MonitorLink {
  url: string;
  monitorId: string;
  /** The `group=` parameter: the monitor group, as the scope would give it. */
  group?: string;
}

function monitorLinkIn(text: string, anyMonitorUrl: boolean): MonitorLink | undefined {
  for (const match of text.matchAll(MONITOR_URL)) {
    const url = match[0];
    const datadogOwn = url.includes("link_source=monitor_notif") || text.endsWith("[Monitor Status](", match.index);
    if (!anyMonitorUrl && !datadogOwn) continue;
    const link: MonitorLink = { url, monitorId: match[1]! };
    const group = URL.canParse(url) ? new URL(url).searchParams.get("group") : null;
    if (group) link.group = group;
    return link;
  }
  return undefined;
}

/** Built by copying rather than `delete`, which would turn the object into a slow dictionary. */
function definedOnly(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in fields) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}

/** `$EVENT_MSG` wraps its Markdown in `%%%` lines, which mean nothing to a reader. */
function withoutMarkdownFence(text: string): string {
  const start = text.startsWith("%%%") ? 3 : 0;
  const end = text.length > start + 3 && text.endsWith("%%%") ? text.length - 3 : text.length;
  return text.slice(start, end).trim();
}

function firstLine(text: string | undefined): string | undefined {
  return text?.split("\n").find((line) => line.trim() !== "");
}

/** A `severity:constructor` tag would make the shared synonym table answer with Object's prototype. */
function isSafeSeverityTag(key: string, value: string): boolean {
  if (key !== "severity") return true;
  const severity: unknown = parseSeverity(value);
  return severity === undefined || typeof severity === "string";
}

export const datadog = defineAdapter<DatadogConfig>({
  name: "datadog",
  description: "Datadog monitor notifications from the Webhooks integration (a JSON template of $VARIABLES)",
  transports: ["http"],
  config: (env) => ({ defaultSeverity: severitySetting(env, DEFAULT_SEVERITY_SETTING, DEFAULT_SEVERITY) }),
  normalize(payload, ctx) {
    if (!isPlainObject(payload)) {
      reject("wrong_shape", `expected a JSON object (the webhook's payload template), got ${describe(payload)}`);
    }
    const index = indexPayload(payload);
    const read = (field: Field, accept?: (text: string) => boolean) => readText(index, field, accept);

    const title = read("title")?.text;
    const alertTitle = read("alertTitle")?.text;
    const titleParts = parseTitle(title ?? alertTitle ?? "");
    const textMessage = read("textMessage")?.text;
    const eventMessage = read("eventMessage")?.text;
    const message = textMessage ?? (eventMessage === undefined ? undefined : withoutMarkdownFence(eventMessage));
    const eventLink = read("link")?.text;
    const monitorLink =
      (eventMessage === undefined ? undefined : monitorLinkIn(eventMessage, false)) ??
      (textMessage === undefined ? undefined : monitorLinkIn(textMessage, false)) ??
      (eventLink === undefined ? undefined : monitorLinkIn(eventLink, true));

    // Identity: monitor + group first, so each group of a multi-alert monitor is its own incident.
    const monitorId = read("monitorId")?.text ?? monitorLink?.monitorId;
    const scopeList = readList(index, "scope");
    const scopeItems = scopeList?.items ?? (titleParts.scope ?? monitorLink?.group ?? "").split(",");
    const scope = normalizeScope(scopeItems);
    const cycleKey = read("cycleKey")?.text;
    const aggregKey = read("aggregKey")?.text;
    let identity: string;
    if (monitorId !== undefined) identity = scope ? `datadog:${monitorId}:${scope}` : `datadog:${monitorId}`;
    else if (cycleKey !== undefined) identity = `datadog:cycle:${cycleKey}`;
    else if (aggregKey !== undefined) identity = `datadog:aggreg:${aggregKey}`;
    else {
      return reject(
        "wrong_shape",
        'no alert identity: add "monitor_id": "$ALERT_ID" and "scope": "$ALERT_SCOPE" (or "cycle_key": "$ALERT_CYCLE_KEY", or ' +
          '"aggreg_key": "$AGGREG_KEY") to the Datadog webhook payload; see the recommended template in ' +
          "lib/adapters/datadog/README.md",
      );
    }

    const transitionField = read("transition");
    let transition: TransitionMeaning;
    if (transitionField) {
      const known = TRANSITIONS.get(transitionKey(transitionField.text));
      if (!known) {
        return reject(
          "unsupported_event",
          `unknown alert transition "${truncate(transitionField.text, 80)}"; expected one of ${KNOWN_TRANSITIONS}`,
          transitionField.path,
        );
      }
      transition = known;
    } else if (titleParts.transition) {
      transition = titleParts.transition;
    } else {
      return reject(
        "wrong_shape",
        'no alert transition: add "transition": "$ALERT_TRANSITION" to the Datadog webhook ' +
          "payload (the title has no [Triggered]/[Recovered] prefix to read it from)",
      );
    }

    const tags = readList(index, "tags");
    const tagLabels = new Map<string, string[]>();
    addTags(tagLabels, scope ? scope.split(",") : []);
    addTags(tagLabels, tags?.items ?? []);

    const priority =
      read("priority", (text) => PRIORITY.test(text))?.text.toUpperCase() ??
      titleParts.priority ??
      tagLabels
        .get("priority")
        ?.find((value) => PRIORITY.test(value))
        ?.toUpperCase();
    const alertType = read("alertType")?.text;
    const severity =
      parseSeverity(priority) ??
      ALERT_TYPE_SEVERITY.get(alertType?.toLowerCase() ?? "") ??
      transition.severity ??
      ctx.config.defaultSeverity;

    const alertname =
      parseTitle(alertTitle ?? "").name ||
      titleParts.name ||
      firstLine(message) ||
      (monitorId === undefined ? "Datadog alert" : `Datadog monitor ${monitorId}`);
    // No prototype, so tags named `constructor` or `__proto__` are ordinary labels.
    const labels = Object.create(null) as Record<string, string>;
    labels.alertname = alertname;
    if (monitorId !== undefined) labels.monitor_id = monitorId;
    for (const [key, values] of tagLabels) {
      const value = values.join(",");
      if (Object.hasOwn(labels, key) || !isSafeSeverityTag(key, value)) continue;
      labels[key] = value;
    }

    const summaryBase = title ?? alertTitle ?? firstLine(message) ?? alertname;
    const summary = titleParts.transition ? summaryBase : `[${transition.label}${scope ? ` on {${scope}}` : ""}] ${summaryBase}`;

    const date = read("date")?.text;
    const lastUpdated = read("lastUpdated")?.text;
    const eventId = read("eventId")?.text;
    const site = eventLink === undefined ? undefined : DATADOG_SITE.exec(eventLink)?.[0];
    const monitorUrl =
      monitorLink?.url ??
      (site && monitorId !== undefined
        ? `${site}/monitors/${encodeURIComponent(monitorId)}${scope ? `?group=${encodeURIComponent(scope)}` : ""}`
        : undefined);
    const snapshot = read("snapshot")?.text ?? (eventMessage === undefined ? undefined : METRIC_GRAPH.exec(eventMessage)?.[1]);
    const orgId = read("orgId")?.text;
    const orgName = read("orgName")?.text;
    const details = definedOnly({
      message,
      transition: transitionField?.text ?? transition.label,
      event_type: read("eventType")?.text,
      priority,
      alert_type: alertType,
      alert_status: read("alertStatus")?.text,
      alert_query: read("alertQuery")?.text,
      alert_metric: read("alertMetric")?.text,
      monitor_id: monitorId,
      scope: scopeList?.raw ?? (scope || undefined),
      tags: tags?.raw,
      cycle_key: cycleKey,
      aggreg_key: aggregKey,
      event_id: eventId,
      org: orgId !== undefined || orgName !== undefined ? definedOnly({ id: orgId, name: orgName }) : undefined,
    });

    const alert = buildAlert(
      {
        source: "datadog",
        identity,
        status: transition.status,
        severity,
        occurredAt: parseTimestamp(date) ?? parseTimestamp(lastUpdated),
        summary: [summary],
        sourceHost: read("hostname")?.text ?? tagLabels.get("host")?.[0],
        group: scope || undefined,
        class: labels.class ?? read("class")?.text,
        links: [
          { href: monitorUrl, text: "Datadog monitor" },
          { href: eventLink, text: "Datadog event" },
        ],
        images: [{ src: snapshot, href: monitorUrl ?? eventLink, alt: "Datadog graph" }],
        details,
        labels,
        // Datadog retries a failed delivery with the same body: the same event id (or transition
        // and date) must give the same alert id.
        eventKey: eventId !== undefined ? `event:${eventId}` : `transition:${transition.label}:${date ?? lastUpdated ?? ""}`,
      },
      ctx,
    );
    return { alerts: [alert] };
  },
});
