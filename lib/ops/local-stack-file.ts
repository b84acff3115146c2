/**
 * What `npm start` writes so the CLI (and people) can find the running local pipeline:
 * `<dataDir>/stack.json`, default `.alert-relay/stack.json` in the project.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";

export const DEFAULT_DATA_DIR = ".alert-relay";
export const STACK_FILE_NAME = "stack.json";

export interface LocalStackDescriptor {
  version: 1;
  pid: number;
  startedAt: string;
  region: string;
  /** http://127.0.0.1:PORT of the webhook server (`POST /webhooks/<source>`, `GET /healthz`). */
  httpUrl: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: { state: string; windows: string };
  queues: { alerts: string; deadLetter: string };
  /** Absent when running in memory (`--in-memory`). */
  dataDir?: string;
  /** Where dry-run PagerDuty events are appended (JSON lines), absent when a routing key is set. */
  outbox?: string;
}

export function stackFilePath(dataDir = DEFAULT_DATA_DIR): string {
  return resolve(dataDir, STACK_FILE_NAME);
}

export function writeStackFile(descriptor: LocalStackDescriptor, dataDir = DEFAULT_DATA_DIR): string {
  mkdirSync(resolve(dataDir), { recursive: true });
  const path = stackFilePath(dataDir);
  writeFileSync(path, `${JSON.stringify(descriptor, null, 2)}\n`);
  return path;
}

export class LocalStackNotFoundError extends Error {
  constructor(path: string) {
    super(`no local stack found (${path} does not exist): start one with "npm start", or name a deployed stack with --stack <name>`);
    this.name = "LocalStackNotFoundError";
  }
}

export function readStackFile(path = stackFilePath()): LocalStackDescriptor {
  if (!existsSync(path)) throw new LocalStackNotFoundError(path);
  const descriptor = JSON.parse(readFileSync(path, "utf8")) as LocalStackDescriptor;
  if (descriptor.version !== 1)
    throw new Error(`${path} was written by another version of alert-relay (version ${String(descriptor.version)}); restart "npm start"`);
  return descriptor;
}
