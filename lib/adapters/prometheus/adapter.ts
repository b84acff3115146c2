/**
 * Prometheus Alertmanager webhook (`webhook_configs`, payload version "4"). One notification
 * carries one alert group; every entry of `alerts[]` becomes its own normalized alert with its
 * own status, because a group mixes firing and resolved alerts. The mapping, the severity words
 * and the Alertmanager configuration are documented in README.md beside this file.
 */
import { choiceSetting, defineAdapter, reject, severitySetting } from "../define.ts";
import { buildAlert, parseTimestamp, type BuildContext } from "../../alert/build.ts";
import { LIMITS, truncate } from "../../alert/limits.ts";
import { parseSeverity } from "../../alert/severity.ts";
import type { AlertStatus, NormalizedAlert, Severity } from "../../alert/schema.ts";

export const FINGERPRINT_SOURCES = ["payload", "compute"] as const;
export type FingerprintSource = (typeof FINGERPRINT_SOURCES)[number];

export interface PrometheusConfig {
  /** `PROMETHEUS_DEFAULT_SEVERITY`, default `warning`: severity of an alert whose `severity` label is absent or not a known word. */
  defaultSeverity: Severity;
  /**
   * `PROMETHEUS_FINGERPRINT`, default `payload`: take the label-set hash in the dedupKey from the
   * alert's `fingerprint` when it has Alertmanager's form (16 hex digits), computing it only when
   * absent; `compute` always computes it, for senders whose `fingerprint` is not Alertmanager's.
   */
  fingerprint: FingerprintSource;
}

type Json = Record<string, unknown>;
type StringMap = Record<string, string>;

/** What every alert of one notification shares. */
interface Notification {
  status: AlertStatus | undefined;
  receiver: string | undefined;
  groupKey: string | undefined;
  externalURL: string | undefined;
  truncatedAlerts: number | undefined;
  /** Only set when not "4": a newer or older payload is accepted when its shape fits, and says so. */
  version: string | undefined;
  /** Host of externalURL, parsed once per notification and only when an alert needs it. */
  externalHost: string | null | undefined;
}

/**
 * Labels that tell alerts of one rule apart, most telling first; the fallback summary names up to
 * MAX_SUMMARY_LABELS of them, e.g. `HighLatency (service=checkout, instance=web-1)`.
 */
const SUMMARY_LABELS = ["service", "instance", "job", "namespace", "pod", "container", "cluster", "env"] as const;
const MAX_SUMMARY_LABELS = 4;
/** Not worth repeating in a summary: the name leads it and severity is its own field. */
const NOT_SUMMARY_LABELS = new Set(["alertname", "severity"]);

/** Labels kept first when an alert has more than the contract allows: what routes, suppresses and describes it. */
const ROUTING_LABELS = [
  "alertname",
  "severity",
  "class",
  "team",
  "service",
  "env",
  "environment",
  "region",
  "cluster",
  "namespace",
  "job",
  "instance",
  "pod",
  "node",
  "component",
  "group",
] as const;

const NO_ANNOTATIONS: StringMap = Object.freeze({}) as StringMap;

export const prometheus = defineAdapter<PrometheusConfig>({
  name: "prometheus",
  description: "Prometheus Alertmanager webhook (webhook_configs, payload version 4): one alert per entry of alerts[]",
  transports: ["http"],
  config: (env) => ({
    defaultSeverity: severitySetting(env, "PROMETHEUS_DEFAULT_SEVERITY", "warning"),
    fingerprint: choiceSetting(env, "PROMETHEUS_FINGERPRINT", FINGERPRINT_SOURCES, "payload"),
  }),
  normalize(payload, ctx) {
    if (!isObject(payload)) {
      reject("wrong_shape", `expected an Alertmanager webhook payload (a JSON object with an alerts array), got ${describe(payload)}`);
    }
    const rawAlerts = payload.alerts;
    if (!Array.isArray(rawAlerts)) reject("wrong_shape", `alerts must be an array of alerts, got ${describe(rawAlerts)}`, "alerts");
    const notification = readNotification(payload);
    const alerts: NormalizedAlert[] = [];
    for (let index = 0; index < rawAlerts.length; index += 1) {
      alerts.push(toAlert(rawAlerts[index], index, notification, ctx.config, ctx));
    }
    const truncated = notification.truncatedAlerts
      ? `Alertmanager left ${notification.truncatedAlerts} alert(s) of group ` +
        `${notification.groupKey ?? "(no groupKey)"} out of this notification (max_alerts); they are not relayed.`
      : "";
    if (alerts.length === 0) return { alerts, notice: `the Alertmanager notification carries no alerts. ${truncated}`.trim() };
    return truncated ? { alerts, notice: truncated } : { alerts };
  },
});

