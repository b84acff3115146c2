/**
 * The local stack as the end-to-end tests use it: the strict fake PagerDuty, `startLocalStack`
 * in memory with short timings (2 s visibility timeout, a fast sweep, windows re-read every
 * 200 ms), and SDK clients for its DynamoDB and SQS; close() stops and removes all of it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { documentClient } from "../../lib/handlers/router-runtime.ts";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../../lib/local/stack.ts";
import { startFakePagerDuty, type FakePagerDuty } from "./fake-pagerduty.ts";
import { TEST_CREDENTIALS } from "./local-sqs.ts";

export interface TestStack {
  fake: FakePagerDuty;
  stack: LocalStack;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  dataDir: string;
  /** A scratch directory (e.g. another stack's data dir), removed by close(). */
  tempDir(): string;
  /** The problem's state item as stored (a consistent read). */
  stateOf(dedupKey: string): Promise<Record<string, unknown> | undefined>;
  /** Every request the fake PagerDuty received for a dedup key, accepted or not. */
  requestsFor(dedupKey: string): FakePagerDuty["requests"];
  /** The event actions the fake PagerDuty accepted for a dedup key, in order. */
  actionsFor(dedupKey: string): string[];
  /** A dry local stack in memory in a scratch directory, with these settings besides; the caller stops it. */
  startDryStack(env?: Record<string, string>): Promise<DryStack>;
  /** Every message on a stack's alerts queue (this one's by default) has been handled: none waiting, none in flight. */
  queueDrained(on?: LocalStack): Promise<boolean>;
  close(): Promise<void>;
}

/** A second local stack without a routing key: it runs dry, PagerDuty events go to its outbox. */
export interface DryStack {
  stack: LocalStack;
  outbox: string;
  /** The outbox's complete lines; null until the file exists (it does a moment before its first line is complete). */
  outboxLines(): string[] | null;
}

export interface TestStackOptions extends Pick<LocalStackOptions, "sweepIntervalMs" | "visibilityTimeoutSeconds"> {
  /** The relay's routing key for PagerDuty (PAGERDUTY_ROUTING_KEY): 32 characters. */
  routingKey: string;
  /** More settings, e.g. ROUTES_JSON or WEBHOOK_TOKEN. */
  env?: Record<string, string>;
}

export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const fake = await startFakePagerDuty();
  const dataDir = mkdtempSync(join(tmpdir(), "alert-relay-e2e-"));
  const stack = await startLocalStack({
    port: 0,
    inMemory: true,
    dataDir,
    quiet: true,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 2,
    sweepIntervalMs: options.sweepIntervalMs ?? 250,
    env: { PAGERDUTY_EVENTS_URL: fake.url, PAGERDUTY_ROUTING_KEY: options.routingKey, WINDOW_REFRESH_MS: "200", ...options.env },
  });
  const clientConfig = { region: stack.region, credentials: TEST_CREDENTIALS };
  const doc = documentClient(new DynamoDBClient({ ...clientConfig, endpoint: stack.endpoints.dynamodb }));
  const sqs = new SQSClient({ ...clientConfig, endpoint: stack.endpoints.sqs });
  const scratch: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "alert-relay-e2e-"));
    scratch.push(dir);
    return dir;
  };
  return {
    fake,
    stack,
    doc,
    sqs,
    dataDir,
    tempDir,
    async startDryStack(env = {}) {
      const dir = tempDir();
      const dry = await startLocalStack({
        port: 0,
        inMemory: true,
        dataDir: dir,
        quiet: true,
        env: { PAGERDUTY_ROUTING_KEY: "", ROUTING_KEYS_FILE: "", ...env },
      });
      const outbox = join(dir, "outbox.jsonl");
      return { stack: dry, outbox, outboxLines: () => (existsSync(outbox) ? readFileSync(outbox, "utf8").match(/^.+\n/gm) : null) };
    },
    async stateOf(dedupKey) {
      const { Item } = await doc.send(new GetCommand({ TableName: stack.tables.state, Key: { dedupKey }, ConsistentRead: true }));
      return Item;
    },
    requestsFor: (dedupKey) =>
      fake.requests.filter((request) => (request.body as { dedup_key?: string } | undefined)?.dedup_key === dedupKey),
    actionsFor: (dedupKey) => fake.events.filter((event) => event.dedupKey === dedupKey).map((event) => event.action),
    async queueDrained(on = stack) {
      const { sqs: queues } = (await on.health()).emulators;
      return queues.ok && queues.alerts.visible === 0 && queues.alerts.inFlight === 0;
    },
    async close() {
      doc.destroy();
      sqs.destroy();
      await stack.stop();
      await fake.close();
      for (const dir of [dataDir, ...scratch]) rmSync(dir, { recursive: true, force: true });
    },
  };
}
