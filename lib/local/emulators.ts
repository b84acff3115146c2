/**
 * DynamoDB (dynalite) and SQS (local-aws-sqs) on loopback, each on a worker thread of its own,
 * with the tables and queues the CDK stack defines, reached through the normal SDK clients.
 * Creating them is idempotent, so a data directory kept from an earlier run is reused as it is.
 */
import { Worker } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type CreateTableCommandInput,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LOCAL_RESOURCE_NAMES, PIPELINE, STATE_TABLE } from "../handlers/pipeline.ts";
import { windowsTableDefinition } from "../suppression/dynamo-window-store.ts";
import { DataDirInUseError, type EmulatorKind } from "./emulator-servers.ts";
import type { WorkerReport } from "./emulator-worker.ts";
import { LOCAL_CREDENTIALS, LOCAL_HOST, LOCAL_REGION } from "./settings.ts";

export { DataDirInUseError };

export interface EmulatorOptions {
  /** Where dynalite keeps its LevelDB files; in memory when absent. */
  dynamodbPath?: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount?: number;
  /** An emulator's thread died (e.g. dynalite failing on its store); the stack reports it unhealthy. */
  onCrash?: (kind: EmulatorKind, error: Error) => void;
}

export interface Emulators {
  region: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: { state: string; windows: string };
  queues: { alerts: string; deadLetter: string; alertsArn: string; deadLetterArn: string };
  /** Clients for the emulators, shared by every handler of the stack. */
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  /** Emulators whose thread has died, with why. */
  crashed(): Partial<Record<EmulatorKind, string>>;
  /** Asks each emulator's thread to give back unused heap (memory-trim.ts). */
  trim(): void;
  stop(): Promise<void>;
}

export function stateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: STATE_TABLE.keySchema,
    AttributeDefinitions: STATE_TABLE.attributeDefinitions,
    GlobalSecondaryIndexes: STATE_TABLE.globalSecondaryIndexes,
    BillingMode: "PAY_PER_REQUEST",
  };
}

export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const crashes: Partial<Record<EmulatorKind, string>> = {};
  const onCrash = (kind: EmulatorKind, error: Error) => {
    crashes[kind] = error.message;
    options.onCrash?.(kind, error);
  };
  const closers: (() => Promise<void>)[] = [];
  const trimmers: (() => void)[] = [];
  const stop = async () => {
    // Reverse order: clients before the servers they keep connections to.
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };
  try {
    const [db, queue] = await Promise.allSettled([
      startInWorker("dynamodb", options.dynamodbPath, onCrash),
      startInWorker("sqs", undefined, onCrash),
    ]);
    for (const started of [db, queue]) {
      if (started.status !== "fulfilled") continue;
      closers.push(started.value.stop);
      trimmers.push(started.value.trim);
    }
    if (db.status === "rejected") throw db.reason;
    if (queue.status === "rejected") throw queue.reason;
    const dynamodbEndpoint = `http://${LOCAL_HOST}:${db.value.port}`;
    const sqsEndpoint = `http://${LOCAL_HOST}:${queue.value.port}`;

    const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: dynamodbEndpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: sqsEndpoint });
    closers.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });

    const tables = { state: LOCAL_RESOURCE_NAMES.stateTable, windows: LOCAL_RESOURCE_NAMES.windowsTable };
    await ensureTable(dynamodb, stateTableDefinition(tables.state), options.dynamodbPath);
    await ensureTable(dynamodb, windowsTableDefinition(tables.windows), options.dynamodbPath);
    const queues = await ensureQueues(sqs, options.visibilityTimeoutSeconds, options.maxReceiveCount ?? PIPELINE.maxReceiveCount);

    return {
      region: LOCAL_REGION,
      dynamodbEndpoint,
      sqsEndpoint,
      tables,
      queues,
      dynamodb,
      sqs,
      crashed: () => ({ ...crashes }),
      trim: () => trimmers.forEach((trim) => trim()),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

const WORKER_URL = new URL("./emulator-worker.ts", import.meta.url);

async function startInWorker(kind: EmulatorKind, path: string | undefined, onCrash: (kind: EmulatorKind, error: Error) => void) {
  const worker = new Worker(WORKER_URL, { workerData: { kind, path }, name: `alert-relay ${kind} emulator` });
  let stopping = false;
  const port = await new Promise<number>((resolve, reject) => {
    const exitedEarly = (code: number) => reject(new Error(`the ${kind} emulator's thread exited (code ${code}) before it listened`));
    worker.once("error", reject);
    worker.once("exit", exitedEarly);
    worker.once("message", (report: WorkerReport) => {
      worker.off("error", reject);
      worker.off("exit", exitedEarly);
      if ("port" in report) return resolve(report.port);
      if ("error" in report) {
        const { name, message } = report.error;
        return reject(name === "DataDirInUseError" && path ? new DataDirInUseError(path) : Object.assign(new Error(message), { name }));
      }
    });
  });
  worker.on("error", (error) => {
    if (!stopping) onCrash(kind, error);
  });
  return {
    port,
    trim: () => {
      if (!stopping) worker.postMessage("trim");
    },
    async stop() {
      stopping = true;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage("stop");
      // A wedged emulator must not keep the stack from stopping.
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function ensureTable(client: DynamoDBClient, definition: CreateTableCommandInput, dynamodbPath: string | undefined): Promise<void> {
  const name = definition.TableName!;
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    checkShape(Table, definition, dynamodbPath);
  }
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === "ACTIVE") return;
    await sleep(5);
  }
}

/** A table kept from an older version with another layout would fail on the first alert; fail now instead. */
function checkShape(table: TableDescription | undefined, definition: CreateTableCommandInput, dynamodbPath: string | undefined): void {
  const keysOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    JSON.stringify((schema ?? []).map((k) => [k.AttributeName, k.KeyType]));
  const indexesOf = (indexes: { IndexName?: string; KeySchema?: { AttributeName?: string; KeyType?: string }[] }[] | undefined) =>
    JSON.stringify((indexes ?? []).map((index) => `${index.IndexName}:${keysOf(index.KeySchema)}`).sort());
  if (
    keysOf(table?.KeySchema) === keysOf(definition.KeySchema) &&
    indexesOf(table?.GlobalSecondaryIndexes) === indexesOf(definition.GlobalSecondaryIndexes)
  )
    return;
  const where = dynamodbPath ? `delete ${dynamodbPath} to start afresh` : "restart the stack";
  throw new Error(`table ${definition.TableName} exists with another key schema or indexes than this version defines: ${where}`);
}

async function ensureQueues(sqs: SQSClient, visibilityTimeoutSeconds: number, maxReceiveCount: number): Promise<Emulators["queues"]> {
  const deadLetter = await createQueue(sqs, LOCAL_RESOURCE_NAMES.deadLetterQueue, {
    MessageRetentionPeriod: String(PIPELINE.deadLetterRetentionDays * 86_400),
  });
  const alerts = await createQueue(sqs, LOCAL_RESOURCE_NAMES.alertsQueue, {
    VisibilityTimeout: String(visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount }),
  });
  return { alerts: alerts.url, deadLetter: deadLetter.url, alertsArn: alerts.arn, deadLetterArn: deadLetter.arn };
}

/** CreateQueue answers with the existing queue when the attributes agree, as SQS does. */
async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}
