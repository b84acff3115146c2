/**
 * Issue 4's acceptance: the local stack (`npm start`'s programmatic form) end to end over real
 * HTTP — webhook → adapter handler → SQS → poller → router handler → DynamoDB → PagerDuty (the
 * strict fake) — with redelivery, the DLQ, suppression windows and the sweep all real.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { prometheus } from "../../lib/adapters/prometheus/adapter.ts";
import { readStackFile, writeStackFile } from "../../lib/ops/local-stack-file.ts";
import { documentClient } from "../../lib/handlers/router-runtime.ts";
import { PortInUseError } from "../../lib/local/server.ts";
import { DataDirInUseError } from "../../lib/local/emulators.ts";
import { StackAlreadyRunningError, startLocalStack, type LocalStack } from "../../lib/local/stack.ts";
import type { FakePagerDuty } from "../support/fake-pagerduty.ts";
import { startTestStack, type TestStack } from "../support/test-stack.ts";
import { runCaptured, type CliRun } from "../support/cli-run.ts";
import { TEST_CREDENTIALS } from "../support/local-sqs.ts";
import { dedupKeyOf, notification, type AlertSpec } from "./alertmanager.ts";
import { waitFor } from "../support/wait-for.ts";

const ROUTING_KEY = `${"E2E".repeat(10)}01`;
const iso = (offsetMinutes: number) => new Date(Date.now() + offsetMinutes * 60_000).toISOString();
const tempDir = () => t.tempDir();

let t: TestStack;
let fake: FakePagerDuty;
let stack: LocalStack;
let doc: DynamoDBDocumentClient;
let sqs: SQSClient;

beforeAll(async () => {
  // Outages never dead-letter by receive count; a short give-up age lets the DLQ test see the rule.
  t = await startTestStack({ routingKey: ROUTING_KEY, env: { GIVE_UP_AFTER: "6s" } });
  ({ fake, stack, doc, sqs } = t);
});

afterAll(async () => t?.close());

async function post(body: string, url = stack.webhooks.prometheus!): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  const answer = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(answer)).toBe(202);
  return answer;
}

/** The ops CLI as an operator runs it against `npm start`: it finds the stack through stack.json. */
async function cli(...argv: string[]): Promise<CliRun> {
  const run = await runCaptured([...argv, "--stack-file", stack.stackFile], { now: new Date(), env: { USER: "e2e" } });
  expect(run.code, `${argv.join(" ")}: ${run.err}`).toBe(0);
  return run;
}

interface ListedDeadLetter {
  messageId: string;
  originalMessageId: string | null;
  reason: string | null;
  body: string;
}

async function deadLetters(): Promise<ListedDeadLetter[]> {
  return JSON.parse((await cli("dlq", "list", "--json")).out) as ListedDeadLetter[];
}

async function pollerFailures(): Promise<number> {
  return (await stack.health()).poller?.failed ?? 0;
}

