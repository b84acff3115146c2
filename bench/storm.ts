/**
 * The storm scenario (issue acceptance): 5,000 alerts — 1,000 distinct problems, duplicates,
 * 10% flapping, one 300-alert burst on one service — through the router wired as deployed
 * (createRouterRuntime with a routes config and its policy sections) on dynalite and the strict
 * fake PagerDuty, on a simulated clock: an hour of alerts in seconds, the sweep every simulated
 * minute, and 30 simulated minutes after the last alert so held resolves are released.
 * Reports PagerDuty events and incidents, and wall time on this machine.
 * Targets: ≤ 1.2 triggers (incidents opened) per real problem, 0 lost resolves.
 *
 * Knobs: STORM_SEED (1), STORM_SCALE (1 = 5,000 alerts / 1,000 problems / burst 300),
 * STORM_CONCURRENCY (10), STORM_TAIL_MINUTES (30), STORM_PD_RATE_LIMIT (events per simulated
 * minute per routing key in the fake PagerDuty, like PagerDuty's ~120; off by default),
 * STORM_POLICIES=off (grouping, flapping and storm protection off: the baseline),
 * STORM_TRACE=<dedup key> (every receive of one problem and every PagerDuty event on its keys).
 */
import { performance } from "node:perf_hooks";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { startDynalite, dynamoClient } from "../test/support/dynalite.ts";
import { startFakePagerDuty, type FakeEvent, type FakeIncident } from "../test/support/fake-pagerduty.ts";
import { stateTableDefinition } from "../lib/local/emulators.ts";
import { windowsTableDefinition } from "../lib/suppression/dynamo-window-store.ts";
import { createRouterRuntime, documentClient, type RouterRuntime } from "../lib/handlers/router-runtime.ts";
import { sweepWatched, type SweepReport } from "../lib/router/sweep.ts";
import { createPagerDutyDeliver } from "../lib/router/deliver.ts";
import { createPagerDutyClient } from "../lib/pagerduty/client.ts";
import { createTelemetry } from "../lib/platform/observability.ts";
import type { Deliver, RouteOutcome } from "../lib/router/router.ts";
import type { ProblemState } from "../lib/router/state.ts";
import {
  BURST_TEAM,
  generateBurstWorkload,
  generateStormWorkload,
  seededRandom,
  type Message,
  type Problem,
  type ProblemKind,
} from "./storm-workload.ts";
import { DEFAULT_EVENTS_PER_MINUTE } from "../lib/router/pacing.ts";
import { fmt, table, verdict } from "./harness.ts";

const TARGET_TRIGGERS_PER_PROBLEM = 1.2;
const SWEEP_EVERY_MS = 60_000;
/** SQS brings back a message the router did not finish (retry, in flight elsewhere) after its visibility timeout. */
const VISIBILITY_MS = 30_000;
/** What the router gets as its deadline per message (simulated ms), like a Lambda's remaining time. */
const HANDLER_BUDGET_MS = 20_000;
/** How far the simulated clock may move ahead while a message is being handled. */
const MAX_BUSY_JUMP_MS = 1_000;

const WRITES = new Set(["UpdateItemCommand", "PutItemCommand", "DeleteItemCommand", "BatchWriteItemCommand", "TransactWriteItemsCommand"]);
const READS = new Set(["GetItemCommand", "QueryCommand", "ScanCommand", "BatchGetItemCommand", "TransactGetItemsCommand"]);

/** The benches' PagerDuty client: short, seeded backoffs against the fake, so a simulated hour runs in seconds. */
export function benchPagerDutyClient(baseUrl: string, seed: number) {
  return createPagerDutyClient({
    baseUrl,
    maxAttempts: 3,
    baseDelayMs: 5,
    maxDelayMs: 20,
    rateLimitBaseMs: 20,
    rateLimitMaxMs: 200,
    random: seededRandom(seed + 1),
  });
}

/** 32 characters, as PagerDuty issues integration keys; the fake refuses anything else. */
export const ROUTING_KEYS: Readonly<Record<string, string>> = {
  "payments-high": "R1paymentshighpaymentshighpayme1",
  "payments-low": "R2paymentslowpaymentslowpayment2",
  storefront: "R3storefrontstorefrontstorefron3",
  platform: "R4platformplatformplatformplatf4",
  default: "R5defaultdefaultdefaultdefaultd5",
};

/** A realistic config: routes by team (payments split by severity), the policy sections beside them. */
export const STORM_ROUTES_CONFIG = {
  routes: [
    { name: "payments-critical", matchers: ["team=payments", "severity=critical"], routingKey: "payments-high" },
    { name: "payments", matchers: ["team=payments"], routingKey: "payments-low" },
    { name: "storefront", matchers: ["team=storefront"], routingKey: "storefront" },
    { name: "platform", matchers: ["team=~platform|data"], routingKey: "platform" },
  ],
  defaultRoute: { routingKey: "default" },
  groups: [
    {
      name: "service-down",
      description: "Targets and instances of one service going down together are one outage.",
      matchers: ["alertname=~.*Down"],
      groupBy: ["service"],
      window: "10m",
    },
  ],
  // The defaults, written out so the report shows what applied.
  flapping: { changes: 3, within: "10m", stableFor: "5m" },
  storm: { newIncidentsPerMinute: 30 },
  // No heartbeat: the workload sends no beats, and a declared one would page "missing" by design.
  heartbeats: [],
};

/** STORM_POLICIES=off: the same routes with grouping, flapping and storm protection turned off (the baseline). */
const POLICIES_OFF = { groups: [], flapping: false, storm: false } as const;

interface Queued {
  message: Message;
  deliverAt: number;
  receives: number;
  seq: number;
}

