/**
 * The storm workload for `npm run bench storm`: a deterministic (seeded) hour of alerts the way
 * the router meets them on the queue. 1,000 distinct problems on 20 services, each of which fires
 * and finally resolves; Alertmanager-style re-sends of firing alerts, HA-peer copies, SQS
 * redeliveries (same alert id); 10% of the problems flapping (several firing/resolved episodes
 * within a few minutes); and one burst of 300 new problems on service=checkout within one minute
 * (a dependency outage). Messages come in delivery order, with queue jitter, so some arrive out
 * of order.
 *
 * Alerts are built with the same builder the adapters use, with each source's identity, occurredAt
 * and event-key conventions (prometheus: startsAt/endsAt, re-sends of an episode share an id).
 */
import { buildAlert } from "../lib/alert/build.ts";
import { digest } from "../lib/alert/limits.ts";
import { parseAlert, type NormalizedAlert, type Severity } from "../lib/alert/schema.ts";

export type ProblemKind = "steady" | "flapping" | "burst";
export type MessageKind = "first" | "resend" | "ha-peer" | "redelivery";
type Source = "prometheus" | "cloudwatch" | "datadog";

export interface Episode {
  /** Simulated epoch ms: when the source saw the problem start and end. */
  startsAt: number;
  endsAt: number;
}

export interface Problem {
  dedupKey: string;
  kind: ProblemKind;
  source: Source;
  service: string;
  team: string;
  alertname: string;
  severity: Severity;
  /** The pod, host or endpoint the alert is about. */
  instance: string;
  /** At least one; the last one ends the problem (its final source state is resolved). */
  episodes: Episode[];
}

export interface Message {
  alert: NormalizedAlert;
  /** Simulated epoch ms at which the message reaches the router. */
  deliverAt: number;
  kind: MessageKind;
  problem: Problem;
}

export interface StormWorkloadOptions {
  seed?: number;
  /** Exactly this many messages. Default 5,000. */
  alerts?: number;
  /** Distinct problems (dedup keys). Default 1,000. */
  problems?: number;
  /** Share of the problems that flap. Default 0.1. */
  flappingShare?: number;
  /** New problems on one service within one minute. Default 300. */
  burst?: number;
  /** Simulated length of the run in minutes; every problem ends before it. Default 60. */
  minutes?: number;
  /** Simulated epoch ms of the start. Default 2026-11-26T17:00:00Z. */
  startMs?: number;
}

export interface StormWorkload {
  startMs: number;
  endMs: number;
  burstService: string;
  burstStartMs: number;
  problems: Problem[];
  /** In delivery order. */
  messages: Message[];
  services: number;
  teams: number;
}

export const BURST_SERVICE = "checkout";

/** 20 services, 5 teams; checkout (payments) takes the burst. */
export const SERVICES: readonly { service: string; team: string }[] = [
  ...["checkout", "payments-api", "billing", "ledger", "fraud"].map((service) => ({ service, team: "payments" })),
  ...["web-frontend", "search", "catalog", "cart", "recommendations"].map((service) => ({ service, team: "storefront" })),
  ...["api-gateway", "auth", "kafka", "postgres-main", "redis-cache"].map((service) => ({ service, team: "platform" })),
  ...["etl", "warehouse"].map((service) => ({ service, team: "data" })),
  ...["mobile-bff", "push-notifications", "app-config"].map((service) => ({ service, team: "mobile" })),
];

