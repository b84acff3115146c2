/**
 * Group and storm incidents: several problems paging through one PagerDuty incident (one dedup
 * key). The aggregate is itself a problem item in the state table, so the same decide / claim /
 * deliver / confirm loop pages and resolves it; this module holds the pure parts: which
 * aggregate a problem belongs to, what a member looks like inside it, and the alert that
 * describes the whole aggregate to PagerDuty.
 */
import { SCHEMA_VERSION, type AlertStatus, type NormalizedAlert, type Severity } from "../alert/schema.ts";
import { LIMITS, boundDedupKey, boundDetails, digest, truncate } from "../alert/limits.ts";
import { KEY_PREFIX, RELAY_SOURCE } from "../alert/relay-keys.ts";
import { matches } from "../matchers/matcher.ts";
import { matchSubject } from "../matchers/subject.ts";
import type { GroupRule } from "../routes/policies.ts";
import { SEVERITY_RANK, type ProblemState } from "./state.ts";

export type AggregateKind = "group" | "storm";

/** A state of a member as its aggregate has counted it: which episode, and what to take back on its leave. */
export interface CountedState {
  status: AlertStatus;
  at: string;
  /** The severity and tally keys counted while it fires (taken back when it resolves). */
  v?: Severity;
  tally?: string[];
}

/** On a member: the aggregate it pages through, and the last state of it the aggregate has counted. */
export interface AggregateRef {
  key: string;
  kind: AggregateKind;
  /** The grouping rule's name, or the routing key name for a storm. */
  rule: string;
  /** The aggregate's episode (its openedAt) this member is counted in; absent until first counted. */
  episode?: string;
  /** Absent from joining until the aggregate's counts reflect the member. */
  synced?: CountedState;
  /** A router instance is changing the counts for this member: others leave it alone until `until`. */
  claim?: { id: string; until: string };
}

/** One recent change of a member, as the aggregate keeps a bounded sample of them. Stored with one-letter names (table.ts). */
export interface SampleEntry {
  dedupKey: string;
  status: AlertStatus;
  severity: Severity;
  /** When the member's status last changed. */
  since: string;
  summary: string;
}

/** A count change being applied by one router instance; kept on the aggregate until the member records it. */
export interface PendingCount {
  op: string;
  /** Tally keys the change counted (so a retry records the same ones on the member). */
  tally?: string[];
}

/** What the member that opened an aggregate episode lends it: labels route it, the rest describes it. */
export interface Opener {
  labels: Record<string, string>;
  sourceHost: string;
  summary: string;
}

/**
 * The fields only an aggregate item has. Membership lives on each member's own item; the
 * aggregate keeps what stays small however many members it has: counts, the firing members per
 * severity and per top label value (a bounded tally), a bounded sample of recent changes, and the
 * count changes in progress (one per member being changed at this moment).
 */
export interface AggregateFields {
  kind?: AggregateKind;
  rule?: string;
  openedAt?: string;
  opener?: Opener;
  /** Members counted in this episode (joins), and how many of them fire. */
  memberCount?: number;
  firingCount?: number;
  /** Firing members per severity. */
  severities?: Partial<Record<Severity, number>>;
  /** Firing members per `service=…` / `alertname=…`, for at most MAX_TALLY_KEYS keys; the rest are `untallied`. */
  tally?: Record<string, number>;
  untallied?: number;
  /** Recent member changes, one per slot (a member's slot is a hash of its key). */
  sample?: Record<string, SampleEntry>;
  pending?: Record<string, PendingCount>;
}

/** A target a problem may join. `windowMs` undefined: joinable for as long as it is open. */
export interface AggregateTarget {
  key: string;
  kind: AggregateKind;
  rule: string;
  windowMs: number | undefined;
}

/** Slots of the recent-changes sample: what PagerDuty's custom_details list. */
export const SAMPLE_SLOTS = 20;
/** Distinct tally keys (service and alertname values) an aggregate counts; bounded so the item stays small. */
export const MAX_TALLY_KEYS = 100;
/** Label values a tally key keeps. */
const TALLY_VALUE_CHARS = 60;
/** How many top services and alert names the summary and details name. */
export const TOP_TALLIES = 3;
/** The labels storms are summarised by. */
export const TALLY_LABELS = ["service", "alertname"] as const;
const MEMBER_SUMMARY_CHARS = 160;