/** A min-heap on (deliverAt, seq): the queue as the router sees it, redeliveries included. */
class DeliveryQueue {
  private readonly items: Queued[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Queued | undefined {
    return this.items[0];
  }
  push(item: Queued): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): Queued | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l]!, items[m]!)) m = l;
        if (r < items.length && before(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}
const before = (a: Queued, b: Queued) => a.deliverAt < b.deliverAt || (a.deliverAt === b.deliverAt && a.seq < b.seq);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const seconds = (ms: number) => (Number.isNaN(ms) ? "–" : `${fmt(ms / 1000)} s`);

/**
 * What the scheduled sweep does: the runtime's own sweep once it has one; until then as the sweep
 * handler does it, the heartbeat checks (when the runtime has them) and then the watched problems.
 */
function sweeperFor(
  runtime: RouterRuntime,
  now: () => number,
): { kind: string; run: (deadline: number) => Promise<SweepReport | undefined> } {
  type Sweep = (deadline: number) => Promise<SweepReport | undefined>;
  const own = (runtime as unknown as { sweep?: unknown }).sweep;
  if (typeof own === "function") return { kind: "runtime.sweep", run: (deadline) => (own as Sweep).call(runtime, deadline) };
  const heartbeats = (runtime as unknown as { heartbeats?: { sweep?: unknown } }).heartbeats;
  const beats =
    typeof heartbeats?.sweep === "function" ? (heartbeats.sweep as (deadline: number) => Promise<unknown>).bind(heartbeats) : undefined;
  return {
    kind: beats ? "heartbeats.sweep + sweepWatched" : "sweepWatched",
    run: async (deadline) => {
      if (beats) await beats(deadline);
      return sweepWatched(runtime.store, runtime.router, deadline, now);
    },
  };
}

export async function benchStorm(): Promise<string[]> {
  const scale = Number(process.env.STORM_SCALE ?? 1);
  const seed = Number(process.env.STORM_SEED ?? 1);
  const concurrency = Number(process.env.STORM_CONCURRENCY ?? 10);
  const tailMinutes = Number(process.env.STORM_TAIL_MINUTES ?? 30);
  const rateLimit = process.env.STORM_PD_RATE_LIMIT ? Number(process.env.STORM_PD_RATE_LIMIT) : undefined;
  const policiesOn = process.env.STORM_POLICIES !== "off";
  const config = policiesOn ? STORM_ROUTES_CONFIG : { ...STORM_ROUTES_CONFIG, ...POLICIES_OFF };
  const workload = generateStormWorkload({
    seed,
    alerts: Math.round(5_000 * scale),
    problems: Math.round(1_000 * scale),
    burst: Math.round(300 * scale),
  });
  const sim = await simulate({ workload, config, seed, concurrency, tailMinutes, rateLimit, traced: process.env.STORM_TRACE });
  const lines = report({ ...sim, workload, concurrency, seed, rateLimit, policiesOn, tailMinutes });
  if (sim.trace.length > 0) lines.push(...sim.trace);
  const bursts = process.env.STORM_BURSTS === "off" ? [] : await benchStormBursts(seed, concurrency);
  return [...lines, ...bursts];
}

/** `npm run bench storm` runs both; STORM_ONLY=bursts skips the hour of mixed alerts. */
export async function benchStormSections(): Promise<string[]> {
  if (process.env.STORM_ONLY === "bursts")
    return benchStormBursts(Number(process.env.STORM_SEED ?? 1), Number(process.env.STORM_CONCURRENCY ?? 10));
  return benchStorm();
}

interface SimulationOptions {
  workload: Pick<ReturnType<typeof generateStormWorkload>, "problems" | "messages" | "startMs" | "endMs">;
  config: unknown;
  seed: number;
  concurrency: number;
  tailMinutes: number;
  /** Events per simulated minute per routing key the fake PagerDuty accepts before answering 429. */
  rateLimit: number | undefined;
  traced?: string | undefined;
}

/**
 * Runs messages through the router runtime on dynalite and the strict fake PagerDuty on a
 * simulated clock: `concurrency` workers, the sweep every simulated minute, retries coming back
 * after the visibility timeout, or after the delay the router asked for (pacing, Retry-After),
 * which never counts towards the dead-letter receive limit.
 */
async function simulate(options: SimulationOptions) {
  const { workload, config, seed, concurrency, tailMinutes, rateLimit, traced } = options;
  const setupStarted = performance.now();
  const problemsByKey = new Map(workload.problems.map((p) => [p.dedupKey, p]));
  // The simulated clock: router, window cache, sweep and the fake PagerDuty all read it.
  let clock = workload.startMs;
  const db = await startDynalite();
  const fake = await startFakePagerDuty({ now: () => clock });
  if (rateLimit) fake.rateLimit({ perMinute: rateLimit });
  const client = dynamoClient(db.endpoint);
  try {
    type Phase = "alerts" | "sweeps";
    let phase: Phase = "alerts";
    const counts = new Map<string, number>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const table = String((args.input as { TableName?: string }).TableName ?? "?");
        const name = `${phase}|${table}|${context.commandName}`;
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return next(args);
      },
      { step: "initialize", name: "countCommands" },
    );
    const tables = { state: "storm-state", windows: "storm-windows" };
    await client.send(new CreateTableCommand(stateTableDefinition(tables.state)));
    await client.send(new CreateTableCommand(windowsTableDefinition(tables.windows)));

    // PagerDuty's client works in real time (timeouts, backoff); the router's deadlines are simulated.
    // The wrapper hands the client as much real time as the router has simulated time left.
    const pagerDuty = benchPagerDutyClient(fake.url, seed);
    const toPagerDuty = createPagerDutyDeliver(pagerDuty, async (ref) => {
      const key = ROUTING_KEYS[ref];
      if (!key) throw new Error(`no routing key named ${ref}`);
      return key;
    });
    const deliver: Deliver = (alert, delivery, deadline) => toPagerDuty(alert, delivery, Date.now() + Math.max(0, deadline - clock));

    const previousLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = "ERROR";
    const telemetry = createTelemetry("router");
    if (previousLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLogLevel;
    const runtime = createRouterRuntime(
      { STATE_TABLE_NAME: tables.state, WINDOWS_TABLE_NAME: tables.windows, DLQ_URL: "unused", ROUTES_JSON: JSON.stringify(config) },
      { doc: documentClient(client), deliver, now: () => new Date(clock), telemetry },
    );
    const sweep = sweeperFor(runtime, () => clock);
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    // The run: messages in delivery order to `concurrency` workers, one simulated minute at a time,
    // the sweep at the end of each minute; unfinished messages come back after the visibility timeout.
    const queue = new DeliveryQueue();
    let seq = 0;
    for (const message of workload.messages) queue.push({ message, deliverAt: message.deliverAt, receives: 0, seq: seq++ });
    const outcomes = new Map<string, number>();
    const retryReasons = new Map<string, number>();
    const aggregateOf = new Map<string, string>();
    // STORM_TRACE=<dedup key>: every receive of that problem and every PagerDuty event on its keys.
    const trace: string[] = [];
    const minutes = (ms: number) => fmt((ms - workload.startMs) / 60_000, 2);
    const aggregateKinds = new Map<string, string>();
    const deadLettered: { dedupKey: string; reason: string }[] = [];
    let redeliveredByRetry = 0;
    let pacedWaits = 0;
    const sweepTotals = { runs: 0, checked: 0, delivered: 0, failed: 0, unfinished: 0 };
    const lastMessageAt = workload.messages.at(-1)!.deliverAt;
    const stopAt = Math.max(workload.endMs, lastMessageAt) + tailMinutes * 60_000;
    const maxReceives = runtime.maxReceiveCount;

    async function handle(item: Queued): Promise<void> {
      clock = Math.max(clock, item.deliverAt);
      item.receives += 1;
      let outcome: RouteOutcome | { outcome: "error"; reason: string };
      try {
        outcome = await runtime.router.handleAlert(item.message.alert, clock + HANDLER_BUDGET_MS);
      } catch (error) {
        outcome = { outcome: "error", reason: (error as Error).message };
      }
      outcomes.set(outcome.outcome, (outcomes.get(outcome.outcome) ?? 0) + 1);
      if (traced === item.message.alert.dedupKey) {
        const { alert } = item.message;
        trace.push(
          `  +${minutes(clock)} ${item.message.kind} ${alert.status} of ` +
            `${minutes(Date.parse(alert.occurredAt))} (receive ${item.receives}) → ${JSON.stringify(outcome)}`,
        );
      }
      // Group and storm incidents (when the router has them): which aggregate a problem pages through.
      const into = (outcome as { into?: unknown }).into;
      if (typeof into === "string") {
        const kind = (outcome as { kind?: unknown }).kind;
        aggregateOf.set(item.message.alert.dedupKey, into);
        aggregateKinds.set(into, typeof kind === "string" ? kind : "aggregate");
      }
      if (outcome.outcome === "rejected") deadLettered.push({ dedupKey: item.message.alert.dedupKey, reason: outcome.reason });
      if (outcome.outcome === "retry" || outcome.outcome === "in_flight" || outcome.outcome === "error") {
        const reason = outcome.outcome === "in_flight" ? outcome.why : outcome.reason;
        retryReasons.set(
          `${outcome.outcome}: ${reason.replace(/\d+/g, "#")}`,
          (retryReasons.get(`${outcome.outcome}: ${reason.replace(/\d+/g, "#")}`) ?? 0) + 1,
        );
        const waitMs = outcome.outcome === "retry" ? outcome.retryAfterMs : undefined;
        if (waitMs !== undefined) {
          // Asked to wait (pacing, Retry-After): back after that delay, and waiting never dead-letters.
          pacedWaits += 1;
          queue.push({ ...item, receives: item.receives - 1, deliverAt: clock + waitMs, seq: seq++ });
        } else if (item.receives >= maxReceives)
          deadLettered.push({ dedupKey: item.message.alert.dedupKey, reason: `gave up after ${item.receives} receives: ${reason}` });
        else {
          redeliveredByRetry += 1;
          queue.push({ ...item, deliverAt: clock + VISIBILITY_MS, seq: seq++ });
        }
      }
    }

    // Workers take messages in delivery order and move the clock to each one's delivery time. While
    // any message is in flight the clock moves at most MAX_BUSY_JUMP_MS ahead (real time does not
    // leap while a request is out); when all are idle it jumps to the next message.
    let inFlight = 0;
    let waiting: (() => void)[] = [];
    const settled = () => new Promise<void>((resolve) => waiting.push(resolve));
    const wakeAll = () => {
      const wake = waiting;
      waiting = [];
      for (const resolve of wake) resolve();
    };
    async function drain(sliceEnd: number): Promise<void> {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (;;) {
            const next = queue.peek();
            const due = next !== undefined && next.deliverAt < sliceEnd;
            if (!due || (next.deliverAt > clock + MAX_BUSY_JUMP_MS && inFlight > 0)) {
              if (inFlight === 0) return;
              await settled();
              continue;
            }
            queue.pop();
            inFlight += 1;
            try {
              await handle(next);
            } finally {
              inFlight -= 1;
              wakeAll();
            }
          }
        }),
      );
    }

    const runStarted = performance.now();
    let alertsSeconds = 0;
    for (let sliceEnd = workload.startMs + SWEEP_EVERY_MS; ; sliceEnd += SWEEP_EVERY_MS) {
      phase = "alerts";
      await drain(sliceEnd);
      if (queue.size === 0 && alertsSeconds === 0) alertsSeconds = (performance.now() - runStarted) / 1000;
      clock = Math.max(clock, sliceEnd);
      phase = "sweeps";
      const report = await sweep.run(clock + 50_000);
      sweepTotals.runs += 1;
      if (report) {
        sweepTotals.checked += report.checked;
        sweepTotals.delivered += report.delivered;
        sweepTotals.failed += report.failed.length;
        if (report.unfinished) sweepTotals.unfinished += 1;
      }
      if (queue.size === 0 && clock >= stopAt) break;
    }
    const wallSeconds = (performance.now() - runStarted) / 1000;

    // What the router remembers at the end (read after the tally, so these reads are not counted in it).
    const tally = new Map(counts);
    phase = "sweeps";
    const unsettled = { firing: 0, openIn: 0, claimed: 0 };
    const finalStates = new Map<string, ProblemState>();
    for await (const state of runtime.store.list()) {
      finalStates.set(state.dedupKey, state);
      if (!problemsByKey.has(state.dedupKey)) continue;
      if (state.status === "firing") unsettled.firing += 1;
      if (state.openIn) unsettled.openIn += 1;
      if (state.delivery) unsettled.claimed += 1;
    }

    const traceLines: string[] = [];
    if (traced) {
      const keys = new Set([traced, aggregateOf.get(traced)]);
      const sent = fake.events
        .filter((e) => keys.has(e.dedupKey))
        .map((e) => `  +${minutes(e.receivedAt)} PagerDuty ${e.action} ${e.dedupKey} → ${e.effect}`);
      traceLines.push(`Trace of ${traced}:`, ...[...trace, ...sent].sort((a, b) => parseFloat(a.slice(3)) - parseFloat(b.slice(3))), "");
    }
    return {
      problemsByKey,
      events: [...fake.events],
      incidents: fake.incidents(),
      rateLimited: fake.requests.filter((r) => r.status === 429).length,
      requests: fake.requests.length,
      rejected: fake.rejected.length,
      outcomes,
      retryReasons,
      aggregateOf,
      aggregateKinds,
      deadLettered,
      redeliveredByRetry,
      pacedWaits,
      sweepTotals,
      tally,
      tables,
      unsettled,
      finalStates,
      setupSeconds,
      alertsSeconds,
      wallSeconds,
      sweepKind: sweep.kind,
      trace: traceLines,
    };
  } finally {
    client.destroy();
    await fake.close();
    await db.close();
  }
}