// ---------------------------------------------------------------------------------------------
// Reading and checking the payload
//
// Checked by hand rather than with a zod schema: zod's safeParse of a group of 10 alerts costs
// about as much as JSON.parse of its bytes (12.5 µs vs 14 µs on Node 24), nearly half of what
// normalize may cost in all (the target is parse + normalize ≤ 3× parse). The checks are the ones a
// schema would make for the fields we read — strings where strings are expected, label and
// annotation values strings — and each rejection names its dotted path like parseShape does.
// Fields we do not read (groupLabels, commonLabels, commonAnnotations, newer additions such as
// notification_reason or routeLabels) are not checked: unknown or unused fields never reject.

function readNotification(payload: Json): Notification {
  const truncatedAlerts = payload.truncatedAlerts;
  if (truncatedAlerts != null && (typeof truncatedAlerts !== "number" || !Number.isInteger(truncatedAlerts) || truncatedAlerts < 0)) {
    reject("wrong_shape", `truncatedAlerts must be a whole number of dropped alerts, got ${describe(truncatedAlerts)}`, "truncatedAlerts");
  }
  const version = optionalString(payload.version, "version");
  return {
    // Only a fallback for alerts without their own status, so an odd value is ignored rather than fatal.
    status: payload.status === "firing" || payload.status === "resolved" ? payload.status : undefined,
    receiver: optionalString(payload.receiver, "receiver"),
    groupKey: optionalString(payload.groupKey, "groupKey"),
    externalURL: optionalString(payload.externalURL, "externalURL"),
    truncatedAlerts: truncatedAlerts ?? undefined,
    version: version === "4" ? undefined : version,
    externalHost: undefined,
  };
}

interface AlertmanagerAlert {
  status: AlertStatus;
  labels: StringMap;
  labelCount: number;
  annotations: StringMap;
  startsAt: string | undefined;
  endsAt: string | undefined;
  generatorURL: string | undefined;
  fingerprint: string | undefined;
}

function readAlert(raw: unknown, index: number, notification: Notification): AlertmanagerAlert {
  if (!isObject(raw)) reject("wrong_shape", `an alert must be an object, got ${describe(raw)}`, `alerts.${index}`);
  const labels = raw.labels;
  if (!isObject(labels)) {
    reject(
      "wrong_shape",
      `an alert needs a labels object (its label set is its identity), got ${describe(labels)}`,
      `alerts.${index}.labels`,
    );
  }
  const labelCount = countStringValues(labels);
  if (labelCount < 0) rejectNonString(labels, `alerts.${index}.labels`, "label");
  if (labelCount === 0) reject("wrong_shape", "an alert needs at least one label: its label set is its identity", `alerts.${index}.labels`);

  let annotations = raw.annotations;
  if (annotations == null) {
    annotations = NO_ANNOTATIONS;
  } else {
    if (!isObject(annotations))
      reject("wrong_shape", `annotations must be an object, got ${describe(annotations)}`, `alerts.${index}.annotations`);
    if (countStringValues(annotations) < 0) rejectNonString(annotations, `alerts.${index}.annotations`, "annotation");
  }

  let status: AlertStatus;
  if (raw.status === "firing" || raw.status === "resolved") status = raw.status;
  else if (raw.status == null && notification.status) status = notification.status;
  else status = readStatus(raw.status, `alerts.${index}.status`);

  return {
    status,
    labels: labels as StringMap,
    labelCount,
    annotations: annotations as StringMap,
    startsAt: optionalString(raw.startsAt, `alerts.${index}.startsAt`),
    endsAt: optionalString(raw.endsAt, `alerts.${index}.endsAt`),
    generatorURL: optionalString(raw.generatorURL, `alerts.${index}.generatorURL`),
    fingerprint: optionalString(raw.fingerprint, `alerts.${index}.fingerprint`),
  };
}