describe("local stack, end to end", () => {
  const firing: AlertSpec = { alertname: "E2EHighLatency", status: "firing", fingerprint: "a000000000000001", startsAt: iso(-5) };
  const dedupKey = dedupKeyOf(firing);

  it("delivers an Alertmanager firing alert as one PagerDuty trigger", async () => {
    await post(notification(firing));
    await waitFor(() => fake.triggerCount(dedupKey) === 1, 5_000, "the trigger");
    expect(fake.openIncidents()).toEqual([
      expect.objectContaining({ routingKey: ROUTING_KEY, dedupKey, summary: "E2EHighLatency on checkout", severity: "critical" }),
    ]);
  });

  it("sends nothing for a duplicate", async () => {
    await post(notification(firing));
    await waitFor(() => t.queueDrained(), 5_000, "the duplicate to be routed");
    expect(t.requestsFor(dedupKey)).toHaveLength(1);
    // Alertmanager re-sent the same alert: confirmed by a read, not recorded again.
    expect(await t.stateOf(dedupKey)).toMatchObject({ seen: 1, lastAlertId: expect.any(String) });
  });

  it("sends one resolve when the alert resolves", async () => {
    await post(notification({ ...firing, status: "resolved", endsAt: iso(0) }));
    await waitFor(() => t.actionsFor(dedupKey).includes("resolve"), 5_000, "the resolve");
    expect(t.actionsFor(dedupKey)).toEqual(["trigger", "resolve"]);
    expect(fake.incidents()).toEqual([expect.objectContaining({ dedupKey, status: "resolved" })]);
  });

  describe("a suppression window written as a raw item", () => {
    const suppressed: AlertSpec = { alertname: "E2EMaintenance", status: "firing", fingerprint: "b000000000000002", startsAt: iso(-1) };
    const windowId = "e2e-maintenance";

    it("keeps a matching alert from PagerDuty", async () => {
      await doc.send(
        new PutCommand({
          TableName: stack.tables.windows,
          Item: {
            id: windowId,
            enabled: true,
            matchers: [`alertname=${suppressed.alertname}`],
            startsAt: iso(-1),
            endsAt: iso(60),
            reason: "e2e drill",
            createdBy: "e2e@example.com",
          },
        }),
      );
      // The documented bound: each router instance re-reads the table every WINDOW_REFRESH_MS.
      await new Promise((resolve) => setTimeout(resolve, stack.settings.windowRefreshMs + 50));
      await post(notification(suppressed));
      await waitFor(
        async () => (await t.stateOf(dedupKeyOf(suppressed)))?.suppressedBy === windowId,
        5_000,
        "the suppression to be recorded",
      );
      expect(t.requestsFor(dedupKeyOf(suppressed))).toEqual([]);
    });

    it("still delivers the resolve of a problem PagerDuty knew from before the window", async () => {
      const before: AlertSpec = { alertname: "E2EKnownBefore", status: "firing", fingerprint: "b000000000000003", startsAt: iso(-30) };
      await post(notification(before));
      await waitFor(() => fake.triggerCount(dedupKeyOf(before)) === 1, 5_000, "the trigger before the window");
      // The window now covers it too.
      await doc.send(
        new UpdateCommand({
          TableName: stack.tables.windows,
          Key: { id: windowId },
          UpdateExpression: "SET matchers = :matchers",
          ExpressionAttributeValues: { ":matchers": [`alertname=~${suppressed.alertname}|${before.alertname}`] },
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, stack.settings.windowRefreshMs + 50));
      await post(notification({ ...before, status: "resolved", endsAt: iso(0) }));
      await waitFor(() => t.actionsFor(dedupKeyOf(before)).includes("resolve"), 5_000, "the resolve during the window");
      expect(fake.openIncidents().some((incident) => incident.dedupKey === dedupKeyOf(before))).toBe(false);
    });

    it("pages through the sweep when the window ends while the alert still fires", async () => {
      await doc.send(
        new UpdateCommand({
          TableName: stack.tables.windows,
          Key: { id: windowId },
          UpdateExpression: "SET endsAt = :now",
          ExpressionAttributeValues: { ":now": iso(0) },
        }),
      );
      await waitFor(() => fake.triggerCount(dedupKeyOf(suppressed)) === 1, 5_000, "the sweep's trigger");
      expect(fake.openIncidents()).toEqual([expect.objectContaining({ dedupKey: dedupKeyOf(suppressed), triggers: 1 })]);
    });
  });

  describe("a suppression window opened and ended with the CLI", () => {
    const spec: AlertSpec = { alertname: "E2ECliWindow", status: "firing", fingerprint: "b100000000000002", startsAt: iso(-1) };
    const windowId = "e2e-cli-window";

    it("`alert-relay suppress add` keeps a matching alert from PagerDuty", async () => {
      await cli("suppress", "add", "--match", `alertname=${spec.alertname}`, "--for", "1h", "--reason", "e2e drill", "--id", windowId);
      await new Promise((resolve) => setTimeout(resolve, stack.settings.windowRefreshMs + 50));
      await post(notification(spec));
      await waitFor(async () => (await t.stateOf(dedupKeyOf(spec)))?.suppressedBy === windowId, 5_000, "the suppression to be recorded");
      expect(t.requestsFor(dedupKeyOf(spec))).toEqual([]);
    });

    it("`alert-relay suppress end` lets the sweep page for the alert still firing", async () => {
      await cli("suppress", "end", windowId);
      await waitFor(() => fake.triggerCount(dedupKeyOf(spec)) === 1, 5_000, "the sweep's trigger");
    });
  });

  describe("a recurring window (suppress add --weekly)", () => {
    const spec: AlertSpec = { alertname: "E2EWeekly", status: "firing", fingerprint: "b200000000000002", startsAt: iso(-1) };
    const windowId = "e2e-weekly";
    /** HH:MM in UTC, `minutes` from the start of this minute. */
    const hhmm = (minutes: number) => new Date(Math.floor(Date.now() / 60_000) * 60_000 + minutes * 60_000).toISOString().slice(11, 16);

    it("keeps a matching alert from PagerDuty during an occurrence", async () => {
      // Every day, from a minute ago to three minutes ahead: an occurrence is in progress.
      await cli(
        "suppress",
        "add",
        "--match",
        `alertname=${spec.alertname}`,
        "--weekly",
        `mon,tue,wed,thu,fri,sat,sun ${hhmm(-1)}-${hhmm(3)} UTC`,
        "--reason",
        "e2e weekly",
        "--id",
        windowId,
      );
      await new Promise((resolve) => setTimeout(resolve, stack.settings.windowRefreshMs + 50));
      await post(notification(spec));
      await waitFor(async () => (await t.stateOf(dedupKeyOf(spec)))?.suppressedBy === windowId, 5_000, "the suppression to be recorded");
      expect(t.requestsFor(dedupKeyOf(spec))).toEqual([]);
      expect((await cli("suppress", "list")).out).toMatch(new RegExp(`active\\s+${windowId}.*now, until`));
    });

    it("pages through the sweep when the occurrence ends while the alert still fires", async () => {
      // The operator shortens today's occurrence so it ends at the start of this minute.
      await doc.send(
        new UpdateCommand({
          TableName: stack.tables.windows,
          Key: { id: windowId },
          UpdateExpression: "SET schedule.#end = :end",
          ExpressionAttributeNames: { "#end": "end" },
          ExpressionAttributeValues: { ":end": hhmm(0) },
        }),
      );
      await waitFor(() => fake.triggerCount(dedupKeyOf(spec)) === 1, 5_000, "the sweep's trigger");
      expect((await cli("suppress", "list")).out).toMatch(new RegExp(`pending\\s+${windowId}.*next:`));
    });
  });

  it("delivers exactly once when PagerDuty answers 500 for a while and then recovers", async () => {
    const flaky: AlertSpec = { alertname: "E2EFlaky", status: "firing", fingerprint: "c000000000000003", startsAt: iso(-1) };
    const failedBefore = await pollerFailures();
    fake.down({ status: 500 });
    await post(notification(flaky));
    // Two failed receives: the message came back after its visibility timeout and failed again.
    await waitFor(async () => (await pollerFailures()) >= failedBefore + 2, 10_000, "a redelivery while PagerDuty is down");
    expect(fake.triggerCount(dedupKeyOf(flaky))).toBe(0);
    expect(t.requestsFor(dedupKeyOf(flaky)).every((request) => request.status === 500)).toBe(true);
    fake.recover();
    await waitFor(() => fake.triggerCount(dedupKeyOf(flaky)) === 1, 10_000, "the delivery after recovery");
    await waitFor(() => t.queueDrained(), 5_000, "the alerts queue to drain");
    expect(fake.triggerCount(dedupKeyOf(flaky))).toBe(1);
    expect(fake.incidents().filter((incident) => incident.dedupKey === dedupKeyOf(flaky))).toEqual([
      expect.objectContaining({ triggers: 1 }),
    ]);
  });

  describe("a poison message", () => {
    const spec: AlertSpec = { alertname: "E2EPoison", status: "firing", fingerprint: "d000000000000004", startsAt: iso(-1) };
    const normalized = prometheus.normalize(JSON.parse(notification(spec)), { receivedAt: iso(0), config: prometheus.config({}) });
    if (!normalized.ok) throw new Error(normalized.rejection.message);
    const poison = JSON.stringify({ ...normalized.alerts[0], severity: "Info" });
    let dead: { body: string; receiptHandle: string };

    it("lands in the DLQ with its reason (`alert-relay dlq list`)", async () => {
      const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.alerts, MessageBody: poison }));
      const listed = await waitFor(
        async () => (await deadLetters()).find((letter) => letter.originalMessageId === MessageId),
        5_000,
        "the poison message in the DLQ",
      );
      expect(listed.body).toBe(poison);
      expect(listed.reason).toMatch(/^alert does not match schema v1: severity:/);
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queues.deadLetter, MaxNumberOfMessages: 10 }));
      const message = Messages.find((m) => m.MessageId === listed.messageId)!;
      dead = { body: message.Body!, receiptHandle: message.ReceiptHandle! };
      expect(t.requestsFor(dedupKeyOf(spec))).toEqual([]);
    });

    // `dlq redrive` moves a message as it is; fixing a body is a person's edit, done here with the SDK.
    it("is delivered once fixed and redriven", async () => {
      const fixed = JSON.stringify({ ...JSON.parse(dead.body), severity: "info" });
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.alerts, MessageBody: fixed }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queues.deadLetter, ReceiptHandle: dead.receiptHandle }));
      await waitFor(() => fake.triggerCount(dedupKeyOf(spec)) === 1, 5_000, "the redriven trigger");
      expect(fake.openIncidents()).toContainEqual(expect.objectContaining({ dedupKey: dedupKeyOf(spec), severity: "info" }));
    });
  });

  it(
    "dead-letters a change PagerDuty refused on every receive, and `alert-relay dlq redrive` delivers it once PagerDuty is back",
    { timeout: 40_000 },
    async () => {
      const outage: AlertSpec = { alertname: "E2EOutage", status: "firing", fingerprint: "f000000000000006", startsAt: iso(-1) };
      fake.down({ status: 503 });
      try {
        await post(notification(outage));
        const letter = await waitFor(
          async () => (await deadLetters()).find((candidate) => /^gave up after \d+s \(\d+ receives\): .*503/.test(candidate.reason ?? "")),
          30_000,
          "the router to give up and dead-letter the change",
        );
        expect(JSON.parse(letter.body)).toMatchObject({ dedupKey: dedupKeyOf(outage), status: "firing" });
        expect(fake.triggerCount(dedupKeyOf(outage))).toBe(0);
        fake.recover();
        await cli("dlq", "redrive", letter.messageId);
      } finally {
        fake.recover();
      }
      await waitFor(() => fake.triggerCount(dedupKeyOf(outage)) === 1, 5_000, "the redriven trigger");
      await waitFor(() => t.queueDrained(), 5_000, "the alerts queue to drain");
      expect(fake.triggerCount(dedupKeyOf(outage))).toBe(1);
      expect(await deadLetters()).toEqual([]);
    },
  );

  it("reports its health", async () => {
    const response = await fetch(stack.healthzUrl);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ok: true,
      pagerDuty: { mode: "live", endpoint: fake.url },
      emulators: { dynamodb: { ok: true, endpoint: stack.endpoints.dynamodb }, sqs: { ok: true, endpoint: stack.endpoints.sqs } },
      poller: { running: true },
      sweep: { running: true, runs: expect.any(Number) },
    });
  });

  it("answers an unknown path with 404 and the list of routes", async () => {
    const response = await fetch(`${stack.url}/webhook/prometheus`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: string; routes: string[] };
    expect(body.error).toBe("no route for GET /webhook/prometheus");
    expect(body.routes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^POST \/webhooks\/prometheus — /),
        expect.stringMatching(/^POST \/webhooks\/datadog — /),
        expect.stringMatching(/^GET \/healthz/),
      ]),
    );
  });

  it("answers an unknown adapter with 404, the registered ones, and the hint to restart after adding one", async () => {
    const response = await fetch(`${stack.url}/webhooks/grafana`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: 'no adapter named "grafana"',
      hint:
        "if you just added lib/adapters/grafana/ and registered it in " +
        "lib/adapters/registry.ts, restart npm start: it reads the registry when it starts",
      adapters: expect.arrayContaining(["prometheus", "datadog", "cloudwatch"]),
    });
  });

  it("leaves the body size limit to the adapter handler (413 with its reason)", async () => {
    const response = await fetch(stack.webhooks.prometheus!, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `"${"x".repeat(1_100_000)}"`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ reason: "too_large" });
  });

  it("refuses a second stack on the same port, naming the port and the fix", async () => {
    const dataDir = tempDir();
    const attempt = startLocalStack({ port: stack.port, inMemory: true, dataDir, quiet: true });
    await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
    await expect(attempt).rejects.toThrow(new RegExp(`port ${stack.port} is already in use.*--port <n> or PORT=<n>`));
    expect(existsSync(join(dataDir, "stack.json"))).toBe(false);
  });

  it("describes itself in stack.json for the CLI, and removes it when stopped", async () => {
    expect(readStackFile(stack.stackFile)).toEqual({
      version: 1,
      pid: process.pid,
      startedAt: expect.any(String),
      region: "us-east-1",
      httpUrl: stack.url,
      dynamodbEndpoint: stack.endpoints.dynamodb,
      sqsEndpoint: stack.endpoints.sqs,
      tables: stack.tables,
      queues: { alerts: stack.queues.alerts, deadLetter: stack.queues.deadLetter },
    });
    await stack.stop();
    expect(existsSync(stack.stackFile)).toBe(false);
    await expect(fetch(stack.healthzUrl)).rejects.toThrow();
  });
});