interface RunFacts {
  workload: ReturnType<typeof generateStormWorkload>;
  problemsByKey: Map<string, Problem>;
  events: readonly FakeEvent[];
  incidents: FakeIncident[];
  rateLimited: number;
  requests: number;
  rejected: number;
  outcomes: Map<string, number>;
  retryReasons: Map<string, number>;
  /** Problem dedup key → the group/storm incident key it paged through; aggregate key → its kind. */
  aggregateOf: Map<string, string>;
  aggregateKinds: Map<string, string>;
  deadLettered: { dedupKey: string; reason: string }[];
  redeliveredByRetry: number;
  /** Receives the router asked to come back after a delay (pacing, Retry-After). */
  pacedWaits: number;
  sweepTotals: { runs: number; checked: number; delivered: number; failed: number; unfinished: number };
  tally: Map<string, number>;
  tables: { state: string; windows: string };
  unsettled: { firing: number; openIn: number; claimed: number };
  /** Every item of the state table at the end, by dedup key. */
  finalStates: Map<string, ProblemState>;
  setupSeconds: number;
  alertsSeconds: number;
  wallSeconds: number;
  concurrency: number;
  seed: number;
  rateLimit: number | undefined;
  policiesOn: boolean;
  tailMinutes: number;
  sweepKind: string;
}

