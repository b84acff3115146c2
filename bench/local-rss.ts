/**
 * `npm run bench rss` (or `node bench/local-rss.ts`): the local stack's resident memory around a
 * 20,000-alert run in 2,000 Alertmanager webhooks. The stack runs as `npm start` does, in a child
 * process of its own (emulators on their worker threads, dry run), so its RSS is what a person sees.
 *
 * Figures: idle (started, 5 s settled), peak (sampled every 250 ms during the run), after (the
 * queue drained, then RSS_SETTLE_SECONDS of idling). Target: after − idle ≤ 100 MB.
 * RSS_ALERTS / RSS_PER_REQUEST / RSS_SETTLE_SECONDS trade fidelity for time. DynamoDB is kept in
 * memory (--in-memory, the harder case: the state rows are RAM too); RSS_ON_DISK=1 keeps it in files
 * as a plain `npm start` does.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fmt, verdict } from "./harness.ts";

const MB = 1024 * 1024;
const TARGET_MB = 100;

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb * 1024;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

interface Health {
  ok: boolean;
  emulators: { sqs: { alerts?: { visible: number; inFlight: number } } };
}

async function health(url: string): Promise<Health | undefined> {
  const response = await fetch(`${url}/healthz`);
  return (await response.json()) as Health;
}

function alertGroup(serial: number, perRequest: number): string {
  const alerts = Array.from({ length: perRequest }, (_, i) => {
    const n = serial * perRequest + i;
    const fingerprint = n.toString(16).padStart(16, "0");
    return {
      status: "firing",
      labels: { alertname: "RssBench", service: "bench", severity: "warning", instance: `host-${n}` },
      annotations: { summary: `rss bench alert ${n}`, description: "x".repeat(200) },
      startsAt: "2026-01-01T00:00:00Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: `http://prometheus.example/graph?g0.expr=up&n=${n}`,
      fingerprint,
    };
  });
  return JSON.stringify({
    version: "4",
    status: "firing",
    receiver: "bench",
    groupKey: `{}:{n="${serial}"}`,
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://bench",
    alerts,
  });
}

export async function benchLocalRss(): Promise<string[]> {
  const alerts = Number(process.env.RSS_ALERTS ?? 20_000);
  const perRequest = Number(process.env.RSS_PER_REQUEST ?? 10);
  const settleSeconds = Number(process.env.RSS_SETTLE_SECONDS ?? 30);
  const requests = Math.ceil(alerts / perRequest);
  const dataDir = mkdtempSync(join(tmpdir(), "alert-relay-rss-"));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const onDisk = process.env.RSS_ON_DISK === "1";
  const child = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      "lib/local/main.ts",
      "--port",
      String(port),
      "--data-dir",
      dataDir,
      ...(onDisk ? [] : ["--in-memory"]),
    ],
    {
      env: { ...process.env, PAGERDUTY_ROUTING_KEY: "", WEBHOOK_TOKEN: "", LOG_LEVEL: "WARN" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let lines = 0;
  // Drained as a terminal would, so printing costs what it costs for a person watching.
  child.stdout.on("data", (chunk: Buffer) => (lines += chunk.toString("utf8").split("\n").length - 1));
  let errors = "";
  child.stderr.on("data", (chunk: Buffer) => (errors = (errors + chunk.toString("utf8")).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor("the stack to start", async () => ((await health(url))?.ok ? true : undefined), 60_000);
    await sleep(5_000);
    const idle = rssOf(child.pid!);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid!))), 250);
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      for (let serial = next++; serial < requests; serial = next++) {
        const response = await fetch(`${url}/webhooks/prometheus`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: alertGroup(serial, perRequest),
        });
        await response.arrayBuffer();
        if (response.status !== 202) throw new Error(`webhook answered ${response.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const sentSeconds = (Date.now() - started) / 1000;
    await waitFor(
      "the queue to drain",
      async () => {
        const queue = (await health(url))?.emulators.sqs.alerts;
        return queue && queue.visible === 0 && queue.inFlight === 0 ? true : undefined;
      },
      30 * 60_000,
    );
    const drainedSeconds = (Date.now() - started) / 1000;
    // RSS every 5 s while settling: shows when (and whether) the memory comes back.
    const timeline: number[] = [];
    for (let waited = 0; waited < settleSeconds; waited += 5) {
      timeline.push(Math.round(rssOf(child.pid!) / MB));
      await sleep(Math.min(5, settleSeconds - waited) * 1000);
    }
    clearInterval(sampler);
    const after = rssOf(child.pid!);
    const growth = (after - idle) / MB;
    return [
      `local stack RSS (DynamoDB ${onDisk ? "on disk" : "in memory"}), ${fmt(alerts)} alerts in ${fmt(requests)} webhooks ` +
        `(sent in ${fmt(sentSeconds, 1)} s, drained in ${fmt(drainedSeconds, 1)} s, ${fmt(lines)} console lines)`,
      `  settling (every 5 s): ${timeline.join(", ")} MB`,
      `  idle ${fmt(idle / MB)} MB   peak ${fmt(peak / MB)} MB   after ${fmt(after / MB)} MB (${settleSeconds} s idle)   ` +
        `after − idle ${fmt(growth)} MB   target ≤ ${TARGET_MB} MB ${verdict(growth <= TARGET_MB)}`,
    ];
  } catch (error) {
    throw new Error(`${(error as Error).message}\nstack stderr (tail):\n${errors}`, { cause: error });
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) for (const line of await benchLocalRss()) console.log(line);
