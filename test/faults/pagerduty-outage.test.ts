/**
 * The fault-injection suite: the local stack (`startLocalStack`, real handlers, emulators, poller,
 * sweep) against a fake PagerDuty whose routing keys each fail their own way for 30 s: 500, 429
 * with Retry-After, slow past the client's timeout (processed late), connection reset (before and
 * after processing), hang, and 400 for one key. Per dedup key it checks the order PagerDuty saw:
 *
 * - a problem that fires during the fault and resolves after PagerDuty is back: one incident,
 *   opened by a trigger (retries of it are folded by PagerDuty), then resolved, and nothing after
 *   the resolve but idempotent re-resolves — except, for the slow mode alone, a trigger PagerDuty
 *   processed late, which the re-resolve must close;
 * - a problem that fires and resolves inside the fault follows the documented rule (docs/faults.md):
 *   not paged after the fact; where a trigger may have reached PagerDuty, it is resolved;
 * - nothing is left open at PagerDuty and nothing is left owed in the state table;
 * - the key PagerDuty refuses (400) ends in the DLQ with PagerDuty's reason.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetCommand, paginateScan } from "@aws-sdk/lib-dynamodb";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startLocalStack, type LocalStack } from "../../lib/local/stack.ts";
import { documentClient } from "../../lib/handlers/router-runtime.ts";
import { DEFAULT_REDELIVERY } from "../../lib/router/redelivery.ts";
import { startFakePagerDuty, type FakeEvent, type FakeFault, type FakePagerDuty } from "../support/fake-pagerduty.ts";
import { TEST_CREDENTIALS } from "../support/local-sqs.ts";
import { waitFor } from "../support/wait-for.ts";

// Long enough that the pollers, freed from the first hanging requests (10 s), record the resolves sent at 6 s before it ends.
const FAULT_MS = 30_000;
/**
 * The fault lasts FAULT_MS and, on a loaded machine, longer: until the resolves sent during it are
 * recorded (at most this much more), so the "inside" problems really are over before PagerDuty is back.
 */
const FAULT_EXTENSION_MAX_MS = 60_000;
const RESOLVE_AFTER_RECOVERY_MS = 10_000;
const ACROSS = 8;
const INSIDE = 4;

/** Each mode fails on its own routing key; `late` modes can make PagerDuty process an event after the client gave up on it. */
const MODES: { name: string; fault: FakeFault; late: boolean }[] = [
  { name: "err500", fault: { status: 500 }, late: false },
  { name: "rate429", fault: { status: 429, retryAfter: 5 }, late: false },
  { name: "slow", fault: { kind: "slow", ms: 12_000 }, late: true },
  { name: "reset", fault: { kind: "reset" }, late: false },
  { name: "lost", fault: { kind: "reset", afterProcessing: true }, late: false },
  { name: "hang", fault: { kind: "timeout" }, late: false },
];
const keyFor = (mode: string) => `R${mode}`.padEnd(32, "k");
const REFUSED_KEY = "Rrefused-is-not-32-characters";

