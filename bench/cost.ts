/**
 * What it costs to run (issue 15): dollars per million alerts, from what the bench counts while
 * real code handles real workloads — the adapter handler on local SQS, the router's SQS handler
 * (as deployed: createRouterRuntime + createRouterHandler) on dynalite with the fake PagerDuty,
 * and the sweep every simulated minute:
 * - API Gateway HTTP API requests (one per webhook request, 512 KB increments);
 * - Lambda requests and GB-seconds: measured handler durations (wall time on this machine,
 *   rounded up to 1 ms per invocation) at the stack's memory sizes, arm64 price;
 * - SQS requests in 64 KB chunks: the adapter's SendMessageBatch as sent, the event source
 *   mapping's ReceiveMessage and DeleteMessageBatch per router batch;
 * - DynamoDB write units from the real items before and after each write (an update is charged
 *   on the larger; a failed conditional write on the item as it was; KEYS_ONLY index entries 1
 *   each), read units as dynalite reports them from item sizes;
 * - Secrets Manager calls (each cached value is read again every 5 minutes per function);
 * - CloudWatch Logs bytes: every log and EMF line the handlers print at the default level (INFO),
 *   plus Lambda's own platform records per invocation (none at the stack's system log level) and
 *   one API Gateway access log line per request.
 * Workloads: (a) steady — the storm generator without burst or flapping, 20 messages per problem,
 * so 90 % are repeats; (b) storm — `npm run bench storm`'s workload with its routes and policies.
 * Delivery shapes, since per-request fees are shared by the alerts of a request: one alert per
 * webhook, one CloudWatch alarm per SNS invocation (no API Gateway), and ten alerts per webhook
 * (an Alertmanager group notification; the steady run is repeated with messages arriving in tens).
 * Knobs: COST_STEADY_ALERTS (2,000), COST_STORM_SCALE (1 = 5,000 alerts), COST_LOG_DUMP=<file> (append
 * every captured log line there, to see what the bytes are), COST_WRITE_DUMP=<file> (append each
 * scenario's writes by kind there: requests, failed ones and units, to see where the units go).
 */
