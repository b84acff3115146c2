/**
 * `npm start` survives `kill -9`: an alert it answered 2xx is delivered after a restart on the
 * same data directory, once in effect (one PagerDuty incident per problem), whatever it was doing
 * when it died: delivering, or waiting out a PagerDuty outage. Before the queue journal, 450 of
 * 500 (and, during an outage, all) were lost.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakePagerDuty, type FakePagerDuty } from "../support/fake-pagerduty.ts";
import { waitFor } from "../support/wait-for.ts";

const MAIN = fileURLToPath(new URL("../../lib/local/main.ts", import.meta.url));
const ROUTING_KEY = "Rcrashcrashcrashcrashcrashcrash1";
const dirs: string[] = [];
let fake: FakePagerDuty;

beforeAll(async () => {
  fake = await startFakePagerDuty();
});
afterAll(async () => {
  await fake.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  url: string;
  output: { stdout: string; stderr: string };
}

/** `npm start` in a process group of its own, so kill -9 takes every thread and child with it. */
async function start(dataDir: string): Promise<Running> {
  const env = {
    ...process.env,
    PAGERDUTY_EVENTS_URL: fake.url,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PORT: "",
    ROUTES_FILE: "",
    // Every problem pages on its own here (storm protection would fold a burst into one incident).
    ROUTES_JSON: JSON.stringify({ routes: [], defaultRoute: { routingKey: "default" }, storm: false }),
    OWED_GRACE: "5s",
    // Hundreds of pages on one key within a minute: pacing (100/min by default, as PagerDuty allows ~120) would spread them over minutes.
    PAGERDUTY_EVENTS_PER_MINUTE: "100000",
  };
  const child = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", MAIN, "--port", "0", "--data-dir", dataDir, "--sweep-interval", "2"],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  const output = { stdout: "", stderr: "" };
  child.stdout!.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const stackFile = join(dataDir, "stack.json");
  await waitFor(
    () => output.stdout.includes("Ctrl-C stops everything.") && existsSync(stackFile),
    20_000,
    `the stack to start (stderr: ${output.stderr})`,
  );
  const { httpUrl } = JSON.parse(readFileSync(stackFile, "utf8")) as { httpUrl: string };
  return { child, url: httpUrl, output };
}

async function kill9(run: Running): Promise<void> {
  const exited = new Promise((resolve) => run.child.once("exit", resolve));
  process.kill(-run.child.pid!, "SIGKILL");
  await exited;
}

async function stop(run: Running): Promise<void> {
  const exited = new Promise((resolve) => run.child.once("exit", resolve));
  process.kill(-run.child.pid!, "SIGTERM");
  await exited;
}

/** One Alertmanager notification with `count` firing alerts, problems `first`… of the run `tag`. */
function notification(tag: string, first: number, count: number): string {
  const alerts = Array.from({ length: count }, (_, i) => {
    const n = first + i;
    return {
      status: "firing",
      labels: { alertname: `Crash${tag}`, instance: `host-${n}`, severity: "critical" },
      annotations: { summary: `problem ${n}` },
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus.test/graph",
      fingerprint: (0x1000000000000000n + BigInt(n)).toString(16),
    };
  });
  return JSON.stringify({
    version: "4",
    status: "firing",
    receiver: "relay",
    groupKey: `{}:{alertname="Crash${tag}"}`,
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://am.test",
    alerts,
  });
}

/** Posts `total` problems in notifications of 10; returns how many were answered 2xx. */
async function fire(url: string, tag: string, total: number): Promise<number> {
  let accepted = 0;
  for (let first = 0; first < total; first += 10) {
    const response = await fetch(`${url}/webhooks/prometheus`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: notification(tag, first, 10),
    });
    if (response.ok) accepted += 10;
  }
  return accepted;
}

const incidentsOf = (tag: string) => fake.incidents().filter((incident) => incident.dedupKey.includes(`Crash${tag}`));

describe("npm start survives kill -9", () => {
  it("delivers every alert it answered 2xx, once, when killed while delivering", { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "alert-relay-crash-"));
    dirs.push(dataDir);
    fake.reset();
    // A slow PagerDuty keeps the router busy delivering when the kill comes.
    fake.failWhile(() => true, { kind: "slow", ms: 200 });
    const first = await start(dataDir);
    const accepted = await fire(first.url, "A", 300);
    expect(accepted).toBe(300);
    await waitFor(() => fake.events.length >= 30, 30_000, "the first deliveries");
    await kill9(first);
    const before = incidentsOf("A").length;
    expect(before).toBeLessThan(300);

    fake.recover();
    const second = await start(dataDir);
    try {
      expect(second.output.stdout).toMatch(/Replayed \d+ accepted messages/);
      await waitFor(() => new Set(incidentsOf("A").map((i) => i.dedupKey)).size === 300, 60_000, "all 300 problems at PagerDuty");
      // Once in effect: one incident per problem, none opened twice.
      const incidents = incidentsOf("A");
      expect(incidents).toHaveLength(300);
      console.log(
        `crash while delivering: ${accepted} accepted, ${before} at PagerDuty before the kill, 300 after the restart; ` +
          `${fake.events.filter((e) => e.dedupKey.includes("CrashA")).length} trigger events accepted for 300 incidents`,
      );
    } finally {
      await stop(second);
    }
  });

  it("delivers every alert it answered 2xx during a PagerDuty outage, after a kill -9 and a restart", { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "alert-relay-crash-"));
    dirs.push(dataDir);
    fake.reset();
    fake.down({ status: 503 });
    const first = await start(dataDir);
    const accepted = await fire(first.url, "B", 200);
    expect(accepted).toBe(200);
    await waitFor(() => fake.requests.length >= 20, 30_000, "the router to try PagerDuty");
    await kill9(first);
    expect(incidentsOf("B")).toHaveLength(0);

    fake.recover();
    const second = await start(dataDir);
    try {
      await waitFor(() => incidentsOf("B").length === 200, 60_000, "all 200 problems at PagerDuty");
      expect(new Set(incidentsOf("B").map((i) => i.dedupKey)).size).toBe(200);
    } finally {
      await stop(second);
    }
  });
});
