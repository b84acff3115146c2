/**
 * The CLI against real emulators, found the way an operator's CLI finds `npm start`'s stack: a
 * stack descriptor file (in a temp dir, passed with --stack-file). Output is captured per run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { writeStackFile, type LocalStackDescriptor } from "../../lib/ops/local-stack-file.ts";
import { STATE_TABLE } from "../../lib/state-table/table.ts";
import { windowsTableDefinition } from "../../lib/suppression/dynamo-window-store.ts";
import { createTable, dynamoClient, startDynalite, type Dynalite } from "./dynalite.ts";
import { startLocalSqs, type LocalSqs } from "./local-sqs.ts";
import { NOW, runCaptured, type CliRun, type RunOptions } from "./cli-run.ts";

export interface CliHarness {
  dir: string;
  stackFile: string;
  descriptor: LocalStackDescriptor;
  db: Dynalite;
  sqs: LocalSqs;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Runs the CLI with `--stack-file` pointing at the harness's stack (unless `bare`). */
  run(argv: readonly string[], options?: RunOptions): Promise<CliRun>;
  /** Runs the CLI exactly as given. */
  bare(argv: readonly string[], options?: RunOptions): Promise<CliRun>;
  close(): Promise<void>;
}

export async function startCliHarness(options: { httpUrl?: string } = {}): Promise<CliHarness> {
  const [db, sqs] = await Promise.all([startDynalite(), startLocalSqs()]);
  const tables = { state: "cli-state", windows: "cli-windows" };
  await Promise.all([
    createTable(db.endpoint, {
      TableName: tables.state,
      KeySchema: STATE_TABLE.keySchema,
      AttributeDefinitions: STATE_TABLE.attributeDefinitions,
      GlobalSecondaryIndexes: STATE_TABLE.globalSecondaryIndexes,
      BillingMode: "PAY_PER_REQUEST",
    }),
    createTable(db.endpoint, windowsTableDefinition(tables.windows)),
  ]);
  const [alerts, deadLetter] = await Promise.all([sqs.createQueue("cli-alerts"), sqs.createQueue("cli-alerts-dlq")]);
  const descriptor: LocalStackDescriptor = {
    version: 1,
    pid: process.pid,
    startedAt: NOW.toISOString(),
    region: "us-east-1",
    httpUrl: options.httpUrl ?? "http://127.0.0.1:9",
    dynamodbEndpoint: db.endpoint,
    sqsEndpoint: sqs.endpoint,
    tables,
    queues: { alerts: alerts.url, deadLetter: deadLetter.url },
  };
  const dir = mkdtempSync(join(tmpdir(), "alert-relay-cli-"));
  const stackFile = writeStackFile(descriptor, dir);
  const dynamo = dynamoClient(db.endpoint);
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  return {
    dir,
    stackFile,
    descriptor,
    db,
    sqs,
    dynamo,
    doc,
    run: (argv, runOptions) => runCaptured([...argv, "--stack-file", stackFile], runOptions),
    bare: runCaptured,
    async close() {
      dynamo.destroy();
      await Promise.all([db.close(), sqs.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