import { appendFileSync } from "node:fs";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import {
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { Context } from "aws-lambda";
import { startDynalite, dynamoClient } from "../test/support/dynalite.ts";
import { startFakePagerDuty } from "../test/support/fake-pagerduty.ts";
import { startLocalSqs } from "../test/support/local-sqs.ts";
import { loadFixtures } from "../test/support/fixtures.ts";
import { httpEvent } from "../test/support/http-event.ts";
import { sqsEvent, sqsRecord } from "../test/support/sqs-event.ts";
import { lambdaContext } from "../test/support/lambda-context.ts";
import { typicalAccessLogLine } from "../test/support/access-log.ts";
import { stateTableDefinition } from "../lib/local/emulators.ts";
import { windowsTableDefinition } from "../lib/suppression/dynamo-window-store.ts";
import { createRouterRuntime, documentClient } from "../lib/handlers/router-runtime.ts";
import { createRouterHandler } from "../lib/handlers/router.ts";
import { sweepWatched } from "../lib/router/sweep.ts";
import { createPagerDutyDeliver } from "../lib/router/deliver.ts";
import { createTelemetry, type Telemetry } from "../lib/platform/observability.ts";
import { PIPELINE } from "../lib/handlers/pipeline.ts";
import { findAdapter } from "../lib/adapters/registry.ts";
import { createAdapterHandler } from "../lib/handlers/adapter.ts";
import { createSqsPublisher } from "../lib/publish/sqs-publisher.ts";
import { DEFAULT_SECRET_MAX_AGE_SECONDS } from "../lib/routes/routing-keys.ts";
import type { Deliver } from "../lib/router/router.ts";
import { FUNCTION_MEMORY_MB, SYSTEM_LOG_LEVEL } from "../infra/bundling.ts";
import { generateStormWorkload, type Message } from "./storm-workload.ts";
import { ROUTING_KEYS, STORM_ROUTES_CONFIG, benchPagerDutyClient } from "./storm.ts";
import { fmt, table, verdict } from "./harness.ts";

/** us-east-1 list prices, looked up on 2026-12-02 (AWS pricing pages as quoted by the pages the search tool holds). */
export const PRICES = {
  date: "2026-12-02",
  apiGatewayHttpPerMillion: 1.0,
  lambdaRequestsPerMillion: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  sqsStandardPerMillion: 0.4,
  dynamoWritePerMillionUnits: 0.625,
  dynamoReadPerMillionUnits: 0.125,
  secretsManagerPer10kCalls: 0.05,
  logsIngestPerGb: 0.5,
} as const;

const TARGET_STEADY_DOLLARS = 1;
const KB = 1024;
const SQS_CHUNK = 64 * KB;
const SWEEP_EVERY_MS = 60_000;
const VISIBILITY_MS = 30_000;
const TAIL_MINUTES = 30;
/**
 * Lambda's own records per invocation in the stack's JSON log format, platform.start (~120 bytes)
 * and platform.report (~330 bytes), an estimate from the record formats: none when the stack sets
 * the system log level above INFO.
 */
const PLATFORM_LOG_BYTES_PER_INVOCATION = (SYSTEM_LOG_LEVEL as string) === "INFO" || (SYSTEM_LOG_LEVEL as string) === "DEBUG" ? 450 : 0;
/** One API Gateway access log line in the stack's format, with typical values for an Alertmanager webhook. */
const ACCESS_LOG_BYTES = Buffer.byteLength(typicalAccessLogLine());

// dynalite's own sizing (DynamoDB's rules: attribute names plus values), so units match what it reports for reads.
const dynaliteDb = createRequire(import.meta.url)("dynalite/db/index.js") as { itemSize(item: Record<string, AttributeValue>): number };
const writeUnits = (item: Record<string, AttributeValue> | undefined) =>
  item ? Math.max(1, Math.ceil(dynaliteDb.itemSize(item) / KB)) : 0;

/** Whatever the process prints (Powertools logs and EMF) while `fn` runs: counted and swallowed. */
async function capturingOutput<T>(fn: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let bytes = 0;
  const dump = process.env.COST_LOG_DUMP;
  const count = (chunk: unknown) => {
    bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
    if (dump) appendFileSync(dump, typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array));
    return true;
  };
  process.stdout.write = count as typeof process.stdout.write;
  process.stderr.write = count as typeof process.stderr.write;
  try {
    return { result: await fn(), bytes };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** Telemetry as deployed: INFO logs, metrics on (EMF lines count as log bytes). */
function defaultTelemetry(component: string, dimensions?: Record<string, string>): Telemetry {
  const saved = {
    level: process.env.POWERTOOLS_LOG_LEVEL,
    metrics: process.env.POWERTOOLS_METRICS_DISABLED,
    dev: process.env.POWERTOOLS_DEV,
  };
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_DEV;
  try {
    return createTelemetry(component, dimensions);
  } finally {
    for (const [name, value] of [
      ["POWERTOOLS_LOG_LEVEL", saved.level],
      ["POWERTOOLS_METRICS_DISABLED", saved.metrics],
      ["POWERTOOLS_DEV", saved.dev],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

export interface DynamoTally {
  writeRequests: number;
  writeUnits: number;
  indexWriteUnits: number;
  failedConditionalWrites: number;
  readRequests: number;
  readUnits: number;
  largestStateItem: number;
  /** Per kind of write (command, update and condition expressions): requests, failed ones, units. */
  byKind?: Map<string, { requests: number; failed: number; units: number }>;
}

/** A write's kind: its command and the start of its expressions (values differ per item, expressions do not). */
const writeKind = (command: string, input: { UpdateExpression?: string; ConditionExpression?: string }) => {
  const [update, condition] = [input.UpdateExpression, input.ConditionExpression].map((text) => (text ?? "").slice(0, 50));
  return `${command.replace("ItemCommand", "")} ${update} | ${condition}`;
};

function tallyKind(counts: DynamoTally, kind: string, failed: boolean, units: number): void {
  if (!counts.byKind) return;
  const entry = counts.byKind.get(kind) ?? { requests: 0, failed: 0, units: 0 };
  entry.requests += 1;
  entry.failed += failed ? 1 : 0;
  entry.units += units;
  counts.byKind.set(kind, entry);
}

const WRITE_COMMANDS = new Set(["UpdateItemCommand", "PutItemCommand", "DeleteItemCommand"]);
const READ_COMMANDS = new Set(["GetItemCommand", "QueryCommand", "ScanCommand"]);

/**
 * Charges every DynamoDB request the client sends: reads as dynalite reports their units, writes
 * from the item read (on a separate, uncounted client) just before and just after.
 */
export async function meterDynamo(
  client: DynamoDBClient,
  raw: DynamoDBClient,
  tally: () => DynamoTally,
  stateTable: string,
): Promise<void> {
  const keyNames = new Map<string, string[]>();
  const keysOf = async (tableName: string) => {
    if (!keyNames.has(tableName)) {
      const { Table } = await raw.send(new DescribeTableCommand({ TableName: tableName }));
      keyNames.set(
        tableName,
        (Table?.KeySchema ?? []).map((k) => k.AttributeName!),
      );
    }
    return keyNames.get(tableName)!;
  };
  const marshalled = (value: Record<string, unknown>): Record<string, AttributeValue> =>
    Object.values(value).every((v) => typeof v === "object" && v !== null && !Array.isArray(v))
      ? (value as Record<string, AttributeValue>)
      : marshall(value);
  const indexKey = (item: Record<string, AttributeValue> | undefined) =>
    item?.watch && item.watchAt ? `${item.watch.S}|${item.watchAt.S}` : undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown> & {
        TableName?: string;
        Key?: Record<string, unknown>;
        Item?: Record<string, unknown>;
        UpdateExpression?: string;
        ConditionExpression?: string;
      };
      const counts = tally();
      if (READ_COMMANDS.has(context.commandName!)) {
        input.ReturnConsumedCapacity = "TOTAL";
        const output = await next(args);
        counts.readRequests += 1;
        counts.readUnits += (output.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity?.CapacityUnits ?? 0;
        return output;
      }
      if (!WRITE_COMMANDS.has(context.commandName!) || !input.TableName) return next(args);
      const names = await keysOf(input.TableName);
      const source = input.Key ?? input.Item!;
      const key = marshalled(Object.fromEntries(names.map((name) => [name, source[name]])));
      const read = async () => (await raw.send(new GetItemCommand({ TableName: input.TableName, Key: key, ConsistentRead: true }))).Item;
      const before = await read();
      counts.writeRequests += 1;
      try {
        const output = await next(args);
        const after = await read();
        const units = Math.max(1, writeUnits(before), writeUnits(after));
        counts.writeUnits += units;
        tallyKind(counts, writeKind(context.commandName!, input), false, units);
        if (input.TableName === stateTable) {
          counts.largestStateItem = Math.max(counts.largestStateItem, after ? dynaliteDb.itemSize(after) : 0);
          const [was, is] = [indexKey(before), indexKey(after)];
          if (was !== is) counts.indexWriteUnits += (was ? 1 : 0) + (is ? 1 : 0);
        }
        return output;
      } catch (error) {
        // DynamoDB charges a failed conditional write on the size of the item as it stands.
        if ((error as Error).name === "ConditionalCheckFailedException") {
          counts.failedConditionalWrites += 1;
          counts.writeUnits += Math.max(1, writeUnits(before));
          tallyKind(counts, writeKind(context.commandName!, input), true, Math.max(1, writeUnits(before)));
        }
        throw error;
      }
    },
    { step: "initialize", name: "meterDynamo" },
  );
}

export const emptyTally = (): DynamoTally => ({
  writeRequests: 0,
  writeUnits: 0,
  indexWriteUnits: 0,
  failedConditionalWrites: 0,
  readRequests: 0,
  readUnits: 0,
  largestStateItem: 0,
  ...(process.env.COST_WRITE_DUMP ? { byKind: new Map() } : {}),
});

function dumpWrites(s: ScenarioCounts): void {
  const dump = process.env.COST_WRITE_DUMP;
  if (!dump) return;
  const lines = Object.entries({ routing: s.alertsPhase, sweeps: s.sweepPhase }).flatMap(([phase, tally]) =>
    [...(tally.byKind ?? [])]
      .sort(([, a], [, b]) => b.units - a.units)
      .map(([kind, e]) => `${s.name}\t${phase}\t${e.requests}\t${e.failed}\t${e.units}\t${kind}`),
  );
  appendFileSync(dump, `scenario\tphase\trequests\tfailed\tunits\tkind (${s.alerts} alerts)\n${lines.join("\n")}\n`);
}

interface ScenarioCounts {
  name: string;
  alerts: number;
  firstOrTransition: number;
  routerInvocations: number;
  routerMs: number;
  routerBilledMs: number;
  receiveChunks: number;
  deleteRequests: number;
  visibilityChanges: number;
  routerLogBytes: number;
  sweepInvocations: number;
  sweepBilledMs: number;
  sweepLogBytes: number;
  alertsPhase: DynamoTally;
  sweepPhase: DynamoTally;
  /** GetSecretValue calls: each routing key in use, read again every 5 minutes. */
  secretCalls: number;
  simulatedMinutes: number;
  outcomes: Map<string, number>;
}

interface Pending {
  message: Message;
  deliverAt: number;
  receives: number;
  messageId: string;
}

/** Runs one workload through the router's SQS handler and the sweep, on a simulated clock. */
async function runScenario(name: string, messages: readonly Message[], config: unknown, seed: number): Promise<ScenarioCounts> {
  const db = await startDynalite();
  let clock = messages[0]!.deliverAt;
  const fake = await startFakePagerDuty({ now: () => clock });
  const client = dynamoClient(db.endpoint);
  const raw = dynamoClient(db.endpoint);
  const tables = { state: `cost-${name}-state`, windows: `cost-${name}-windows` };
  await raw.send(new CreateTableCommand(stateTableDefinition(tables.state)));
  await raw.send(new CreateTableCommand(windowsTableDefinition(tables.windows)));
  const phases = { alerts: emptyTally(), sweeps: emptyTally() };
  let phase: keyof typeof phases = "alerts";
  await meterDynamo(client, raw, () => phases[phase], tables.state);
  try {
    const pagerDuty = benchPagerDutyClient(fake.url, seed);
    const keysUsed = new Set<string>();
    const toPagerDuty = createPagerDutyDeliver(pagerDuty, async (ref) => {
      const key = ROUTING_KEYS[ref];
      if (!key) throw new Error(`no routing key named ${ref}`);
      keysUsed.add(`${ref}|${Math.floor(clock / (DEFAULT_SECRET_MAX_AGE_SECONDS * 1000))}`);
      return key;
    });
    const deliver: Deliver = (alert, delivery, deadline) => toPagerDuty(alert, delivery, Date.now() + Math.max(0, deadline - clock));
    const telemetry = defaultTelemetry("router");
    const runtime = createRouterRuntime(
      { STATE_TABLE_NAME: tables.state, WINDOWS_TABLE_NAME: tables.windows, DLQ_URL: "unused", ROUTES_JSON: JSON.stringify(config) },
      { doc: documentClient(client), deliver, now: () => new Date(clock), telemetry },
    );
    let deadLettered = 0;
    const handler = createRouterHandler({
      ...runtime.telemetry,
      ...runtime,
      deadLetters: { send: async () => void (deadLettered += 1) },
      now: () => clock,
    });
    // A fresh context per invocation: its remaining time counts down in real time.
    const context = (): Context => ({ ...lambdaContext("alert-relay-router", 60_000), memoryLimitInMB: String(FUNCTION_MEMORY_MB.router) });

    const queue: Pending[] = messages.map((message, index) => ({
      message,
      deliverAt: message.deliverAt,
      receives: 0,
      messageId: `m-${index}`,
    }));
    const counts: ScenarioCounts = {
      name,
      alerts: messages.length,
      firstOrTransition: 0,
      routerInvocations: 0,
      routerMs: 0,
      routerBilledMs: 0,
      receiveChunks: 0,
      deleteRequests: 0,
      visibilityChanges: 0,
      routerLogBytes: 0,
      sweepInvocations: 0,
      sweepBilledMs: 0,
      sweepLogBytes: 0,
      alertsPhase: phases.alerts,
      sweepPhase: phases.sweeps,
      secretCalls: 0,
      simulatedMinutes: 0,
      outcomes: new Map(),
    };
    const startMs = clock;
    let nextSweep = Math.floor(clock / SWEEP_EVERY_MS) * SWEEP_EVERY_MS + SWEEP_EVERY_MS;
    const sweep = async () => {
      phase = "sweeps";
      const started = performance.now();
      const { bytes } = await capturingOutput(async () => {
        const report = await sweepWatched(runtime.store, runtime.router, clock + 50_000, () => clock);
        runtime.telemetry.logger.info("sweep done", { ...report });
      });
      const ms = performance.now() - started;
      counts.sweepInvocations += 1;
      counts.sweepBilledMs += Math.ceil(ms);
      counts.sweepLogBytes += bytes + PLATFORM_LOG_BYTES_PER_INVOCATION;
      phase = "alerts";
    };
    const lastAt = Math.max(...messages.map((m) => m.deliverAt));
    while (queue.length > 0) {
      queue.sort((a, b) => a.deliverAt - b.deliverAt);
      const first = queue[0]!;
      while (nextSweep <= first.deliverAt) {
        clock = Math.max(clock, nextSweep);
        await sweep();
        nextSweep += SWEEP_EVERY_MS;
      }
      clock = Math.max(clock, first.deliverAt);
      // A batch is what the event source mapping would take at once: up to the batch size, arrived within a second.
      const batch = queue.filter((p) => p.deliverAt <= first.deliverAt + 1_000).slice(0, PIPELINE.routerBatchSize);
      for (const item of batch) queue.splice(queue.indexOf(item), 1);
      const records = batch.map((item) => {
        item.receives += 1;
        return sqsRecord(JSON.stringify(item.message.alert), {
          messageId: item.messageId,
          receiveCount: item.receives,
          sentAt: item.message.deliverAt,
        });
      });
      const started = performance.now();
      const { result, bytes } = await capturingOutput(
        () => handler(sqsEvent(records), context()) as Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
      );
      const ms = performance.now() - started;
      counts.routerInvocations += 1;
      counts.routerMs += ms;
      counts.routerBilledMs += Math.ceil(ms);
      counts.routerLogBytes += bytes + PLATFORM_LOG_BYTES_PER_INVOCATION;
      counts.receiveChunks += Math.max(1, Math.ceil(records.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0) / SQS_CHUNK));
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      // Lambda deletes the batch's successes in one DeleteMessageBatch; failures come back after the visibility timeout.
      if (failed.size < batch.length) counts.deleteRequests += 1;
      for (const item of batch) if (failed.has(item.messageId)) queue.push({ ...item, deliverAt: clock + VISIBILITY_MS });
    }
    // The sweeps after the last message, until held resolves have gone out.
    for (const end = lastAt + TAIL_MINUTES * 60_000; nextSweep <= end; nextSweep += SWEEP_EVERY_MS) {
      clock = nextSweep;
      await sweep();
    }
    counts.simulatedMinutes = (clock - startMs) / 60_000;
    counts.secretCalls = keysUsed.size;
    counts.firstOrTransition = messages.filter((m) => m.kind === "first").length;
    dumpWrites(counts);
    void deadLettered;
    return counts;
  } finally {
    client.destroy();
    raw.destroy();
    await fake.close();
    await db.close();
  }
}

/** How alerts reach the adapters; a request's fees (API Gateway, invocation, SendMessageBatch, access log) are shared by its alerts. */
export interface DeliveryShape {
  name: string;
  /** Alerts per request (a grouped Alertmanager notification carries every alert of its group). */
  alertsPerRequest: number;
  /** Webhooks come through the HTTP API; SNS and EventBridge invoke the adapter directly. */
  viaApiGateway: boolean;
}

export const DELIVERY_SHAPES = {
  webhook: { name: "1 alert per webhook", alertsPerRequest: 1, viaApiGateway: true },
  grouped: { name: "10 alerts per webhook", alertsPerRequest: 10, viaApiGateway: true },
  sns: { name: "SNS, 1 alarm per invocation", alertsPerRequest: 1, viaApiGateway: false },
} as const satisfies Record<string, DeliveryShape>;

/** $ per million alerts no design with this pipeline can go under: request fees only (one SQS chunk a request). */
export function requestFeeFloor(shape: DeliveryShape): number {
  const perRequest =
    (shape.viaApiGateway ? PRICES.apiGatewayHttpPerMillion : 0) + PRICES.lambdaRequestsPerMillion + PRICES.sqsStandardPerMillion;
  const perRouterBatch = 2 * PRICES.sqsStandardPerMillion + PRICES.lambdaRequestsPerMillion;
  return perRequest / shape.alertsPerRequest + perRouterBatch / PIPELINE.routerBatchSize;
}

interface AdapterCounts {
  shape: DeliveryShape;
  requests: number;
  medianMs: number;
  billedMsPerRequest: number;
  sqsChunksPerRequest: number;
  logBytesPerRequest: number;
}

/**
 * The requests of a shape: Alertmanager webhooks with that many alerts of one group, or a CloudWatch
 * alarm's SNS event. Fixtures are read once; request `index` names its own instances.
 */
function requestsFor(shape: DeliveryShape): { adapter: string; event(index: number): unknown } {
  if (!shape.viaApiGateway) {
    const fixture = loadFixtures("cloudwatch").find((f) => f.file === "high-cpu.sns-alarm.json")!;
    return { adapter: "cloudwatch", event: () => fixture.payload };
  }
  const fixture = loadFixtures("prometheus").find((f) => f.file.includes("high-latency.firing"))!;
  const payload = fixture.payload as { alerts: { labels: Record<string, string> }[] };
  const [template] = payload.alerts;
  return {
    adapter: "prometheus",
    event(index) {
      const alerts = Array.from({ length: shape.alertsPerRequest }, (_, k) => ({
        ...template,
        labels: { ...template!.labels, instance: `web-${index}-${k}:9100` },
      }));
      return httpEvent(JSON.stringify({ ...payload, alerts }), { headers: { authorization: "Bearer cost-token" } });
    },
  };
}

/** The adapter's cost per request of a shape, published to local SQS. */
async function measureAdapter(shape: DeliveryShape): Promise<AdapterCounts> {
  const sqs = await startLocalSqs();
  try {
    const { url } = await sqs.createQueue("cost-alerts");
    let sentBytes = 0;
    let sendRequests = 0;
    sqs.client.middlewareStack.add(
      (next) => async (args) => {
        const body = (args.request as { body?: unknown }).body;
        sentBytes += typeof body === "string" ? Buffer.byteLength(body) : 0;
        sendRequests += 1;
        return next(args);
      },
      { step: "finalizeRequest", name: "meterSqs" },
    );
    const source = requestsFor(shape);
    const adapter = findAdapter(source.adapter)!;
    const handler = createAdapterHandler(adapter, {
      ...defaultTelemetry("adapter", { source: adapter.name }),
      env: {},
      webhookToken: async () => "cost-token",
      publisher: createSqsPublisher({ sqs: sqs.client, queueUrl: url }),
    });
    const context = () => ({ ...lambdaContext("alert-relay-adapter", 30_000), memoryLimitInMB: String(FUNCTION_MEMORY_MB.adapter) });
    const requests = 60;
    const times: number[] = [];
    let chunks = 0;
    const { bytes } = await capturingOutput(async () => {
      for (let i = 0; i < requests; i += 1) {
        const event = source.event(i);
        const before = sentBytes;
        const started = performance.now();
        await handler(event as Parameters<typeof handler>[0], context());
        times.push(performance.now() - started);
        chunks += Math.max(1, Math.ceil((sentBytes - before) / SQS_CHUNK));
      }
    });
    if (sendRequests !== requests)
      throw new Error(`${shape.name}: expected one SendMessageBatch per request, saw ${sendRequests} for ${requests}`);
    times.sort((a, b) => a - b);
    return {
      shape,
      requests,
      medianMs: times[Math.floor(times.length / 2)]!,
      billedMsPerRequest: times.reduce((sum, t) => sum + Math.ceil(t), 0) / requests,
      sqsChunksPerRequest: chunks / requests,
      logBytesPerRequest: bytes / requests + PLATFORM_LOG_BYTES_PER_INVOCATION + (shape.viaApiGateway ? ACCESS_LOG_BYTES : 0),
    };
  } finally {
    await sqs.close();
  }
}

interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  dollars: number;
}

/** Dollars per million alerts, by line, for one scenario's router side and one delivery shape's adapter side. */
function costPerMillion(s: ScenarioCounts, adapter: AdapterCounts): CostLine[] {
  const perAlert = (n: number) => n / s.alerts;
  const perRequest = (n: number) => n / adapter.shape.alertsPerRequest;
  const m = 1_000_000;
  const gb = (mb: number) => mb / 1024;
  const dynamoWrites = s.alertsPhase.writeUnits + s.alertsPhase.indexWriteUnits + s.sweepPhase.writeUnits + s.sweepPhase.indexWriteUnits;
  const dynamoReads = s.alertsPhase.readUnits + s.sweepPhase.readUnits;
  const apiRequests = adapter.shape.viaApiGateway ? perRequest(1) : 0;
  const lambdaRequests = perRequest(1) + perAlert(s.routerInvocations + s.sweepInvocations);
  const gbSeconds =
    perRequest(adapter.billedMsPerRequest / 1000) * gb(FUNCTION_MEMORY_MB.adapter) +
    perAlert(s.routerBilledMs / 1000) * gb(FUNCTION_MEMORY_MB.router) +
    perAlert(s.sweepBilledMs / 1000) * gb(FUNCTION_MEMORY_MB.sweep);
  const sqsRequests = perRequest(adapter.sqsChunksPerRequest) + perAlert(s.receiveChunks + s.deleteRequests + s.visibilityChanges);
  // A webhook adapter reads its token every 5 minutes too; SNS and EventBridge need none.
  const tokenReads = adapter.shape.viaApiGateway ? s.simulatedMinutes / (DEFAULT_SECRET_MAX_AGE_SECONDS / 60) : 0;
  const secretCalls = perAlert(s.secretCalls + tokenReads);
  const logBytes = perRequest(adapter.logBytesPerRequest) + perAlert(s.routerLogBytes + s.sweepLogBytes);
  return [
    { item: "API Gateway HTTP requests", quantity: apiRequests, unit: "requests", dollars: apiRequests * PRICES.apiGatewayHttpPerMillion },
    { item: "Lambda requests", quantity: lambdaRequests, unit: "requests", dollars: lambdaRequests * PRICES.lambdaRequestsPerMillion },
    { item: "Lambda duration (arm64)", quantity: gbSeconds, unit: "GB-s", dollars: gbSeconds * m * PRICES.lambdaArmPerGbSecond },
    { item: "SQS requests (64 KB chunks)", quantity: sqsRequests, unit: "requests", dollars: sqsRequests * PRICES.sqsStandardPerMillion },
    {
      item: "DynamoDB writes",
      quantity: perAlert(dynamoWrites),
      unit: "WRU",
      dollars: perAlert(dynamoWrites) * PRICES.dynamoWritePerMillionUnits,
    },
    {
      item: "DynamoDB reads",
      quantity: perAlert(dynamoReads),
      unit: "RRU",
      dollars: perAlert(dynamoReads) * PRICES.dynamoReadPerMillionUnits,
    },
    {
      item: "Secrets Manager calls",
      quantity: secretCalls,
      unit: "calls",
      dollars: (secretCalls * m * PRICES.secretsManagerPer10kCalls) / 10_000,
    },
    { item: "CloudWatch Logs ingested", quantity: logBytes, unit: "bytes", dollars: (logBytes * m * PRICES.logsIngestPerGb) / 1024 ** 3 },
  ];
}

/**
 * The same messages as a grouped notifier sends them: every `size` consecutive messages arrive
 * together, when the last of them is ready (a group's notification waits for its last alert).
 */
export function deliveredInGroups(messages: readonly Message[], size: number): Message[] {
  const grouped: Message[] = [];
  for (let i = 0; i < messages.length; i += size) {
    const group = messages.slice(i, i + size);
    const at = Math.max(...group.map((m) => m.deliverAt));
    for (const message of group) grouped.push({ ...message, deliverAt: at });
  }
  return grouped;
}

export async function benchCost(): Promise<string[]> {
  const steadyAlerts = Number(process.env.COST_STEADY_ALERTS ?? 2_000);
  const stormScale = Number(process.env.COST_STORM_SCALE ?? 1);
  const seed = 1;
  const started = performance.now();
  const adapters = {
    webhook: await measureAdapter(DELIVERY_SHAPES.webhook),
    grouped: await measureAdapter(DELIVERY_SHAPES.grouped),
    sns: await measureAdapter(DELIVERY_SHAPES.sns),
  };
  // 20 messages per problem: its first firing and its resolve are new, the 18 others repeat what is known.
  const steady = generateStormWorkload({ seed, alerts: steadyAlerts, problems: Math.round(steadyAlerts / 20), burst: 0, flappingShare: 0 });
  const storm = generateStormWorkload({
    seed,
    alerts: Math.round(5_000 * stormScale),
    problems: Math.round(1_000 * stormScale),
    burst: Math.round(300 * stormScale),
  });
  const runs = {
    steady: await runScenario("steady", steady.messages, STORM_ROUTES_CONFIG, seed),
    steadyGrouped: await runScenario(
      "steady-grouped",
      deliveredInGroups(steady.messages, DELIVERY_SHAPES.grouped.alertsPerRequest),
      STORM_ROUTES_CONFIG,
      seed,
    ),
    storm: await runScenario("storm", storm.messages, STORM_ROUTES_CONFIG, seed),
  };
  const columns = [
    { label: "steady, 1 alert/webhook", run: runs.steady, adapter: adapters.webhook },
    { label: "steady, SNS", run: runs.steady, adapter: adapters.sns },
    { label: "steady, 10 alerts/webhook", run: runs.steadyGrouped, adapter: adapters.grouped },
    { label: "storm, 1 alert/webhook", run: runs.storm, adapter: adapters.webhook },
  ];
  const costs = columns.map((c) => costPerMillion(c.run, c.adapter));
  const total = (lines: CostLine[]) => lines.reduce((sum, l) => sum + l.dollars, 0);

  const rows: string[][] = [["$ per million alerts", "steady: per alert", ...columns.map((c) => c.label)]];
  costs[0]!.forEach((line, i) => {
    rows.push([line.item, `${fmt(line.quantity, line.unit === "bytes" ? 0 : 3)} ${line.unit}`, ...costs.map((c) => fmt(c[i]!.dollars, 3))]);
  });
  rows.push(["total", "", ...costs.map((c) => fmt(total(c), 2))]);

  const scenarios = [runs.steady, runs.steadyGrouped, runs.storm];
  const unitRows: string[][] = [["DynamoDB per alert", ...scenarios.map((s) => s.name)]];
  const per = (s: ScenarioCounts, n: number) => fmt(n / s.alerts, 2);
  unitRows.push([
    "write requests (routing / sweeps)",
    ...scenarios.map((s) => `${per(s, s.alertsPhase.writeRequests)} / ${per(s, s.sweepPhase.writeRequests)}`),
  ]);
  unitRows.push([
    "write units, table (routing / sweeps)",
    ...scenarios.map((s) => `${per(s, s.alertsPhase.writeUnits)} / ${per(s, s.sweepPhase.writeUnits)}`),
  ]);
  unitRows.push([
    "write units, watch-index",
    ...scenarios.map((s) => per(s, s.alertsPhase.indexWriteUnits + s.sweepPhase.indexWriteUnits)),
  ]);
  unitRows.push([
    "failed conditional writes",
    ...scenarios.map((s) => per(s, s.alertsPhase.failedConditionalWrites + s.sweepPhase.failedConditionalWrites)),
  ]);
  unitRows.push([
    "read units (routing / sweeps)",
    ...scenarios.map((s) => `${per(s, s.alertsPhase.readUnits)} / ${per(s, s.sweepPhase.readUnits)}`),
  ]);
  unitRows.push([
    "largest state item",
    ...scenarios.map((s) => `${fmt(Math.max(s.alertsPhase.largestStateItem, s.sweepPhase.largestStateItem))} bytes`),
  ]);

  const logRows: string[][] = [["log bytes per alert", ...columns.map((c) => c.label)]];
  const adapterBytes = (a: AdapterCounts) => a.logBytesPerRequest / a.shape.alertsPerRequest;
  logRows.push([
    `adapter (per webhook incl. ${fmt(ACCESS_LOG_BYTES)} of API access log)`,
    ...columns.map((c) => fmt(adapterBytes(c.adapter))),
  ]);
  logRows.push(["router", ...columns.map((c) => fmt(c.run.routerLogBytes / c.run.alerts))]);
  logRows.push(["sweep", ...columns.map((c) => fmt(c.run.sweepLogBytes / c.run.alerts))]);
  logRows.push(["all", ...columns.map((c) => fmt(adapterBytes(c.adapter) + (c.run.routerLogBytes + c.run.sweepLogBytes) / c.run.alerts))]);

  const batchFigures = (s: ScenarioCounts) =>
    `${s.name} ${fmt(s.alerts / s.routerInvocations, 2)} alerts/invocation, ${fmt(s.routerMs / s.routerInvocations, 1)} ms each`;
  const rate = (s: ScenarioCounts) => fmt(s.alerts / s.simulatedMinutes, 0);
  const verdicts = columns
    .slice(0, 3)
    .map((c, i) => `${c.label} $${fmt(total(costs[i]!), 2)} ${verdict(total(costs[i]!) <= TARGET_STEADY_DOLLARS)}`);
  return [
    `Cost: dollars per million alerts, us-east-1 list prices of ${PRICES.date}, no free tier`,
    `  steady: ${fmt(runs.steady.alerts)} alerts on ${fmt(steady.problems.length)} problems ` +
      `(${fmt((1 - runs.steady.firstOrTransition / runs.steady.alerts) * 100)} % repeats, ${rate(runs.steady)} alerts/min); ` +
      `storm: ${fmt(runs.storm.alerts)} alerts on ${fmt(storm.problems.length)} problems (burst ` +
      `${storm.problems.filter((p) => p.kind === "burst").length}, 10 % flapping), the storm bench's routes and policies`,
    `  delivery: a webhook per alert (Datadog, a one-alert Alertmanager group); an SNS invocation per alarm (CloudWatch, no ` +
      `API Gateway); 10 alerts per webhook (an Alertmanager group notification: the steady run again, every 10 consecutive ` +
      `messages arriving together)`,
    `  router batches (≤ ${PIPELINE.routerBatchSize} arrived within 1 s): ` +
      `${scenarios.map(batchFigures).join("; ")}; ` +
      `adapter median ${Object.values(adapters)
        .map((a) => `${fmt(a.medianMs, 1)} ms (${a.shape.name})`)
        .join(", ")}; memory adapter ${FUNCTION_MEMORY_MB.adapter} ` +
      `MB, router ${FUNCTION_MEMORY_MB.router} MB, sweep ${FUNCTION_MEMORY_MB.sweep} MB; durations ` +
      `are wall time on this (shared, loaded) machine against dynalite`,
    table(rows),
    "",
    table(unitRows),
    "",
    table(logRows),
    "",
    table([
      ["list price (us-east-1)", "USD", "unit"],
      ["API Gateway HTTP API", fmt(PRICES.apiGatewayHttpPerMillion, 2), "per million requests (512 KB each), first 300 M"],
      ["Lambda requests", fmt(PRICES.lambdaRequestsPerMillion, 2), "per million"],
      ["Lambda duration, arm64", String(PRICES.lambdaArmPerGbSecond), "per GB-second, first 7.5 B GB-s"],
      ["SQS standard", fmt(PRICES.sqsStandardPerMillion, 2), "per million requests (64 KB each), first 100 B"],
      ["DynamoDB on-demand writes", fmt(PRICES.dynamoWritePerMillionUnits, 3), "per million write request units (1 KB)"],
      ["DynamoDB on-demand reads", fmt(PRICES.dynamoReadPerMillionUnits, 3), "per million read request units (4 KB strong, 8 KB eventual)"],
      ["Secrets Manager API calls", fmt(PRICES.secretsManagerPer10kCalls, 2), "per 10,000 calls"],
      ["CloudWatch Logs ingestion", fmt(PRICES.logsIngestPerGb, 2), "per GB (standard class)"],
    ]),
    `  Not per alert, so not above: secrets ($0.40/month each), custom metrics, log storage, ` +
      `the sweep's idle runs, the event source mapping's empty receives. Secrets Manager calls are per 5 minutes, ` +
      `not per alert: the figure above is at the run's rate and falls as the rate rises.`,
    `  Floor from request fees alone, before any DynamoDB, log or secret (the webhook or invocation, the adapter's ` +
      `send, and the router's receive, delete and invocation at full batches of ${PIPELINE.routerBatchSize}), $ per million alerts: ` +
      Object.values(DELIVERY_SHAPES)
        .map((shape) => `${shape.name} ${fmt(requestFeeFloor(shape), 2)}`)
        .join("; "),
    "",
    `Target: ≤ $${TARGET_STEADY_DOLLARS} per million alerts on the steady mix → ${verdicts.join("; ")}   ` +
      `(${fmt((performance.now() - started) / 1000, 1)} s)`,
    "",
  ];
}