/** Incidents not on a problem's own dedup key come from a policy (a group, a storm): named by their key or details. */
function policyKind(incident: FakeIncident, opening: FakeEvent | undefined, known: Map<string, string>): string {
  const kind = known.get(incident.dedupKey);
  if (kind) return kind;
  const details = JSON.stringify(
    (opening && "payload" in opening.event ? opening.event.payload.custom_details : undefined) ?? {},
  ).toLowerCase();
  const key = incident.dedupKey.toLowerCase();
  if (key.includes("storm") || details.includes("storm")) return "storm";
  if (key.includes("group") || details.includes("group")) return "group";
  if (key.includes("heartbeat")) return "heartbeat";
  return "other";
}

function report(f: RunFacts): string[] {
  const { workload, problemsByKey, events, incidents } = f;
  const offset = (ms: number) => fmt((ms - workload.startMs) / 60_000, 1);
  const problems = workload.problems;
  const realProblems = problems.length;
  const alerts = workload.messages.length;
  const episodes = problems.reduce((sum, p) => sum + p.episodes.length, 0);
  const kinds: ProblemKind[] = ["steady", "flapping", "burst"];
  const ofKind = (kind: ProblemKind) => problems.filter((p) => p.kind === kind);
  const messagesBy = (kind: Message["kind"]) => workload.messages.filter((m) => m.kind === kind).length;
  let outOfOrder = 0;
  const newest = new Map<string, number>();
  for (const { alert } of workload.messages) {
    const at = Date.parse(alert.occurredAt);
    const known = newest.get(alert.dedupKey);
    if (known !== undefined && at < known) outOfOrder += 1;
    if (known === undefined || at > known) newest.set(alert.dedupKey, at);
  }

  const triggers = events.filter((e) => e.action === "trigger");
  const resolves = events.filter((e) => e.action === "resolve");
  const opened = triggers.filter((e) => e.effect === "opened");
  const count = (list: readonly FakeEvent[], effect: FakeEvent["effect"]) => list.filter((e) => e.effect === effect).length;
  // A de-duplicated trigger that raises severity is a real change; one that does not is a duplicate.
  const lastSeverity = new Map<string, string>();
  let duplicateTriggers = 0;
  let aggregateUpdates = 0;
  let severityRaises = 0;
  const severityOf = (e: FakeEvent) => ("payload" in e.event ? e.event.payload.severity : "");
  for (const e of triggers) {
    const id = `${e.routingKey}|${e.dedupKey}`;
    if (e.effect === "deduplicated") {
      if (severityOf(e) !== lastSeverity.get(id)) severityRaises += 1;
      else if (problemsByKey.has(e.dedupKey)) duplicateTriggers += 1;
      else aggregateUpdates += 1;
    }
    lastSeverity.set(id, severityOf(e));
  }

  const ownIncidents = incidents.filter((i) => problemsByKey.has(i.dedupKey));
  const policyIncidents = incidents.filter((i) => !problemsByKey.has(i.dedupKey));
  const openingEvent = new Map<string, FakeEvent>();
  for (const e of opened) openingEvent.set(`${e.routingKey}|${e.dedupKey}|${e.receivedAt}`, e);
  const policyKinds = new Map<string, { incidents: number; open: number; triggers: number }>();
  for (const incident of policyIncidents) {
    const kind = policyKind(
      incident,
      openingEvent.get(`${incident.routingKey}|${incident.dedupKey}|${incident.openedAt}`),
      f.aggregateKinds,
    );
    const entry = policyKinds.get(kind) ?? { incidents: 0, open: 0, triggers: 0 };
    entry.incidents += 1;
    entry.triggers += incident.triggers;
    if (incident.status !== "resolved") entry.open += 1;
    policyKinds.set(kind, entry);
  }
  const openAtEnd = incidents.filter((i) => i.status !== "resolved");
  const openKeys = new Set(openAtEnd.map((i) => i.dedupKey));
  // A problem's resolve is lost if its own incident, or the group/storm incident it paged through, is still open.
  const lost = new Set(
    problems.filter((p) => openKeys.has(p.dedupKey) || openKeys.has(f.aggregateOf.get(p.dedupKey) ?? "\u0000")).map((p) => p.dedupKey),
  );

  // Per kind of problem: what PagerDuty got on the problem's own key.
  const incidentsByKey = new Map<string, FakeIncident[]>();
  for (const incident of ownIncidents) incidentsByKey.set(incident.dedupKey, [...(incidentsByKey.get(incident.dedupKey) ?? []), incident]);
  const triggersByKey = new Map<string, number>();
  for (const e of triggers) triggersByKey.set(e.dedupKey, (triggersByKey.get(e.dedupKey) ?? 0) + 1);
  const resolvesByKey = new Map<string, number>();
  for (const e of resolves) if (e.effect === "resolved") resolvesByKey.set(e.dedupKey, (resolvesByKey.get(e.dedupKey) ?? 0) + 1);
  const kindRows: string[][] = [
    [
      "problems",
      "count",
      "firing episodes",
      "incidents (own key)",
      "per problem",
      "trigger events",
      "resolves",
      "via group/storm",
      "no incident",
      "lost resolve",
    ],
  ];
  for (const kind of [...kinds, "all" as const]) {
    const list = kind === "all" ? problems : ofKind(kind);
    const sum = (f: (p: Problem) => number) => list.reduce((s, p) => s + f(p), 0);
    const incidentCount = sum((p) => incidentsByKey.get(p.dedupKey)?.length ?? 0);
    kindRows.push([
      kind === "burst" ? `burst (service=${workload.burstService})` : kind,
      fmt(list.length),
      fmt(sum((p) => p.episodes.length)),
      fmt(incidentCount),
      fmt(incidentCount / Math.max(1, list.length), 2),
      fmt(sum((p) => triggersByKey.get(p.dedupKey) ?? 0)),
      fmt(sum((p) => resolvesByKey.get(p.dedupKey) ?? 0)),
      fmt(list.filter((p) => f.aggregateOf.has(p.dedupKey)).length),
      fmt(list.filter((p) => !incidentsByKey.has(p.dedupKey) && !f.aggregateOf.has(p.dedupKey)).length),
      fmt(list.filter((p) => lost.has(p.dedupKey)).length),
    ]);
  }

  // Simulated latency: source start → incident opened; source end → incident resolved (own keys).
  const toPage: number[] = [];
  const toResolve: number[] = [];
  for (const [key, list] of incidentsByKey) {
    const problem = problemsByKey.get(key)!;
    toPage.push(list[0]!.openedAt - problem.episodes[0]!.startsAt);
    const last = list.at(-1)!;
    if (last.resolvedAt !== undefined) toResolve.push(last.resolvedAt - problem.episodes.at(-1)!.endsAt);
  }
  toPage.sort((a, b) => a - b);
  toResolve.sort((a, b) => a - b);

  // Incidents opened per routing key per simulated minute, at the worst minute (what on-call sees in a storm).
  const perMinute = new Map<string, number>();
  for (const e of opened) {
    const id = `${e.routingKey}|${Math.floor(e.receivedAt / 60_000)}`;
    perMinute.set(id, (perMinute.get(id) ?? 0) + 1);
  }
  const worstMinute = Math.max(0, ...perMinute.values());
  const byKeyRows: string[][] = [["routing key", "incidents", "trigger events", "resolve events", "open at end"]];
  for (const [ref, key] of Object.entries(ROUTING_KEYS)) {
    byKeyRows.push([
      ref,
      fmt(incidents.filter((i) => i.routingKey === key).length),
      fmt(triggers.filter((e) => e.routingKey === key).length),
      fmt(resolves.filter((e) => e.routingKey === key).length),
      fmt(openAtEnd.filter((i) => i.routingKey === key).length),
    ]);
  }

  // DynamoDB requests, by phase and table.
  const db = { alerts: { writes: 0, reads: 0 }, sweeps: { writes: 0, reads: 0 }, stateReads: 0, windowScans: 0 };
  for (const [name, n] of f.tally) {
    const [phase, tableName, command] = name.split("|") as ["alerts" | "sweeps", string, string];
    if (WRITES.has(command)) db[phase].writes += n;
    if (READS.has(command)) db[phase].reads += n;
    if (phase === "alerts" && tableName === f.tables.state && READS.has(command)) db.stateReads += n;
    if (tableName === f.tables.windows && command === "ScanCommand") db.windowScans += n;
  }
  const handled = [...f.outcomes.values()].reduce((a, b) => a + b, 0);

  const triggersPerProblem = opened.length / realProblems;
  const lostResolves = lost.size;
  const lines: string[] = [];
  lines.push(
    `Storm: ${fmt(alerts)} alerts over ${fmt((workload.endMs - workload.startMs) / 60_000)} simulated minutes → router ` +
      `runtime (routes + policies) on dynalite + fake PagerDuty; concurrency ${f.concurrency}, seed ${f.seed}` +
      (f.rateLimit ? `, PagerDuty rate limit ${f.rateLimit}/min per key` : ""),
    `  workload: ${fmt(realProblems)} distinct problems on ${workload.services} services / ${workload.teams} ` +
      `teams — ${fmt(ofKind("steady").length)} steady, ${fmt(ofKind("flapping").length)} flapping, ` +
      `${fmt(ofKind("burst").length)} in a burst on service=${workload.burstService} within 1 min at ` +
      `+${fmt((workload.burstStartMs - workload.startMs) / 60_000)} min; ` +
      `${fmt(episodes)} firing episodes, every problem ends resolved`,
    `  messages: ${fmt(messagesBy("first"))} first notifications, ${fmt(messagesBy("resend"))} source re-sends, ` +
      `${fmt(messagesBy("ha-peer"))} HA-peer copies, ${fmt(messagesBy("redelivery"))} SQS redeliveries (same id); ` +
      `${fmt(outOfOrder)} arrive after a newer event of their problem`,
    `  config: routes by team (payments split by severity) to ${Object.keys(ROUTING_KEYS).length} routing keys; ` +
      (f.policiesOn
        ? `group "service-down" (alertname=~.*Down by service, 10m); flapping after more than 3 ` +
          `changes in 10m, stable 5m; storm 30 new incidents/min per key; `
        : "grouping, flapping and storm policies OFF (STORM_POLICIES=off); ") +
      `sweep every simulated minute (${f.sweepKind}), ${f.tailMinutes} simulated minutes after the last alert`,
    "",
  );
  lines.push(
    table([
      ["PagerDuty", "events", "opened", "de-duplicated", "resolved", "dropped"],
      ["trigger", fmt(triggers.length), fmt(opened.length), fmt(count(triggers, "deduplicated")), "", ""],
      ["resolve", fmt(resolves.length), "", "", fmt(count(resolves, "resolved")), fmt(count(resolves, "dropped"))],
    ]),
    "",
    table(kindRows),
    "",
    table(byKeyRows),
    "",
  );
  // The burst, minute by minute: new incidents per routing key (own keys and aggregates alike).
  const burstMinutes: string[] = [];
  const firstBurstMinute = Math.floor(workload.burstStartMs / 60_000);
  for (let m = firstBurstMinute; m < firstBurstMinute + 3; m += 1) {
    const perKey = Object.entries(ROUTING_KEYS)
      .map(([ref, key]) => [ref, perMinute.get(`${key}|${m}`) ?? 0] as const)
      .filter(([, n]) => n > 0)
      .map(([ref, n]) => `${ref} ${n}`);
    burstMinutes.push(`+${m - Math.floor(workload.startMs / 60_000)} min: ${perKey.join(", ") || "none"}`);
  }
  lines.push(
    `Incidents: ${fmt(incidents.length)} opened (${fmt(ownIncidents.length)} on ` +
      `problems' own keys, ${fmt(policyIncidents.length)} on other keys` +
      (policyKinds.size
        ? `: ${[...policyKinds].map(([kind, v]) => `${v.incidents} ${kind} (${v.triggers} triggers folded in)`).join(", ")}`
        : "") +
      `); worst minute on one routing key: ${fmt(worstMinute)} new incidents`,
    `Burst: ${fmt(ofKind("burst").filter((p) => incidentsByKey.has(p.dedupKey)).length)} of ` +
      `${fmt(ofKind("burst").length)} burst problems paged on their own key, ` +
      `${fmt(ofKind("burst").filter((p) => f.aggregateOf.has(p.dedupKey)).length)} through a group/storm incident; new ` +
      `incidents per key — ${burstMinutes.join("; ")}`,
    `Triggers per real problem: ${fmt(opened.length / realProblems, 2)} trigger ` +
      `events that opened an incident ÷ ${fmt(realProblems)} problems; ` +
      `${fmt(triggers.length / realProblems, 2)} trigger events of any effect ÷ ${fmt(realProblems)}`,
    `Duplicate triggers (same severity to a problem's open incident): ${fmt(duplicateTriggers)}; severity raises: ` +
      `${fmt(severityRaises)}; re-triggers of group/storm incidents (updates): ${fmt(aggregateUpdates)}`,
    `Lost resolves: ${fmt(lostResolves)} problems resolved at the source with their incident (own, group or ` +
      `storm) still open; incidents open overall at the end: ${fmt(openAtEnd.length)}; ` +
      `router state at the end: ${fmt(f.unsettled.firing)} firing, ` +
      `${fmt(f.unsettled.openIn)} with a resolve owed, ${fmt(f.unsettled.claimed)} with a claim`,
    `Simulated delays: first page ${seconds(percentile(toPage, 0.5))} p50 / ` +
      `${seconds(percentile(toPage, 0.95))} p95 after the source fired; ` +
      `last resolve ${seconds(percentile(toResolve, 0.5))} p50 / ${seconds(percentile(toResolve, 0.95))} ` +
      `p95 / ${seconds(toResolve.at(-1) ?? Number.NaN)} max after the source resolved`,
    `Router outcomes: ${[...f.outcomes]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(", ")} (${fmt(handled)} receives for ${fmt(alerts)} messages; ` +
      `${fmt(f.redeliveredByRetry)} came back after a retry/in-flight, ${fmt(f.pacedWaits)} after a ` +
      `delay the router asked for (pacing), ${fmt(f.deadLettered.length)} dead-lettered)`,
  );
  for (const key of [...lost].slice(0, 3)) {
    const {
      lastAlert: _alert,
      members: _members,
      changes,
      dedupKey: _key,
      ...state
    } = (f.finalStates.get(key) ?? {}) as Partial<ProblemState> & { members?: unknown; changes?: unknown };
    if (Array.isArray(changes)) Object.assign(state, { changes: `${changes.length} recorded` });
    const problem = problemsByKey.get(key)!;
    const episodes = problem.episodes.map((e) => `${offset(e.startsAt)}–${offset(e.endsAt)}`).join(", ");
    lines.push(`  lost: ${problem.kind} ${key} (episodes at +${episodes} min): ${JSON.stringify(state).slice(0, 900)}`);
  }
  for (const incident of openAtEnd.filter((i) => !problemsByKey.has(i.dedupKey)).slice(0, 3)) {
    lines.push(
      `  open ${f.aggregateKinds.get(incident.dedupKey) ?? "other"} incident ` +
        `${incident.dedupKey} opened at +${offset(incident.openedAt)} min`,
    );
  }
  if (f.retryReasons.size)
    lines.push(
      `  came back because: ${[...f.retryReasons]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([k, v]) => `${v}× ${k}`)
        .join("; ")}`,
    );
  if (f.deadLettered.length)
    lines.push(
      `  dead-lettered: ${f.deadLettered
        .slice(0, 3)
        .map((d) => `${d.dedupKey}: ${d.reason}`)
        .join("; ")}`,
    );
  lines.push(
    `Sweeps: ${fmt(f.sweepTotals.runs)} runs, ${fmt(f.sweepTotals.checked)} problems checked, ` +
      `${fmt(f.sweepTotals.delivered)} delivered, ${fmt(f.sweepTotals.failed)} failed, ${fmt(f.sweepTotals.unfinished)} unfinished`,
    `PagerDuty requests: ${fmt(f.requests)} (${fmt(f.rateLimited)} answered 429, ${fmt(f.rejected)} refused as invalid)`,
    `DynamoDB per alert: ${fmt(db.alerts.writes / alerts, 2)} writes, ${fmt(db.alerts.reads / alerts, 2)} reads while routing ` +
      `(${fmt(db.stateReads / alerts, 2)} state-table reads; ${fmt(db.windowScans)} window-table scans in all); ` +
      `sweeps: ${fmt(db.sweeps.writes)} writes, ${fmt(db.sweeps.reads)} reads`,
    `Wall time: ${fmt(f.wallSeconds, 1)} s (${fmt(f.alertsSeconds, 1)} s until the queue was empty, ` +
      `${fmt(alerts / Math.max(f.alertsSeconds, 1e-9))} alerts/s; setup ${fmt(f.setupSeconds, 1)} s) on this machine, one process`,
    "",
    `Target: ≤ ${TARGET_TRIGGERS_PER_PROBLEM} triggers per real problem (incidents opened ÷ problems) → ` +
      `${fmt(triggersPerProblem, 2)}  ${verdict(triggersPerProblem <= TARGET_TRIGGERS_PER_PROBLEM)}`,
    `Target: 0 lost resolves (incidents still open when every problem has resolved) → ${fmt(openAtEnd.length)} incidents ` +
      `open, ${fmt(lostResolves)} problems affected  ${verdict(openAtEnd.length === 0 && lostResolves === 0)}`,
    "",
  );
  return lines;
}