/** alertname → its usual severity; the weights make latency and errors the common ones. */
const ALERTNAMES: readonly { alertname: string; severity: Severity; weight: number }[] = [
  { alertname: "HighLatency", severity: "warning", weight: 5 },
  { alertname: "HighErrorRate", severity: "critical", weight: 4 },
  { alertname: "TargetDown", severity: "critical", weight: 3 },
  { alertname: "InstanceDown", severity: "critical", weight: 2 },
  { alertname: "PodCrashLooping", severity: "error", weight: 3 },
  { alertname: "DiskFillingUp", severity: "warning", weight: 2 },
  { alertname: "QueueBacklog", severity: "error", weight: 2 },
  { alertname: "HighMemory", severity: "warning", weight: 2 },
  { alertname: "ReplicationLag", severity: "error", weight: 1 },
  { alertname: "CertificateExpiringSoon", severity: "info", weight: 1 },
];

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
/** Alertmanager: first notification after group_wait, re-sent every group_interval while the group keeps changing. */
const GROUP_WAIT = 30 * SECOND;
const GROUP_INTERVAL = 3 * MINUTE;
/** Datadog re-notifies while a monitor stays in alert. */
const RENOTIFY = 10 * MINUTE;
const ACCOUNT = "123456789012";

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateStormWorkload(options: StormWorkloadOptions = {}): StormWorkload {
  const random = seededRandom(options.seed ?? 1);
  const total = options.alerts ?? 5_000;
  const problemCount = options.problems ?? 1_000;
  const flappingCount = Math.round(problemCount * (options.flappingShare ?? 0.1));
  const burstCount = Math.min(options.burst ?? 300, problemCount - flappingCount);
  const steadyCount = problemCount - flappingCount - burstCount;
  const minutes = options.minutes ?? 60;
  const startMs = options.startMs ?? Date.UTC(2026, 10, 26, 17, 0);
  const endMs = startMs + minutes * MINUTE;
  const lastEnd = endMs - 2 * MINUTE;

  const uniform = (min: number, max: number) => min + random() * (max - min);
  const int = (min: number, max: number) => Math.floor(uniform(min, max + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const weighted = <T extends { weight: number }>(items: readonly T[]): T => {
    let r = random() * items.reduce((sum, item) => sum + item.weight, 0);
    for (const item of items) if ((r -= item.weight) < 0) return item;
    return items[items.length - 1]!;
  };
  const sourceFor = (): Source => {
    const r = random();
    return r < 0.7 ? "prometheus" : r < 0.9 ? "datadog" : "cloudwatch";
  };

  const problems: Problem[] = [];
  let serial = 0;
  function addProblem(
    kind: ProblemKind,
    source: Source,
    svc: { service: string; team: string },
    alert: { alertname: string; severity: Severity },
    episodes: Episode[],
    instance: string,
  ): void {
    serial += 1;
    const identity =
      source === "prometheus"
        ? `prometheus:${alert.alertname}:${digest(`${svc.service}/${instance}/${serial}`, 16)}`
        : source === "cloudwatch"
          ? `cloudwatch:${ACCOUNT}:eu-west-1:${svc.service}-${alert.alertname}-${serial}`
          : `datadog:${4_000_000 + serial}:service:${svc.service},host:${instance}`;
    problems.push({ dedupKey: identity, kind, source, ...svc, ...alert, instance, episodes });
  }

  // Steady problems: one episode, 1 to 22 minutes, starting anywhere in the first 48 minutes.
  for (let i = 0; i < steadyCount; i += 1) {
    const svc = pick(SERVICES);
    const startsAt = startMs + Math.floor(uniform(0, 48 * MINUTE));
    const length = random() < 0.6 ? uniform(1 * MINUTE, 8 * MINUTE) : uniform(8 * MINUTE, 22 * MINUTE);
    addProblem(
      "steady",
      sourceFor(),
      svc,
      weighted(ALERTNAMES),
      [{ startsAt, endsAt: Math.min(lastEnd, Math.floor(startsAt + length)) }],
      `${svc.service}-${int(0, 40)}`,
    );
  }

  // Flapping problems: 3 to 5 short episodes within a few minutes (a threshold hovering at its limit).
  for (let i = 0; i < flappingCount; i += 1) {
    const svc = pick(SERVICES);
    const episodes: Episode[] = [];
    let at = startMs + Math.floor(uniform(2 * MINUTE, 44 * MINUTE));
    const count = weighted([
      { n: 3, weight: 3 },
      { n: 4, weight: 4 },
      { n: 5, weight: 3 },
    ]).n;
    for (let e = 0; e < count; e += 1) {
      const startsAt = at;
      const endsAt = Math.floor(startsAt + uniform(30 * SECOND, 100 * SECOND));
      episodes.push({ startsAt, endsAt });
      at = Math.floor(endsAt + uniform(25 * SECOND, 120 * SECOND));
    }
    const alert = weighted(
      ALERTNAMES.filter(
        (a) =>
          a.alertname === "HighLatency" ||
          a.alertname === "HighErrorRate" ||
          a.alertname === "QueueBacklog" ||
          a.alertname === "ReplicationLag",
      ),
    );
    addProblem("flapping", random() < 0.8 ? "prometheus" : "datadog", svc, alert, episodes, `${svc.service}-${int(0, 40)}`);
  }

  // The burst: a dependency of checkout fails at minute 30; within one minute every pod and
  // endpoint of checkout alerts. It recovers around minute 40, the alerts clearing over a few minutes.
  const burstStartMs = startMs + Math.min(30 * MINUTE, Math.floor(minutes / 2) * MINUTE);
  const burstSvc = SERVICES.find((s) => s.service === BURST_SERVICE)!;
  for (let i = 0; i < burstCount; i += 1) {
    const startsAt = burstStartMs + Math.floor(uniform(0, 55 * SECOND));
    const endsAt = Math.min(lastEnd, Math.floor(burstStartMs + 10 * MINUTE + uniform(-1 * MINUTE, 5 * MINUTE)));
    const share = i / burstCount;
    const alert =
      share < 0.4
        ? { alertname: "TargetDown", severity: "critical" as const }
        : share < 0.75
          ? { alertname: "HighErrorRate", severity: "critical" as const }
          : { alertname: "HighLatency", severity: "warning" as const };
    addProblem("burst", "prometheus", burstSvc, alert, [{ startsAt, endsAt }], `checkout-${i}`);
  }

  // Messages: what each source sends for each episode, then copies up to the exact total.
  type Draft = {
    problem: Problem;
    status: "firing" | "resolved";
    occurredAt: number;
    receivedAt: number;
    eventKey: string;
    kind: MessageKind;
    episode: Episode;
  };
  const drafts: Draft[] = [];
  for (const problem of problems) {
    for (const episode of problem.episodes) {
      const { startsAt, endsAt } = episode;
      const firing = (receivedAt: number, kind: MessageKind, n: number): Draft => ({
        problem,
        status: "firing",
        occurredAt: startsAt,
        receivedAt,
        kind,
        episode,
        eventKey:
          problem.source === "prometheus"
            ? iso(startsAt)
            : problem.source === "cloudwatch"
              ? `${iso(startsAt)}/ALARM`
              : `alert-${startsAt}-${n}`,
      });
      if (problem.source === "prometheus") {
        const first = startsAt + GROUP_WAIT + Math.floor(uniform(0, 5 * SECOND));
        drafts.push(firing(first, "first", 0));
        for (let at = first + GROUP_INTERVAL, n = 1; at < endsAt; at += GROUP_INTERVAL, n += 1)
          drafts.push(firing(at + Math.floor(uniform(0, 10 * SECOND)), "resend", n));
      } else if (problem.source === "datadog") {
        const first = startsAt + Math.floor(uniform(5 * SECOND, 30 * SECOND));
        drafts.push(firing(first, "first", 0));
        for (let at = first + RENOTIFY, n = 1; at < endsAt; at += RENOTIFY, n += 1) drafts.push(firing(at, "resend", n));
      } else {
        drafts.push(firing(startsAt + Math.floor(uniform(1 * SECOND, 5 * SECOND)), "first", 0));
      }
      const resolveDelay = problem.source === "prometheus" ? uniform(5 * SECOND, 60 * SECOND) : uniform(1 * SECOND, 30 * SECOND);
      drafts.push({
        problem,
        status: "resolved",
        occurredAt: endsAt,
        receivedAt: Math.floor(endsAt + resolveDelay),
        kind: "first",
        episode,
        eventKey:
          problem.source === "prometheus" ? iso(startsAt) : problem.source === "cloudwatch" ? `${iso(endsAt)}/OK` : `recovery-${endsAt}`,
      });
    }
  }

  // Too many: drop source re-sends (never a first notification). Too few: add copies.
  const resends = drafts.filter((d) => d.kind === "resend");
  let excess = drafts.length - total;
  if (excess > resends.length)
    throw new Error(
      `the workload needs at least ${drafts.length - resends.length} messages for ${problemCount} problems; asked for ${total}`,
    );
  if (excess > 0) {
    const drop = new Set<Draft>();
    while (drop.size < excess) drop.add(pick(resends));
    for (let i = drafts.length - 1; i >= 0; i -= 1) if (drop.has(drafts[i]!)) drafts.splice(i, 1);
    excess = 0;
  }

  const messages: Message[] = drafts.map((d) => {
    const alert = toAlert(d.problem, d.status, d.occurredAt, d.receivedAt, d.eventKey);
    // Queue and Lambda latency, and now and then a slow path (an adapter retry, a throttled poller).
    const latency = random() < 0.05 ? uniform(5 * SECOND, 60 * SECOND) : uniform(50, 2 * SECOND);
    return { alert, deliverAt: Math.floor(d.receivedAt + latency), kind: d.kind, problem: d.problem };
  });

  // SQS redeliveries (about 3%: the same message again after a visibility timeout), then
  // HA-peer copies of Alertmanager notifications (the same alert id, sent by the second peer).
  const missing = total - messages.length;
  const redeliveries = Math.min(missing, Math.round(total * 0.03));
  const originals = messages.slice();
  for (let i = 0; i < redeliveries; i += 1) {
    const original = pick(originals);
    messages.push({ ...original, deliverAt: original.deliverAt + Math.floor(uniform(20 * SECOND, 90 * SECOND)), kind: "redelivery" });
  }
  const fromAlertmanager = originals.filter((m) => m.problem.source === "prometheus");
  for (let i = redeliveries; i < missing; i += 1) {
    const original = pick(fromAlertmanager);
    const receivedAt = Date.parse(original.alert.receivedAt) + Math.floor(uniform(0, 3 * SECOND));
    messages.push({
      ...original,
      alert: { ...original.alert, receivedAt: iso(receivedAt) },
      deliverAt: original.deliverAt + Math.floor(uniform(0, 3 * SECOND)),
      kind: "ha-peer",
    });
  }

  const order = messages.map((message, index) => ({ message, index }));
  order.sort((a, b) => a.message.deliverAt - b.message.deliverAt || a.index - b.index);
  const sorted = order.map((o) => o.message);
  check(sorted, problems, total, endMs);
  return {
    startMs,
    endMs,
    burstService: BURST_SERVICE,
    burstStartMs,
    problems,
    messages: sorted,
    services: SERVICES.length,
    teams: new Set(SERVICES.map((s) => s.team)).size,
  };
}

function toAlert(
  problem: Problem,
  status: "firing" | "resolved",
  occurredAt: number,
  receivedAt: number,
  eventKey: string,
): NormalizedAlert {
  const { instance } = problem;
  const labels: Record<string, string> = {
    alertname: problem.alertname,
    service: problem.service,
    team: problem.team,
    env: "prod",
    region: "eu-west-1",
    severity: problem.severity,
  };
  if (problem.source === "prometheus") Object.assign(labels, { instance, job: problem.service, namespace: problem.service });
  if (problem.source === "cloudwatch") Object.assign(labels, { account: ACCOUNT });
  if (problem.source === "datadog") Object.assign(labels, { host: instance });
  return buildAlert(
    {
      source: problem.source,
      identity: problem.dedupKey,
      status,
      severity: problem.severity,
      occurredAt: iso(occurredAt),
      summary: [`${problem.alertname} on ${problem.service} (${instance})${status === "resolved" ? " resolved" : ""}`],
      sourceHost: instance,
      component: problem.service,
      class: problem.alertname,
      labels,
      details: { kind: problem.kind },
      eventKey,
    },
    { receivedAt: iso(receivedAt) },
  );
}

/** The invariants the report relies on; a broken generator must not produce a plausible number. */
function check(messages: readonly Message[], problems: readonly Problem[], total: number, endMs: number): void {
  if (messages.length !== total) throw new Error(`storm workload: ${messages.length} messages, expected ${total}`);
  const keys = new Set(problems.map((p) => p.dedupKey));
  if (keys.size !== problems.length) throw new Error("storm workload: dedup keys are not distinct");
  const newest = new Map<string, { at: number; status: string }>();
  for (const { alert } of messages) {
    parseAlert(alert);
    const at = Date.parse(alert.occurredAt);
    const known = newest.get(alert.dedupKey);
    if (known && known.at === at && known.status !== alert.status)
      throw new Error(`storm workload: ${alert.dedupKey} has two states at ${alert.occurredAt}`);
    if (!known || at > known.at) newest.set(alert.dedupKey, { at, status: alert.status });
  }
  for (const problem of problems) {
    const last = newest.get(problem.dedupKey);
    if (last?.status !== "resolved") throw new Error(`storm workload: ${problem.dedupKey} does not end resolved`);
    if (problem.episodes.at(-1)!.endsAt >= endMs) throw new Error(`storm workload: ${problem.dedupKey} ends after the run`);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface BurstWorkloadOptions {
  seed?: number;
  /** New problems per burst, on one routing key. Default 10,000. */
  problems?: number;
  /** Bursts, each `gapMinutes` after the one before; every burst is the same problems firing again. Default 2. */
  bursts?: number;
  gapMinutes?: number;
  startMs?: number;
}

/** The team whose routing key takes the bursts (storefront: one key for every severity). */
export const BURST_TEAM = "storefront";

/**
 * Storms of any size (issue 11): `problems` new problems on one routing key within one minute
 * (every pod and endpoint of one team's services alerting in an outage), resolving 8–15 minutes
 * later; the same problems fire again in a second outage an hour later. Alertmanager-style: the
 * first notification after group_wait, a re-send of some after group_interval, the resolve, and
 * about 3% SQS redeliveries.
 */
export function generateBurstWorkload(options: BurstWorkloadOptions = {}): StormWorkload {
  const random = seededRandom(options.seed ?? 1);
  const count = options.problems ?? 10_000;
  const bursts = options.bursts ?? 2;
  const gap = (options.gapMinutes ?? 60) * MINUTE;
  const startMs = options.startMs ?? Date.UTC(2026, 10, 27, 2, 0);
  const uniform = (min: number, max: number) => min + random() * (max - min);
  const services = SERVICES.filter((s) => s.team === BURST_TEAM);
  const alertnames = ALERTNAMES.filter((a) => ["TargetDown", "HighErrorRate", "HighLatency", "PodCrashLooping"].includes(a.alertname));
  const problems: Problem[] = [];
  for (let i = 0; i < count; i += 1) {
    const svc = services[i % services.length]!;
    const alert = alertnames[Math.floor(random() * alertnames.length)]!;
    const instance = `${svc.service}-${i}`;
    const episodes = Array.from({ length: bursts }, (_, b) => {
      const startsAt = startMs + b * gap + Math.floor(uniform(0, 55 * SECOND));
      return { startsAt, endsAt: Math.floor(startsAt + uniform(8 * MINUTE, 15 * MINUTE)) };
    });
    problems.push({
      dedupKey: `prometheus:${alert.alertname}:${digest(`${svc.service}/${instance}/burst`, 16)}`,
      kind: "burst",
      source: "prometheus",
      ...svc,
      alertname: alert.alertname,
      severity: alert.severity,
      instance,
      episodes,
    });
  }
  const messages: Message[] = [];
  const send = (
    problem: Problem,
    status: "firing" | "resolved",
    occurredAt: number,
    receivedAt: number,
    eventKey: string,
    kind: MessageKind,
  ) => {
    const latency = random() < 0.05 ? uniform(5 * SECOND, 60 * SECOND) : uniform(50, 2 * SECOND);
    messages.push({
      alert: toAlert(problem, status, occurredAt, receivedAt, eventKey),
      deliverAt: Math.floor(receivedAt + latency),
      kind,
      problem,
    });
  };
  for (const problem of problems) {
    for (const { startsAt, endsAt } of problem.episodes) {
      const first = startsAt + GROUP_WAIT + Math.floor(uniform(0, 5 * SECOND));
      send(problem, "firing", startsAt, first, iso(startsAt), "first");
      if (random() < 0.3) send(problem, "firing", startsAt, first + GROUP_INTERVAL, iso(startsAt), "resend");
      send(problem, "resolved", endsAt, Math.floor(endsAt + uniform(5 * SECOND, 60 * SECOND)), iso(startsAt), "first");
    }
  }
  for (const original of messages.filter(() => random() < 0.03))
    messages.push({ ...original, deliverAt: original.deliverAt + Math.floor(uniform(20 * SECOND, 90 * SECOND)), kind: "redelivery" });
  messages.sort((a, b) => a.deliverAt - b.deliverAt);
  const endMs = startMs + (bursts - 1) * gap + 20 * MINUTE;
  check(messages, problems, messages.length, endMs);
  return {
    startMs,
    endMs,
    burstService: services.map((s) => s.service).join("/"),
    burstStartMs: startMs,
    problems,
    messages,
    services: services.length,
    teams: 1,
  };
}