let fake: FakePagerDuty;
let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakePagerDuty();
  dataDir = mkdtempSync(join(tmpdir(), "alert-relay-faults-"));
  const routes = [...MODES.map((mode) => mode.name), "refused"].map((name) => ({ name, matchers: [`mode=${name}`], routingKey: name }));
  stack = await startLocalStack({
    port: 0,
    inMemory: true,
    dataDir,
    quiet: true,
    // A 15 s router timeout, as a Lambda of 15 s would have: the client's 10 s request timeout fits in it.
    visibilityTimeoutSeconds: 30,
    sweepIntervalMs: 1_000,
    env: {
      PAGERDUTY_EVENTS_URL: fake.url,
      PAGERDUTY_ROUTING_KEY: keyFor("default"),
      ...Object.fromEntries(MODES.map((mode) => [`PAGERDUTY_ROUTING_KEY_${mode.name.toUpperCase()}`, keyFor(mode.name)])),
      PAGERDUTY_ROUTING_KEY_REFUSED: REFUSED_KEY,
      ROUTES_JSON: JSON.stringify({ routes, defaultRoute: { routingKey: "default" }, storm: false }),
      // Longer than the slow mode's 12 s: a trigger abandoned at its timeout has landed by then.
      RERESOLVE_AFTER: "15s",
      WINDOW_REFRESH_MS: "200",
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function notification(mode: string, instance: string, status: "firing" | "resolved", startsAt: string, endsAt?: string): string {
  const labels = { alertname: `Fault-${mode}`, mode, instance, severity: "critical" };
  return JSON.stringify({
    version: "4",
    status,
    receiver: "relay",
    groupKey: `{}:{alertname="Fault-${mode}"}`,
    groupLabels: {},
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: "http://am.test",
    alerts: [
      {
        status,
        labels,
        annotations: { summary: `${mode} ${instance}` },
        startsAt,
        endsAt: endsAt ?? "0001-01-01T00:00:00Z",
        generatorURL: "http://prom.test",
        fingerprint: fingerprintOf(mode, instance),
      },
    ],
  });
}
const fingerprintOf = (mode: string, instance: string) => Buffer.from(`${mode}/${instance}`).toString("hex").slice(-16).padStart(16, "0");
const dedupKeyOf = (mode: string, instance: string) => `prometheus:Fault-${mode}:${fingerprintOf(mode, instance)}`;

async function post(body: string): Promise<void> {
  const response = await fetch(stack.webhooks.prometheus!, { method: "POST", headers: { "content-type": "application/json" }, body });
  expect(response.ok).toBe(true);
}

async function owedInTable(): Promise<string[]> {
  const doc = documentClient(
    new DynamoDBClient({ region: stack.region, credentials: TEST_CREDENTIALS, endpoint: stack.endpoints.dynamodb }),
  );
  const owed: string[] = [];
  for await (const page of paginateScan({ client: doc }, { TableName: stack.tables.state })) {
    for (const item of page.Items ?? [])
      if (item.watch === "owed" || item.watch === "reresolve" || item.delivery)
        owed.push(`${item.dedupKey as string} (${(item.watch as string) ?? "claimed"})`);
  }
  return owed;
}

async function statusesInTable(dedupKeys: readonly string[]): Promise<(string | undefined)[]> {
  const doc = documentClient(
    new DynamoDBClient({ region: stack.region, credentials: TEST_CREDENTIALS, endpoint: stack.endpoints.dynamodb }),
  );
  return Promise.all(
    dedupKeys.map(
      async (dedupKey) =>
        (await doc.send(new GetCommand({ TableName: stack.tables.state, Key: { dedupKey }, ConsistentRead: true }))).Item?.status as
          string | undefined,
    ),
  );
}

interface Verdict {
  mode: string;
  kind: "across" | "inside";
  triggers: number;
  resolves: number;
  incidents: number;
  lateTriggers: number;
  violations: string[];
}

/** What PagerDuty saw for one problem, judged by the rules in the file's header. */
function judge(mode: (typeof MODES)[number], kind: "across" | "inside", dedupKey: string): Verdict {
  const events: FakeEvent[] = fake.events.filter((event) => event.dedupKey === dedupKey);
  const incidents = fake.incidents().filter((incident) => incident.dedupKey === dedupKey);
  const violations: string[] = [];
  const firstResolve = events.findIndex((event) => event.action === "resolve" && event.effect === "resolved");
  const after = firstResolve === -1 ? [] : events.slice(firstResolve + 1);
  const lateTriggers = after.filter((event) => event.action === "trigger").length;
  if (incidents.some((incident) => incident.status !== "resolved")) violations.push("an incident is left open");
  if (kind === "across") {
    if (events[0]?.action !== "trigger" || events[0].effect !== "opened")
      violations.push(`first event ${events[0]?.action}/${events[0]?.effect}, not an opening trigger`);
    if (firstResolve === -1) violations.push("never resolved");
    if (events.slice(0, Math.max(firstResolve, 0)).some((event) => event.action !== "trigger"))
      violations.push("a resolve before the incident opened");
    if (!mode.late && lateTriggers > 0) violations.push(`${lateTriggers} triggers after the resolve`);
    if (!mode.late && incidents.length !== 1) violations.push(`${incidents.length} incidents`);
  } else {
    // Over before PagerDuty could be told: not paged after the fact. Only a trigger PagerDuty may
    // have processed during the fault can have opened an incident, and then it was resolved.
    const couldLand = mode.late || mode.name === "lost";
    if (!couldLand && incidents.length > 0)
      violations.push(
        `${incidents.length} incidents for a problem over before PagerDuty was back: ` +
          `${events.map((e) => `${e.action}/${e.effect}@${e.receivedAt % 100_000}`).join(" ")}`,
      );
  }
  return {
    mode: mode.name,
    kind,
    triggers: events.filter((event) => event.action === "trigger").length,
    resolves: events.filter((event) => event.action === "resolve").length,
    incidents: incidents.length,
    lateTriggers,
    violations,
  };
}

describe("PagerDuty faults on the local stack", () => {
  it(
    "keeps every problem's order through 500, 429, slow, reset, hang and 400, and leaves nothing open or owed",
    { timeout: 240_000 },
    async () => {
      const start = Date.now();
      const at = (ms: number) => new Date(start + ms).toISOString();
      for (const mode of MODES) fake.failWhile((request) => request.routingKey === keyFor(mode.name), mode.fault);

      // Problems firing inside the fault: some resolve inside it too, the others after recovery.
      for (const mode of MODES) {
        for (let i = 0; i < ACROSS; i += 1) await post(notification(mode.name, `across-${i}`, "firing", at(0)));
        for (let i = 0; i < INSIDE; i += 1) await post(notification(mode.name, `inside-${i}`, "firing", at(0)));
      }
      for (let i = 0; i < 4; i += 1) await post(notification("refused", `refused-${i}`, "firing", at(0)));
      await sleep(6_000);
      for (const mode of MODES)
        for (let i = 0; i < INSIDE; i += 1) await post(notification(mode.name, `inside-${i}`, "resolved", at(0), at(5_000)));
      // The queue keeps flowing during the fault: these resolves are recorded while PagerDuty is still failing.
      const insideKeys = MODES.flatMap((mode) => Array.from({ length: INSIDE }, (_, i) => dedupKeyOf(mode.name, `inside-${i}`)));
      await waitFor(
        async () => (await statusesInTable(insideKeys)).every((status) => status === "resolved"),
        Math.max(1_000, start + FAULT_MS + FAULT_EXTENSION_MAX_MS - Date.now()),
        "the resolves that came during the fault to be recorded while it lasts",
      ).catch(async (error: Error) => {
        const statuses = await statusesInTable(insideKeys);
        throw new Error(
          `${error.message}: not yet resolved: ` +
            `${insideKeys.filter((_key, i) => statuses[i] !== "resolved").join(", ")} (poller ` +
            `${JSON.stringify(stack && (await stack.health()).poller)})`,
        );
      });

      await sleep(Math.max(0, start + FAULT_MS - Date.now()));
      fake.recover();
      const recoveredAt = Date.now();

      // Everything owed reaches PagerDuty quickly: each problem that fired across the fault is open there before its resolve is sent.
      const acrossKeys = MODES.flatMap((mode) => Array.from({ length: ACROSS }, (_, i) => dedupKeyOf(mode.name, `across-${i}`)));
      // A fault that had to be extended (a loaded machine) ends at no particular point of the messages'
      // backoff, which doubles up to its maximum: the first of them may come back that long after
      // recovery (it then drains everything owed). Ended on time, it lands just after a backoff step.
      const faultMs = recoveredAt - start;
      const recoveryBoundMs = faultMs > FAULT_MS + 2_000 ? DEFAULT_REDELIVERY.maxMs + 5_000 : RESOLVE_AFTER_RECOVERY_MS;
      await waitFor(
        () => acrossKeys.every((key) => fake.openIncidents().some((incident) => incident.dedupKey === key)),
        recoveryBoundMs,
        `every problem firing across the fault (${(faultMs / 1000).toFixed(1)} s) to be open at PagerDuty`,
      );
      const recoveryMs =
        Math.max(...acrossKeys.map((key) => fake.events.find((event) => event.dedupKey === key && event.effect === "opened")!.receivedAt)) -
        recoveredAt;

      await sleep(Math.max(0, recoveredAt + recoveryBoundMs - Date.now()));
      for (const mode of MODES)
        for (let i = 0; i < ACROSS; i += 1) await post(notification(mode.name, `across-${i}`, "resolved", at(0), new Date().toISOString()));

      // Settled: every resolve in, re-resolves sent, nothing owed or claimed in the table.
      await waitFor(
        async () => fake.openIncidents().length === 0 && (await owedInTable()).length === 0,
        60_000,
        "nothing open at PagerDuty and nothing owed",
      ).catch(async (error: Error) => {
        throw new Error(
          `${error.message}: open ` +
            `${JSON.stringify(fake.openIncidents().map((i) => i.dedupKey))}; owed ${JSON.stringify(await owedInTable())}`,
        );
      });
      // Slow-mode events sent just before recovery land up to 12 s later: let them, then settle again.
      await sleep(13_000);
      await waitFor(
        async () => fake.openIncidents().length === 0 && (await owedInTable()).length === 0,
        30_000,
        "late events closed again",
      );

      const verdicts = MODES.flatMap((mode) => [
        ...Array.from({ length: ACROSS }, (_, i) => judge(mode, "across", dedupKeyOf(mode.name, `across-${i}`))),
        ...Array.from({ length: INSIDE }, (_, i) => judge(mode, "inside", dedupKeyOf(mode.name, `inside-${i}`))),
      ]);
      const table = MODES.flatMap((mode) =>
        (["across", "inside"] as const).map((kind) => {
          const rows = verdicts.filter((verdict) => verdict.mode === mode.name && verdict.kind === kind);
          const sum = (field: "triggers" | "resolves" | "incidents" | "lateTriggers") => rows.reduce((total, row) => total + row[field], 0);
          return (
            `${mode.name.padEnd(8)} ${kind.padEnd(7)} pairs ${rows.length}  triggers ${sum("triggers")}  ` +
            `resolves ${sum("resolves")}  incidents ${sum("incidents")}  late ${sum("lateTriggers")}  ` +
            `violations ${rows.reduce((n, row) => n + row.violations.length, 0)}`
          );
        }),
      );
      console.log(
        `fault suite (faults ${((recoveredAt - start) / 1000).toFixed(1)} s; ` +
          `owed events delivered ${recoveryMs} ms after recovery):\n${table.join("\n")}`,
      );
      expect(verdicts.filter((verdict) => verdict.violations.length > 0)).toEqual([]);

      // The refused key: never at PagerDuty, each in the DLQ with PagerDuty's reason.
      const sqs = new SQSClient({ region: stack.region, credentials: TEST_CREDENTIALS, endpoint: stack.endpoints.sqs });
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.queues.deadLetter, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
      );
      expect(Messages.map((message) => message.MessageAttributes?.reason?.StringValue)).toEqual(
        Array(4).fill(expect.stringMatching(/^PagerDuty rejected the trigger: 400 .*routing_key/)),
      );
      expect(fake.events.filter((event) => event.routingKey === REFUSED_KEY)).toEqual([]);
      expect(recoveryMs).toBeLessThan(recoveryBoundMs);
    },
  );
});
