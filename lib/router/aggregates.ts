/**
 * Group and storm incidents: several problems paging through one PagerDuty incident (one dedup
 * key). The aggregate is itself a problem item in the state table, so the same decide / claim /
 * deliver / confirm loop pages and resolves it; this module holds the pure parts: which
 * aggregate a problem belongs to, what a member looks like inside it, and the alert that
 * describes the whole aggregate to PagerDuty.
 */
import { SCHEMA_VERSION, type AlertStatus, type NormalizedAlert, type Severity } from "../alert/schema.ts";
import { LIMITS, boundDedupKey, boundDetails, truncate } from "../alert/limits.ts";
import { KEY_PREFIX, RELAY_SOURCE } from "../alert/relay-keys.ts";
import { matches } from "../matchers/matcher.ts";
import { matchSubject } from "../matchers/subject.ts";
import type { GroupRule } from "../routing/policies.ts";
import { SEVERITY_RANK, type ProblemState } from "./state.ts";

export type AggregateKind = "group" | "storm";

/** On a member: the aggregate it pages through, and the last state of it the aggregate has taken in. */
export interface AggregateRef {
  key: string;
  kind: AggregateKind;
  /** The grouping rule's name, or the routing key name for a storm. */
  rule: string;
  /** Absent from joining until the aggregate's PagerDuty state reflects the member. */
  synced?: { status: AlertStatus; at: string };
}

/** One member inside an aggregate item, kept short: an aggregate holds up to MAX_MEMBERS of them. */
export interface MemberEntry {
  /** status, severity, transition time, summary (shortened), source */
  s: AlertStatus;
  v: Severity;
  t: string;
  m: string;
  k: string;
}

/** What the member that opened an aggregate episode lends it: labels route it, the rest describes it. */
export interface Opener {
  labels: Record<string, string>;
  sourceHost: string;
  summary: string;
}

/** The fields only an aggregate item has (beside the ProblemState fields every item has). */
export interface AggregateFields {
  kind?: AggregateKind;
  rule?: string;
  members?: Record<string, MemberEntry>;
  /** Dedup keys of the members now firing (a DynamoDB string set; absent when none fire). */
  firing?: Set<string>;
  openedAt?: string;
  opener?: Opener;
  /** Bumped on every membership change; the derived status is written only from a newer view. */
  version?: number;
  viewVersion?: number;
}

/** A target a problem may join. `windowMs` undefined: joinable for as long as it is open. */
export interface AggregateTarget {
  key: string;
  kind: AggregateKind;
  rule: string;
  windowMs: number | undefined;
}

/** Keeps an aggregate item well under DynamoDB's 400 KB: a problem beyond this pages on its own. */
export const MAX_MEMBERS = 500;
/** Members listed in the PagerDuty event's custom_details (the rest are counted). */
export const LISTED_MEMBERS = 40;
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
  return { key: boundDedupKey(`${KEY_PREFIX.group}${rule.name}${values.length ? `:${values.join(",")}` : ""}`), kind: "group", rule: rule.name, windowMs: rule.windowMs };
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

export const isSynced = (state: ProblemState, ref: AggregateRef) => ref.synced?.status === state.status && ref.synced.at === state.transitionAt;

export function memberEntry(state: ProblemState): MemberEntry {
  const summary = state.lastAlert.summary;
  return {
    s: state.status,
    v: state.severity,
    t: state.transitionAt,
    m: truncate(summary, MEMBER_SUMMARY_CHARS),
    k: state.source,
  };
}

export function openerOf(state: ProblemState): Opener {
  return { labels: state.lastAlert.labels, sourceHost: state.lastAlert.sourceHost, summary: state.lastAlert.summary };
}

/** The aggregate's status, severity and PagerDuty-facing alert, derived from its members. */
export function deriveAggregate(item: ProblemState, now: Date): { status: AlertStatus; severity: Severity; alert: NormalizedAlert } {
  const members = Object.entries(item.members ?? {});
  const firing = members.filter(([, entry]) => entry.s === "firing");
  const status: AlertStatus = firing.length > 0 ? "firing" : "resolved";
  const counted = firing.length > 0 ? firing : members;
  const severity = counted.reduce<Severity>((worst, [, entry]) => (SEVERITY_RANK[entry.v] > SEVERITY_RANK[worst] ? entry.v : worst), "info");
  // Newest first: the list in PagerDuty shows what just joined.
  const listed = [...members].sort(([, a], [, b]) => (a.t < b.t ? 1 : a.t > b.t ? -1 : 0));
  const opener = item.opener ?? { labels: {}, sourceHost: RELAY_SOURCE, summary: item.dedupKey };
  const first = firing[0]?.[1].m ?? opener.summary;
  const summary =
    item.kind === "storm"
      ? `Alert storm on ${item.rule}: ${firing.length} problem${firing.length === 1 ? "" : "s"} firing together (${members.length} in this storm), e.g. ${first}`
      : `${item.rule}: ${firing.length} of ${members.length} grouped alerts firing, e.g. ${first}`;
  const nowIso = now.toISOString();
  const alert: NormalizedAlert = {
    schema: SCHEMA_VERSION,
    id: `${item.dedupKey}@${item.version ?? 0}`.slice(0, LIMITS.idChars),
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
      firing: firing.length,
      members: members.length,
      openedAt: item.openedAt,
      listed: listed.slice(0, LISTED_MEMBERS).map(([dedupKey, entry]) => ({ dedupKey, status: entry.s, severity: entry.v, since: entry.t, source: entry.k, summary: entry.m })),
      ...(members.length > LISTED_MEMBERS ? { notListed: members.length - LISTED_MEMBERS } : {}),
    }),
    // The opener's labels route the aggregate where its first member would have gone.
    labels: Object.keys(opener.labels).length < LIMITS.labels ? { ...opener.labels, [item.kind === "storm" ? "alert_relay_storm" : "alert_relay_group"]: item.rule ?? "" } : opener.labels,
  };
  return { status, severity, alert };
}