/** The fake PagerDuty of the burst scenario enforces PagerDuty's documented limit. */
const PAGERDUTY_LIMIT_PER_MINUTE = 120;
const TARGET_INCIDENTS_PER_BURST = 40;

/**
 * Storms of any size (issue 11): STORM_BURST_SIZE (10,000) new problems on one routing key within
 * a minute, all resolving a few minutes later, and the same again an hour later (simulated time),
 * against a fake PagerDuty that answers 429 past 120 events a minute per key.
 */
async function benchStormBursts(seed: number, concurrency: number): Promise<string[]> {
  const size = Number(process.env.STORM_BURST_SIZE ?? 10_000);
  const gapMinutes = 60;
  const workload = generateBurstWorkload({ seed, problems: size, bursts: 2, gapMinutes });
  const sim = await simulate({
    workload,
    config: STORM_ROUTES_CONFIG,
    seed,
    concurrency,
    tailMinutes: 30,
    rateLimit: PAGERDUTY_LIMIT_PER_MINUTE,
  });
  const isAggregateKey = (key: string) => key.startsWith("storm:") || key.startsWith("group:");
  const rows: string[][] = [
    [
      "burst",
      "problems",
      "incidents opened",
      "storm",
      "group",
      "own",
      "represented",
      "all represented after",
      "open at end",
      "lost resolves",
    ],
  ];
  const verdicts: boolean[] = [];
  for (let b = 0; b < 2; b += 1) {
    const from = workload.startMs + b * gapMinutes * 60_000;
    const to = from + gapMinutes * 60_000;
    const opened = sim.incidents.filter((i) => i.openedAt >= from && i.openedAt < to);
    const storms = opened.filter((i) => i.dedupKey.startsWith("storm:"));
    const groups = opened.filter((i) => i.dedupKey.startsWith("group:"));
    const own = opened.filter((i) => !isAggregateKey(i.dedupKey));
    // Represented at PagerDuty: an own incident, or counted in the newest update of a storm or group incident of this burst.
    const updates = sim.events.filter(
      (e) => e.receivedAt >= from && e.receivedAt < to && e.action === "trigger" && isAggregateKey(e.dedupKey),
    );
    const counted = new Map<string, { members: number; at: number }>();
    for (const e of updates) {
      const details = "payload" in e.event ? (e.event.payload.custom_details as { members?: number } | undefined) : undefined;
      counted.set(e.dedupKey, { members: Number(details?.members ?? 0), at: e.receivedAt });
    }
    const represented = own.length + [...counted.values()].reduce((sum, c) => sum + c.members, 0);
    // When PagerDuty first had every problem: own incidents opened plus the newest counts of the aggregates, in time order.
    const timeline = [
      ...own.map((i) => ({ at: i.openedAt, key: i.dedupKey, members: 1 })),
      ...updates.map((e) => ({
        at: e.receivedAt,
        key: e.dedupKey,
        members: Number(("payload" in e.event ? (e.event.payload.custom_details as { members?: number } | undefined)?.members : 0) ?? 0),
      })),
    ].sort((x, y) => x.at - y.at);
    const seen = new Map<string, number>();
    let running = 0;
    let lastAt = Number.NaN;
    for (const point of timeline) {
      running += point.members - (seen.get(point.key) ?? 0);
      seen.set(point.key, point.members);
      if (running >= size) {
        lastAt = point.at;
        break;
      }
    }
    const open = opened.filter((i) => i.status !== "resolved").length;
    // Problems resolved at the source whose incident (own, or the storm or group they are counted in) is still open.
    const openKeys = new Set(opened.filter((i) => i.status !== "resolved").map((i) => i.dedupKey));
    const lost =
      own.filter((i) => openKeys.has(i.dedupKey)).length +
      [...counted].filter(([key]) => openKeys.has(key)).reduce((sum, [, c]) => sum + c.members, 0);
    rows.push([
      `${b + 1} (+${b * gapMinutes} min)`,
      fmt(size),
      fmt(opened.length),
      fmt(storms.length),
      fmt(groups.length),
      fmt(own.length),
      fmt(represented),
      seconds(lastAt - from),
      fmt(open),
      fmt(lost),
    ]);
    verdicts.push(storms.length === 1 && opened.length <= TARGET_INCIDENTS_PER_BURST && represented >= size && open === 0 && lost === 0);
  }
  const writes = [...sim.tally]
    .filter(([name]) => name.startsWith("alerts|") && WRITES.has(name.split("|")[2]!))
    .reduce((sum, [, n]) => sum + n, 0);
  const reads = [...sim.tally]
    .filter(([name]) => name.startsWith("alerts|") && READS.has(name.split("|")[2]!))
    .reduce((sum, [, n]) => sum + n, 0);
  const episodes = size * 2;
  const aggregateEvents = sim.events.filter((e) => isAggregateKey(e.dedupKey)).length;
  return [
    `Storm bursts: ${fmt(size)} new problems on routing key '${BURST_TEAM}' within a minute, ` +
      `resolving 8–15 minutes later, the same again ${gapMinutes} simulated minutes later; ` +
      `${fmt(workload.messages.length)} messages (first notifications, re-sends, 3% SQS redeliveries); ` +
      `fake PagerDuty answers 429 past ${PAGERDUTY_LIMIT_PER_MINUTE} events/min per key; ` +
      `router budget ${DEFAULT_EVENTS_PER_MINUTE}/min per key; storm ` +
      `${STORM_ROUTES_CONFIG.storm.newIncidentsPerMinute} new incidents/min; concurrency ${concurrency}, seed ${seed}`,
    "",
    table(rows),
    "",
    `PagerDuty: ${fmt(sim.requests)} requests, ${fmt(sim.rateLimited)} answered 429, ${fmt(sim.rejected)} ` +
      `refused; ${fmt(sim.events.length)} events (${fmt(aggregateEvents)} to storm/group incidents); ` +
      `incidents open at the end: ${fmt(sim.incidents.filter((i) => i.status !== "resolved").length)}`,
    `Router outcomes: ${[...sim.outcomes]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(", ")}; ${fmt(sim.pacedWaits)} receives waited for pacing; ${fmt(sim.deadLettered.length)} dead-lettered`,
    `DynamoDB while routing: ${fmt(writes)} writes, ${fmt(reads)} reads — ${fmt(writes / episodes, 2)} writes per problem ` +
      `episode (fire + resolve, duplicates included), ${fmt(writes / workload.messages.length, 2)} per message`,
    `Wall time: ${fmt(sim.wallSeconds, 1)} s on this machine, one process`,
    "",
    `Target: 1 storm incident per burst, ≤ ${TARGET_INCIDENTS_PER_BURST} incidents per burst, every problem ` +
      `represented, 0 open at the end, 0 lost resolves → ${verdict(verdicts.every(Boolean))}`,
    `Target: 0 answers 429 from a PagerDuty enforcing ${PAGERDUTY_LIMIT_PER_MINUTE}/min per ` +
      `key → ${fmt(sim.rateLimited)}  ${verdict(sim.rateLimited === 0)}`,
    "",
  ];
}