function readStatus(value: unknown, path: string): AlertStatus {
  if (value === "firing" || value === "resolved") return value;
  if (value == null) reject("wrong_shape", "the alert has no status (firing or resolved)", path);
  reject("unsupported_event", `status ${describe(value)} is neither firing nor resolved`, path);
}

// ---------------------------------------------------------------------------------------------
// Mapping one alert

function toAlert(raw: unknown, index: number, notification: Notification, config: PrometheusConfig, ctx: BuildContext): NormalizedAlert {
  const alert = readAlert(raw, index, notification);
  const { labels, annotations } = alert;
  const alertname = labels.alertname;
  const firing = alert.status === "firing";
  const startsAt = parseTimestamp(alert.startsAt);
  // Alertmanager marks "not ended" with 0001-01-01T00:00:00Z. Only a resolve needs its end as a
  // time; a firing alert keeps a real endsAt (a sender's expected end) in details as written.
  const endsAtSet = alert.endsAt !== undefined && !alert.endsAt.startsWith("0001-");
  const endsAt = firing || !endsAtSet ? undefined : parseTimestamp(alert.endsAt);

  const details: Json = {};
  if (annotations !== NO_ANNOTATIONS && !isEmpty(annotations)) details.annotations = annotations;
  if (alert.startsAt !== undefined) details.startsAt = alert.startsAt;
  if (endsAtSet) details.endsAt = alert.endsAt;
  if (alert.fingerprint !== undefined) details.fingerprint = alert.fingerprint;
  if (notification.receiver !== undefined) details.receiver = notification.receiver;
  if (notification.groupKey !== undefined) details.groupKey = notification.groupKey;
  if (notification.externalURL !== undefined) details.externalURL = notification.externalURL;
  if (notification.truncatedAlerts) details.truncatedAlerts = notification.truncatedAlerts;
  if (notification.version !== undefined) details.payloadVersion = notification.version;
  const severityWord = labels.severity;
  const severity = parseSeverity(severityWord);
  if (severityWord !== undefined && severity === undefined) {
    details.unrecognizedSeverity = `severity label "${severityWord}" is not a known word; used ${config.defaultSeverity}`;
  }

  return buildAlert(
    {
      source: "prometheus",
      identity: `prometheus:${alertname || "unnamed"}:${fingerprintOf(alert, config)}`,
      status: alert.status,
      // buildAlert applies the same `severity` label override; it is read here too so that an
      // unknown word is reported in details rather than silently becoming the default.
      severity: severity ?? config.defaultSeverity,
      // A resolve without endsAt did end by the time it reached us; startsAt would put the
      // resolve at the moment the problem began, no later than the firing it ends.
      occurredAt: firing ? startsAt : endsAt,
      summary: [
        annotations.summary,
        annotations.description,
        annotations.message,
        hasText(annotations) ? undefined : fallbackSummary(labels),
      ],
      sourceHost: labels.instance || labels.pod || labels.node || labels.host || labels.job || externalHost(notification) || "alertmanager",
      component: labels.component || labels.service || labels.job,
      group: labels.group || labels.namespace || labels.cluster,
      // alertname is the kind of problem, what PagerDuty's class means; a `class` label names a custom type.
      class: labels.class || alertname,
      links: [
        { href: annotations.runbook_url, text: "Runbook" },
        { href: annotations.dashboard, text: "Dashboard" },
        { href: annotations.dashboard_url, text: "Dashboard" },
        { href: alert.generatorURL, text: "Source" },
        { href: notification.externalURL, text: "Alertmanager" },
      ],
      details,
      labels: alert.labelCount > LIMITS.labels ? fitLabels(labels, details) : labels,
      // startsAt marks the firing episode: Alertmanager's repeats of one episode (and the same
      // alert from an HA peer) share it, so they share an id; a new episode after a resolve does not.
      eventKey: startsAt ?? alert.startsAt,
    },
    ctx,
  );
}