describe("local stack without a routing key", () => {
  it("runs dry: answers accepted and writes each event to the outbox", async () => {
    const { stack: dry, outbox, outboxLines } = await t.startDryStack();
    try {
      expect(dry.pagerDuty).toEqual({ mode: "dry-run", outbox });
      expect(readStackFile(dry.stackFile).outbox).toBe(outbox);
      const spec: AlertSpec = { alertname: "E2EDryRun", status: "firing", fingerprint: "e000000000000005", startsAt: iso(-1) };
      expect(await post(notification(spec), dry.webhooks.prometheus)).toMatchObject({ status: "accepted", alerts: 1 });
      const lines = await waitFor(outboxLines, 5_000, "the outbox line");
      expect(lines.map((line) => JSON.parse(line))).toEqual([
        expect.objectContaining({
          routing_key: "(dry-run)",
          event_action: "trigger",
          dedup_key: dedupKeyOf(spec),
          payload: expect.objectContaining({ summary: "E2EDryRun on checkout" }),
        }),
      ]);
    } finally {
      await dry.stop();
    }
  });
});

describe("local stack console", () => {
  it("prints a SUPPRESSED line naming the window when a window holds an alert back", async () => {
    const lines: string[] = [];
    const local = await startLocalStack({
      port: 0,
      inMemory: true,
      dataDir: tempDir(),
      print: (line) => lines.push(line),
      env: { PAGERDUTY_ROUTING_KEY: "", ROUTING_KEYS_FILE: "", WINDOW_REFRESH_MS: "0" },
    });
    try {
      const localDoc = documentClient(
        new DynamoDBClient({ endpoint: local.endpoints.dynamodb, region: local.region, credentials: TEST_CREDENTIALS }),
      );
      const spec: AlertSpec = { alertname: "E2EHeldOnConsole", status: "firing", fingerprint: "e100000000000007", startsAt: iso(-1) };
      await localDoc.send(
        new PutCommand({
          TableName: local.tables.windows,
          Item: {
            id: "console-drill",
            enabled: true,
            matchers: [`alertname=${spec.alertname}`],
            reason: "drill",
            createdBy: "e2e@example.com",
          },
        }),
      );
      await post(notification(spec), local.webhooks.prometheus);
      const line = await waitFor(() => lines.find((text) => text.includes("SUPPRESSED")), 5_000, "the SUPPRESSED line");
      expect(line).toMatch(
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d  SUPPRESSED  critical  E2EHeldOnConsole on checkout  ` +
            `\\[dedup ${dedupKeyOf(spec)}, window console-drill\\]`,
        ),
      );
      expect(lines.filter((text) => text.includes("TRIGGER"))).toEqual([]);
    } finally {
      await local.stop();
    }
  });
});

describe("local stack data directory", () => {
  it("keeps DynamoDB in <dataDir>/dynamodb across restarts, and one stack at a time uses it", async () => {
    const dataDir = tempDir();
    const first = await startLocalStack({ port: 0, dataDir, quiet: true, env: { PAGERDUTY_ROUTING_KEY: "" } });
    const window = { id: "kept", enabled: true, matchers: ["service=checkout"], reason: "persistence", createdBy: "e2e@example.com" };
    const firstDoc = documentClient(
      new DynamoDBClient({ region: first.region, credentials: TEST_CREDENTIALS, endpoint: first.endpoints.dynamodb }),
    );
    try {
      expect(first.descriptor.dataDir).toBe(dataDir);
      await firstDoc.send(new PutCommand({ TableName: first.tables.windows, Item: window }));
      await expect(startLocalStack({ port: 0, dataDir, quiet: true })).rejects.toBeInstanceOf(DataDirInUseError);
    } finally {
      firstDoc.destroy();
      await first.stop();
    }
    expect(existsSync(join(dataDir, "dynamodb"))).toBe(true);

    const second = await startLocalStack({ port: 0, dataDir, quiet: true, env: { PAGERDUTY_ROUTING_KEY: "" } });
    const secondDoc = documentClient(
      new DynamoDBClient({ region: second.region, credentials: TEST_CREDENTIALS, endpoint: second.endpoints.dynamodb }),
    );
    try {
      const { Item } = await secondDoc.send(
        new GetCommand({ TableName: second.tables.windows, Key: { id: "kept" }, ConsistentRead: true }),
      );
      expect(Item).toEqual(window);
    } finally {
      secondDoc.destroy();
      await second.stop();
    }
  });

  it("refuses to start where another process's stack is running", async () => {
    const dataDir = tempDir();
    const other = {
      version: 1 as const,
      pid: process.ppid,
      startedAt: iso(0),
      region: "us-east-1",
      httpUrl: "http://127.0.0.1:3999",
      dynamodbEndpoint: "",
      sqsEndpoint: "",
      tables: { state: "s", windows: "w" },
      queues: { alerts: "a", deadLetter: "d" },
    };
    writeStackFile(other, dataDir);
    await expect(startLocalStack({ port: 0, inMemory: true, dataDir, quiet: true })).rejects.toBeInstanceOf(StackAlreadyRunningError);
    expect(readStackFile(join(dataDir, "stack.json")).pid).toBe(process.ppid);
  });
});