/** The first grouping rule whose matchers match, with the aggregate its group-by labels select. */
export function groupTargetFor(rules: readonly GroupRule[], alert: NormalizedAlert): AggregateTarget | undefined {
  const subject = matchSubject(alert);
  const rule = rules.find((candidate) => matches(candidate.matchers, subject));
  if (!rule) return undefined;
  // Own properties only (a label named "constructor" is a label), and a value that could be read as
  // a separator is quoted, so two different label sets never share a key.
  const values = rule.groupBy.map((label) => {
    const value = Object.hasOwn(subject, label) ? subject[label]! : "";
    return `${label}=${/[,="]/.test(value) ? JSON.stringify(value) : value}`;
  });
  return {
    key: boundDedupKey(`${KEY_PREFIX.group}${rule.name}${values.length ? `:${values.join(",")}` : ""}`),
    kind: "group",
    rule: rule.name,
    windowMs: rule.windowMs,
  };
}

export function stormTarget(routingKeyRef: string): AggregateTarget {
  return { key: `${KEY_PREFIX.storm}${routingKeyRef}`, kind: "storm", rule: routingKeyRef, windowMs: undefined };
}

export const isAggregate = (state: Pick<ProblemState, "kind">) => state.kind !== undefined;

/**
 * Whether the member still pages through its aggregate: yes from joining until the aggregate has
 * taken in its resolve. Any later change is a new episode, which joins anew or pages on its own
 * (and then must resolve on its own too).
 */
export function activeMembership(state: ProblemState): AggregateRef | undefined {
  const ref = state.aggregate;
  if (!ref) return undefined;
  const ended = ref.synced?.status === "resolved" && !(state.status === "resolved" && state.transitionAt === ref.synced.at);
  return ended ? undefined : ref;
}

export const isSynced = (state: ProblemState, ref: AggregateRef) =>
  ref.synced?.status === state.status && ref.synced.at === state.transitionAt;

/** Identifies one count change of a member: the state being counted. */
export const countOp = (member: Pick<ProblemState, "status" | "transitionAt">) => `${member.status}@${member.transitionAt}`;

/** What one member's change does to its aggregate's counts. */
export interface CountChange {
  op: string;
  /** 1 when the member is counted in this episode for the first time. */
  members: 0 | 1;
  firing: -1 | 0 | 1;
  /** The severity and tally keys added (firing +1) or taken back (firing -1). */
  severity?: Severity;
  tally?: string[];
  /** What the member records once the aggregate has counted it (tally keys as applied). */
  counted: CountedState;
}

/**
 * The count change a member's recorded state asks of its aggregate, from what the aggregate has
 * counted of it so far; undefined when that is this very state. Pure, so a redelivery or a racing
 * instance computes the same change, and the aggregate's pending entry makes it count once.
 */
export function countChange(member: ProblemState, ref: AggregateRef): CountChange | undefined {
  const prior = ref.synced;
  const op = countOp(member);
  if (prior && prior.status === member.status && prior.at === member.transitionAt) return undefined;
  if (!prior || prior.status === "resolved") {
    if (member.status === "resolved") return { op, members: 1, firing: 0, counted: { status: "resolved", at: member.transitionAt } };
    const tally = tallyKeys(member.lastAlert);
    return {
      op,
      members: 1,
      firing: 1,
      severity: member.severity,
      tally,
      counted: { status: "firing", at: member.transitionAt, v: member.severity, tally },
    };
  }
  // Counted firing: fired again (its resolve never counted) changes nothing; a resolve takes back what was added.
  if (member.status === "firing") return { op, members: 0, firing: 0, counted: { ...prior, at: member.transitionAt } };
  return {
    op,
    members: 0,
    firing: -1,
    ...(prior.v ? { severity: prior.v } : {}),
    tally: prior.tally ?? [],
    counted: { status: "resolved", at: member.transitionAt },
  };
}

/** `service=checkout`, `alertname=TargetDown`: what a storm is summarised by. */
export function tallyKeys(alert: Pick<NormalizedAlert, "labels"> | undefined): string[] {
  const labels = alert?.labels ?? {};
  return TALLY_LABELS.filter((label) => Object.hasOwn(labels, label) && labels[label] !== "").map(
    (label) => `${label}=${truncate(labels[label]!, TALLY_VALUE_CHARS)}`,
  );
}

/** The sample slot a member's changes go to: recent members spread over SAMPLE_SLOTS entries. */
export function sampleSlot(dedupKey: string): string {
  return `s${Number.parseInt(digest(dedupKey, 8), 16) % SAMPLE_SLOTS}`;
}

export function sampleEntry(state: ProblemState): SampleEntry {
  return {
    dedupKey: state.dedupKey,
    status: state.status,
    severity: state.severity,
    since: state.transitionAt,
    summary: truncate(state.lastAlert?.summary ?? state.dedupKey, MEMBER_SUMMARY_CHARS),
  };
}