/**
 * Alertmanager sends labels sorted by name, so the contract's cap on their number would keep
 * `label_00…` and drop `service`, `severity` or `team`, which routing and suppression match on.
 * Those go first; what does not fit stays readable in details.
 */
function fitLabels(labels: StringMap, details: Json): StringMap {
  const kept: StringMap = {};
  let count = 0;
  for (const name of ROUTING_LABELS) {
    const value = labels[name];
    if (value !== undefined) {
      kept[name] = value;
      count += 1;
    }
  }
  const overLimit: StringMap = {};
  for (const name in labels) {
    if (Object.hasOwn(kept, name)) continue;
    if (count < LIMITS.labels) {
      kept[name] = labels[name]!;
      count += 1;
    } else {
      overLimit[name] = labels[name]!;
    }
  }
  details.labelsOverLimit = overLimit;
  return kept;
}

/**
 * The label set's hash for the dedupKey. Alertmanager's own `fingerprint` is exactly what
 * labelSetFingerprint computes (the tests check it on every captured alert), so it is taken as is
 * when present — hashing the labels would be the costliest step of normalize — and computed when
 * absent: the key is the same either way.
 */
function fingerprintOf(alert: AlertmanagerAlert, config: PrometheusConfig): string {
  const given = alert.fingerprint;
  if (config.fingerprint === "payload" && given !== undefined && FINGERPRINT_FORM.test(given)) return given;
  return labelSetFingerprint(alert.labels);
}

const FINGERPRINT_FORM = /^[0-9a-f]{16}$/;

/**
 * The label set's fingerprint as Alertmanager computes it: 64-bit FNV-1a over the UTF-8 bytes of
 * each sorted name and value, each followed by a 0xff byte, which UTF-8 text never contains, so no
 * label text can imitate a separator. Being Alertmanager's number, the hex at the end of a
 * dedupKey finds the alert in Alertmanager's UI and API.
 */
export function labelSetFingerprint(labels: StringMap): string {
  const names = Object.keys(labels);
  if (!isSorted(names)) names.sort();
  const state = fnvState;
  state[0] = 0xcbf29ce4 | 0;
  state[1] = 0x84222325 | 0;
  for (const name of names) {
    fnvText(name, state);
    fnvText(labels[name]!, state);
  }
  return (state[0]! >>> 0).toString(16).padStart(8, "0") + (state[1]! >>> 0).toString(16).padStart(8, "0");
}

/** The 64-bit FNV state as two int32 halves: integer arithmetic in registers is far cheaper than BigInt. */
const fnvState = new Int32Array(2);
const utf8Bytes = [0, 0, 0, 0];

/**
 * Feeds the UTF-8 bytes of text and then the 0xff separator. Each byte is one FNV-1a step: xor it
 * in, multiply by the prime 2^40 + 0x1b3 modulo 2^64. A lone surrogate counts as U+FFFD, as in Go.
 */
