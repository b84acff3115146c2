/**
 * The local stack end to end: webhook → adapter → SQS (local-aws-sqs) → poller → router →
 * DynamoDB (dynalite) → PagerDuty. The stack runs on this thread (its emulators on theirs); the
 * senders and the fake PagerDuty run on a load thread (local-e2e-load.ts), standing in for
 * Alertmanager and PagerDuty, which are other machines in real life.
 * (1) latency at a steady 100 alerts/s, one alert per webhook request, from the call to the
 *     fake receiving the trigger; target p99 ≤ 100 ms.
 * (2) throughput: a blast of distinct problems, 10 per request, timed until the last trigger;
 *     target ≥ 1,000 alerts/s.
 * BENCH_E2E_SECONDS sets the steady phase (default 10 s), BENCH_E2E_ALERTS the blast (default 3,000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { startLocalStack, type LocalStack } from "../lib/local/stack.ts";
import type { LoadCommand, LoadReport, PhaseResult } from "./local-e2e-load.ts";
import { fmt, table, verdict } from "./harness.ts";

const TARGET_P99_MS = 100;
const TARGET_RATE = 1_000;
const STEADY_RATE = 100;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Drives the load thread one phase at a time, measuring this thread's and the process's CPU meanwhile. */
function loadThread() {
  const worker = new Worker(new URL("./local-e2e-load.ts", import.meta.url));
  const reports: LoadReport[] = [];
  let wake: (() => void) | undefined;
  worker.on("message", (report: LoadReport) => {
    reports.push(report);
    wake?.();
  });
  async function next<K extends string>(key: K): Promise<Extract<LoadReport, Record<K, unknown>>> {
    for (;;) {
      const index = reports.findIndex((report) => key in report);
      if (index >= 0) return reports.splice(index, 1)[0] as Extract<LoadReport, Record<K, unknown>>;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return {
    fakeUrl: async () => (await next("ready")).ready,
    async run(command: Exclude<LoadCommand, { phase: "close" }>) {
      worker.postMessage(command);
      await next("started");
      const elu = performance.eventLoopUtilization();
      const cpu = process.cpuUsage();
      const wall = performance.now();
      const result = (await next("latencies")) as PhaseResult;
      const used = process.cpuUsage(cpu);
      return {
        result,
        stackThreadBusy: performance.eventLoopUtilization(elu).utilization,
        processCores: (used.user + used.system) / 1000 / (performance.now() - wall),
      };
    },
    async close() {
      worker.postMessage({ phase: "close" } satisfies LoadCommand);
      await next("closed");
      await worker.terminate();
    },
  };
}

function row(label: string, phase: Awaited<ReturnType<ReturnType<typeof loadThread>["run"]>>): string[] {
  const { result } = phase;
  const rate = result.delivered / result.seconds;
  return [
    label,
    `${result.delivered}/${result.alerts}`,
    `${fmt(percentile(result.answeredIn, 0.5))} / ${fmt(percentile(result.answeredIn, 0.99))}`,
    `${fmt(percentile(result.latencies, 0.5))} / ${fmt(percentile(result.latencies, 0.99))}`,
    fmt(result.alerts / result.sendSeconds),
    fmt(rate),
    `${fmt(phase.stackThreadBusy * 100)} %`,
    fmt(phase.processCores, 2),
  ];
}

export async function benchLocalEndToEnd(): Promise<string[]> {
  const seconds = Number(process.env.BENCH_E2E_SECONDS ?? 10);
  const blastSize = Number(process.env.BENCH_E2E_ALERTS ?? 3_000);
  const load = loadThread();
  const dataDir = mkdtempSync(join(tmpdir(), "alert-relay-bench-"));
  let stack: LocalStack | undefined;
  const lines: string[] = [];
  try {
    const fakeUrl = await load.fakeUrl();
    // The throughput target is per problem paged on its own: storm protection would fold the blast into one incident.
    const routes = JSON.stringify({ routes: [], defaultRoute: { routingKey: "default" }, storm: false });
    stack = await startLocalStack({
      port: 0,
      inMemory: true,
      dataDir,
      quiet: true,
      env: { PAGERDUTY_EVENTS_URL: fakeUrl, PAGERDUTY_ROUTING_KEY: "B".repeat(32), ROUTES_JSON: routes },
    });
    const webhookUrl = stack.webhooks.prometheus!;
    // Warm-up: JIT, connection pools, every poller.
    await load.run({ phase: "blast", webhookUrl, alerts: 300, perRequest: 10, concurrency: 4 });

    const steady = await load.run({ phase: "steady", webhookUrl, rate: STEADY_RATE, seconds });
    const blast = await load.run({ phase: "blast", webhookUrl, alerts: blastSize, perRequest: 10, concurrency: 16 });
    const p99 = percentile(steady.result.latencies, 0.99);
    const rate = blast.result.delivered / blast.result.seconds;
    const health = await stack.health();

    lines.push(
      `Local stack end to end (${cpus().length} CPUs): webhook → adapter → local-aws-sqs → poller → router → dynalite → fake PagerDuty`,
      table([
        [
          "phase",
          "delivered",
          "webhook answer p50/p99 ms",
          "webhook → PagerDuty p50/p99 ms",
          "sent/s",
          "delivered/s",
          "stack thread busy",
          "process CPU (cores)",
        ],
        row(`steady ${STEADY_RATE}/s for ${seconds} s, 1 alert per request`, steady),
        row("blast, 10 alerts per request, 16 in flight", blast),
      ]),
      "",
      `Target: p99 webhook → PagerDuty ≤ ${TARGET_P99_MS} ms at ${STEADY_RATE} alerts/s → ` +
        `${fmt(p99)} ms  ${verdict(steady.result.complete && p99 <= TARGET_P99_MS)}`,
      `Target: ≥ ${fmt(TARGET_RATE)} new problems/s sustained, until the last trigger → ` +
        `${fmt(rate)} alerts/s  ${verdict(blast.result.complete && rate >= TARGET_RATE)}`,
      `Poller: ${health.poller?.batches} batches, ${health.poller?.received} messages, ${health.poller?.failed} failed`,
      "",
    );
  } finally {
    await stack?.stop();
    await load.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return lines;
}
