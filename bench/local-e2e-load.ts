/**
 * The world outside the local stack, for bench/local-e2e.ts, on a thread of its own: the
 * Alertmanager sending webhooks and the fake PagerDuty receiving events. Send and receive times
 * are both taken here, on one clock; the stack's thread does nothing but run the stack.
 */
import { parentPort } from "node:worker_threads";
import { startFakePagerDuty, type FakePagerDuty } from "../test/support/fake-pagerduty.ts";

export type LoadCommand =
  | { phase: "steady"; webhookUrl: string; rate: number; seconds: number }
  | { phase: "blast"; webhookUrl: string; alerts: number; perRequest: number; concurrency: number }
  | { phase: "close" };

export interface PhaseResult {
  phase: "steady" | "blast";
  alerts: number;
  delivered: number;
  complete: boolean;
  /** From the first send to the last webhook answer. */
  sendSeconds: number;
  /** From the first send to the last trigger received. */
  seconds: number;
  /** Per alert: webhook call → trigger at the fake, sorted. */
  latencies: number[];
  /** Per request: webhook call → its answer, sorted. */
  answeredIn: number[];
}

export type LoadReport = { ready: string } | { started: "steady" | "blast" } | PhaseResult | { closed: true };

const port = parentPort!;
const fake: FakePagerDuty = await startFakePagerDuty();
let serial = 0;

interface Problem {
  dedupKey: string;
  alert: Record<string, unknown>;
}

/** Distinct problems: each alert has its own fingerprint, so its own dedupKey and a trigger of its own. */
function problems(count: number, alertname: string): Problem[] {
  return Array.from({ length: count }, () => {
    serial += 1;
    const fingerprint = serial.toString(16).padStart(16, "0");
    return {
      dedupKey: `prometheus:${alertname}:${fingerprint}`,
      alert: {
        status: "firing",
        labels: { alertname, service: "bench", severity: "critical", instance: `host-${serial}` },
        annotations: { summary: `bench alert ${serial}` },
        startsAt: "2026-01-01T00:00:00Z",
        endsAt: "0001-01-01T00:00:00Z",
        fingerprint,
      },
    };
  });
}

async function send(url: string, group: readonly Problem[]): Promise<void> {
  const body = JSON.stringify({
    version: "4",
    status: "firing",
    receiver: "bench",
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://bench",
    alerts: group.map((p) => p.alert),
  });
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  await response.arrayBuffer();
  if (response.status !== 202) throw new Error(`webhook answered ${response.status}`);
}

/** Waits until every problem has its first trigger at the fake; returns the times found. */
async function triggers(load: readonly Problem[], timeoutMs: number): Promise<{ times: Map<string, number>; complete: boolean }> {
  const wanted = new Set(load.map((p) => p.dedupKey));
  const times = new Map<string, number>();
  let seen = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = fake.events;
    for (; seen < events.length; seen += 1) {
      const event = events[seen]!;
      if (event.action === "trigger" && wanted.has(event.dedupKey) && !times.has(event.dedupKey))
        times.set(event.dedupKey, event.receivedAt);
    }
    if (times.size === wanted.size) return { times, complete: true };
    if (Date.now() > deadline) return { times, complete: false };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function result(
  phase: PhaseResult["phase"],
  load: readonly Problem[],
  sentAt: Map<string, number>,
  answeredIn: number[],
  start: number,
  sendEnd: number,
  found: Awaited<ReturnType<typeof triggers>>,
): PhaseResult {
  const latencies = load
    .flatMap((p) => (found.times.has(p.dedupKey) ? [found.times.get(p.dedupKey)! - sentAt.get(p.dedupKey)!] : []))
    .sort((a, b) => a - b);
  const last = Math.max(...found.times.values());
  return {
    phase,
    alerts: load.length,
    delivered: found.times.size,
    complete: found.complete,
    sendSeconds: (sendEnd - start) / 1000,
    seconds: (last - start) / 1000,
    latencies,
    answeredIn: answeredIn.sort((a, b) => a - b),
  };
}

/** One alert per request every 1/rate s, on a schedule that does not drift with slow answers. */
async function steady(command: Extract<LoadCommand, { phase: "steady" }>): Promise<PhaseResult> {
  const load = problems(command.rate * command.seconds, "BenchSteady");
  const sentAt = new Map<string, number>();
  const answeredIn: number[] = [];
  const sends: Promise<void>[] = [];
  const start = Date.now();
  for (let i = 0; i < load.length; i += 1) {
    const wait = start + (i * 1000) / command.rate - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const problem = load[i]!;
    const at = Date.now();
    sentAt.set(problem.dedupKey, at);
    sends.push(send(command.webhookUrl, [problem]).then(() => void answeredIn.push(Date.now() - at)));
  }
  await Promise.all(sends);
  const sendEnd = Date.now();
  return result("steady", load, sentAt, answeredIn, start, sendEnd, await triggers(load, 60_000));
}

/** All alerts as fast as the webhook takes them: `perRequest` per request, `concurrency` requests in flight. */
async function blast(command: Extract<LoadCommand, { phase: "blast" }>): Promise<PhaseResult> {
  const load = problems(command.alerts, "BenchBlast");
  const groups: Problem[][] = [];
  for (let i = 0; i < load.length; i += command.perRequest) groups.push(load.slice(i, i + command.perRequest));
  const sentAt = new Map<string, number>();
  const answeredIn: number[] = [];
  const start = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: command.concurrency }, async () => {
      while (next < groups.length) {
        const group = groups[next++]!;
        const at = Date.now();
        for (const problem of group) sentAt.set(problem.dedupKey, at);
        await send(command.webhookUrl, group);
        answeredIn.push(Date.now() - at);
      }
    }),
  );
  const sendEnd = Date.now();
  return result("blast", load, sentAt, answeredIn, start, sendEnd, await triggers(load, 180_000));
}

port.on("message", async (command: LoadCommand) => {
  if (command.phase === "close") {
    await fake.close();
    port.postMessage({ closed: true } satisfies LoadReport);
    port.close();
    return;
  }
  port.postMessage({ started: command.phase } satisfies LoadReport);
  port.postMessage(command.phase === "steady" ? await steady(command) : await blast(command));
});
port.postMessage({ ready: fake.url } satisfies LoadReport);