export function openerOf(state: ProblemState): Opener {
  return { labels: state.lastAlert.labels, sourceHost: state.lastAlert.sourceHost, summary: state.lastAlert.summary };
}

/** The top tally entries of one label, most firing first: `[["checkout", 7000], ...]`. */
export function topTallies(item: Pick<AggregateFields, "tally">, label: string, count = TOP_TALLIES): [string, number][] {
  const prefix = `${label}=`;
  return Object.entries(item.tally ?? {})
    .filter(([key, n]) => key.startsWith(prefix) && n > 0)
    .map(([key, n]): [string, number] => [key.slice(prefix.length), n])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, count);
}

/** The worst severity with a firing member, else info. */
export function aggregateSeverity(item: Pick<AggregateFields, "severities">): Severity {
  return (Object.keys(SEVERITY_RANK) as Severity[]).reduce<Severity>(
    (worst, v) => ((item.severities?.[v] ?? 0) > 0 && SEVERITY_RANK[v] > SEVERITY_RANK[worst] ? v : worst),
    "info",
  );
}

/** The summary's "top services: a 12, b 3; top alertnames: x 10", empty when nothing is tallied. */
function topPhrase(item: AggregateFields): string {
  const parts = TALLY_LABELS.map((label) => [label, topTallies(item, label)] as const)
    .filter(([, top]) => top.length > 0)
    .map(
      ([label, top]) => `top ${label === "service" ? "services" : "alertnames"}: ${top.map(([value, n]) => `${value} ${n}`).join(", ")}`,
    );
  return parts.join("; ");
}

/** The aggregate's status, severity and PagerDuty-facing alert, derived from its counts. */
export function deriveAggregate(item: ProblemState, now: Date): { status: AlertStatus; severity: Severity; alert: NormalizedAlert } {
  const firing = item.firingCount ?? 0;
  const members = item.memberCount ?? 0;
  const status: AlertStatus = item.status ?? (firing > 0 ? "firing" : "resolved");
  const severity = aggregateSeverity(item);
  // Newest first: the sample in PagerDuty shows what just changed.
  const recent = Object.values(item.sample ?? {}).sort((a, b) => (a.since < b.since ? 1 : a.since > b.since ? -1 : 0));
  const opener = item.opener ?? { labels: {}, sourceHost: RELAY_SOURCE, summary: item.dedupKey };
  const example = recent.find((entry) => entry.status === "firing")?.summary ?? opener.summary;
  const top = topPhrase(item);
  const summary =
    item.kind === "storm"
      ? `Alert storm on ${item.rule}: ${firing} problem${firing === 1 ? "" : "s"} firing ` +
        `(${members} in this storm)${top ? `; ${top}` : `, e.g. ${example}`}`
      : `${item.rule}: ${firing} of ${members} grouped alerts firing, e.g. ${example}`;
  const nowIso = now.toISOString();
  const tallied = Object.fromEntries(
    TALLY_LABELS.map((label) => [label === "service" ? "topServices" : "topAlertnames", Object.fromEntries(topTallies(item, label, 10))]),
  );
  const alert: NormalizedAlert = {
    schema: SCHEMA_VERSION,
    id: `${item.dedupKey}@${members}/${firing}`.slice(0, LIMITS.idChars),
    source: RELAY_SOURCE,
    dedupKey: item.dedupKey,
    status,
    severity,
    occurredAt: nowIso,
    receivedAt: nowIso,
    summary: truncate(summary, LIMITS.summaryChars),
    sourceHost: opener.sourceHost,
    class: item.kind === "storm" ? "alert-storm" : "alert-group",
    links: [],
    images: [],
    // Bounded like every adapter's details: adversarial keys and summaries cannot push it past the contract.
    details: boundDetails({
      [item.kind === "storm" ? "storm" : "group"]: item.rule,
      firing,
      members,
      openedAt: item.openedAt,
      ...tallied,
      ...(item.untallied ? { untallied: item.untallied } : {}),
      recent: recent.map(({ dedupKey, status, severity, since, summary }) => ({ dedupKey, status, severity, since, summary })),
    }),
    // The opener's labels route the aggregate where its first member would have gone.
    labels:
      Object.keys(opener.labels).length < LIMITS.labels
        ? { ...opener.labels, [item.kind === "storm" ? "alert_relay_storm" : "alert_relay_group"]: item.rule ?? "" }
        : opener.labels,
  };
  return { status, severity, alert };
}

/** The aggregate item as the router decides on it: its derived alert and severity filled in. */
export function withDerivedAlert(item: ProblemState, now: Date): ProblemState {
  const { severity, alert } = deriveAggregate(item, now);
  return { ...item, severity, lastAlert: alert, lastAlertId: alert.id };
}