function fnvText(text: string, state: Int32Array): void {
  let hi = state[0]!;
  let lo = state[1]!;
  const length = text.length;
  for (let i = 0; i <= length; i += 1) {
    let count = 1;
    let code = i === length ? 0xff : text.charCodeAt(i);
    if (code >= 0x80 && i < length) {
      if (code >= 0xd800 && code <= 0xdfff) {
        const next = code <= 0xdbff && i + 1 < length ? text.charCodeAt(i + 1) : 0;
        if (next >= 0xdc00 && next <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
          i += 1;
        } else {
          code = 0xfffd;
        }
      }
      if (code < 0x800) {
        utf8Bytes[0] = 0xc0 | (code >> 6);
        count = 2;
      } else if (code < 0x10000) {
        utf8Bytes[0] = 0xe0 | (code >> 12);
        utf8Bytes[1] = 0x80 | ((code >> 6) & 0x3f);
        count = 3;
      } else {
        utf8Bytes[0] = 0xf0 | (code >> 18);
        utf8Bytes[1] = 0x80 | ((code >> 12) & 0x3f);
        utf8Bytes[2] = 0x80 | ((code >> 6) & 0x3f);
        count = 4;
      }
      utf8Bytes[count - 1] = 0x80 | (code & 0x3f);
    }
    for (let b = 0; b < count; b += 1) {
      const x = lo ^ (count === 1 ? code : utf8Bytes[b]!);
      // The carry of x * 0x1b3 out of the low half, from 16-bit pieces so every value stays int32.
      const carry = ((x >>> 16) * 0x1b3 + (((x & 0xffff) * 0x1b3) >>> 16)) >>> 16;
      hi = (Math.imul(hi, 0x1b3) + (x << 8) + carry) | 0;
      lo = Math.imul(x, 0x1b3);
    }
  }
  state[0] = hi;
  state[1] = lo;
}

function isSorted(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i += 1) if (names[i - 1]! > names[i]!) return false;
  return true;
}

function hasText(annotations: StringMap): boolean {
  return !isBlank(annotations.summary) || !isBlank(annotations.description) || !isBlank(annotations.message);
}

function isBlank(text: string | undefined): boolean {
  return text === undefined || text.trim() === "";
}

/** `HighLatency (service=checkout, instance=web-1)`: the rule's name and what tells its alerts apart. */
export function fallbackSummary(labels: StringMap): string {
  const shown: string[] = [];
  for (const name of SUMMARY_LABELS) {
    const value = labels[name];
    if (value) shown.push(`${name}=${value}`);
    if (shown.length >= MAX_SUMMARY_LABELS) break;
  }
  if (shown.length === 0) {
    for (const name of Object.keys(labels)) {
      if (!NOT_SUMMARY_LABELS.has(name)) shown.push(`${name}=${labels[name]}`);
      if (shown.length >= MAX_SUMMARY_LABELS) break;
    }
  }
  const name = labels.alertname || "Alertmanager alert";
  return shown.length > 0 ? `${name} (${shown.join(", ")})` : name;
}

function externalHost(notification: Notification): string | undefined {
  if (notification.externalHost === undefined) {
    const url = notification.externalURL;
    notification.externalHost = url && URL.canParse(url) ? new URL(url).host || null : null;
  }
  return notification.externalHost ?? undefined;
}

// ---------------------------------------------------------------------------------------------
// Small checks

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How many entries the map has, or -1 when a value is not a string. */
function countStringValues(value: Json): number {
  let count = 0;
  for (const key in value) {
    if (typeof value[key] !== "string") return -1;
    count += 1;
  }
  return count;
}

function isEmpty(value: Json): boolean {
  for (const _key in value) return false;
  return true;
}

function rejectNonString(map: Json, path: string, what: string): never {
  for (const key in map) {
    if (typeof map[key] !== "string") reject("wrong_shape", `${what} values must be strings, got ${describe(map[key])}`, `${path}.${key}`);
  }
  reject("wrong_shape", `${what} values must be strings`, path);
}

function optionalString(value: unknown, path: string): string | undefined {
  if (value == null) return undefined;
  if (typeof value === "string") return value;
  reject("wrong_shape", `expected a string, got ${describe(value)}`, path);
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `"${truncate(value, 40)}"`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
