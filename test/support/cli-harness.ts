/**
 * The CLI against real emulators, found the way an operator's CLI finds `npm start`'s stack: a
 * stack descriptor file (in a temp dir, passed with --stack-file). Output is captured per run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { runCli } from "../../lib/cli/main.ts";
import type { CliIO } from "../../lib/cli/io.ts";
import type { AwsClientFactory } from "../../lib/ops/target.ts";
import { writeStackFile, type LocalStackDescriptor } from "../../lib/ops/local-stack-file.ts";
import { STATE_TABLE } from "../../lib/state-table/table.ts";
import { windowsTableDefinition } from "../../lib/suppression/dynamo-window-store.ts";
import { createTable, dynamoClient, startDynalite, type Dynalite } from "./dynalite.ts";
import { startLocalSqs, type LocalSqs } from "./local-sqs.ts";

/** Every run's clock unless a test says otherwise: relative times in the output are then exact. */
export const NOW = new Date("2026-11-26T18:00:00Z");

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export interface RunOptions {
  now?: Date;
  env?: Record<string, string | undefined>;
  stdin?: string;
  files?: Record<string, string>;
  aws?: Partial<AwsClientFactory>;
  /** Standard output is a terminal. */
  tty?: boolean;
}

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

export function captureIO(options: RunOptions = {}): { io: CliIO; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (line) => void out.push(line),
    err: (line) => void err.push(line),
    readStdin: async () => options.stdin ?? "",
    readFile: async (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
    env: options.env ?? { USER: "tester" },
    now: () => options.now ?? NOW,
    stdoutIsTTY: options.tty ?? false,
    ...(options.aws ? { aws: options.aws } : {}),
  };
  return { io, out, err };
}

export async function runCaptured(argv: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  const { io, out, err } = captureIO(options);
  const code = await runCli(argv, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
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

/**
 * Reads a table the CLI printed back into rows keyed by header, by the header's column
 * positions: a misaligned cell comes out wrong, so this checks the alignment too.
 */
export function parseTable(output: string, firstHeader: string): Record<string, string>[] {
  const lines = output.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`${firstHeader}  `));
  if (start === -1) return [];
  const header = lines[start]!;
  const columns = [...header.matchAll(/\S+(?: \S+)*/g)].map((match) => ({ name: match[0], at: match.index }));
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    rows.push(Object.fromEntries(columns.map((column, index) => [column.name, line.slice(column.at, columns[index + 1]?.at).trim()])));
  }
  return rows;
}
