/** What a CLI command may touch, passed in so commands are tested without a terminal. */
import { readFile } from "node:fs/promises";
import type { AwsClientFactory } from "../ops/target.ts";

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  readStdin(): Promise<string>;
  readFile(path: string): Promise<string>;
  env: Readonly<Record<string, string | undefined>>;
  now(): Date;
  /** Standard output is a terminal (a person reads it), not a pipe or a file (a program does). */
  stdoutIsTTY?: boolean;
  /** Replaces how AWS clients are made (tests point them at emulators or fakes); default: the real SDK clients. */
  aws?: Partial<AwsClientFactory>;
}

/** Exit codes: 0 done, 1 the input or the operation failed (the message says why), 2 the command line is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function processIO(): CliIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    readFile: (path) => readFile(path, "utf8"),
    env: process.env,
    now: () => new Date(),
    stdoutIsTTY: process.stdout.isTTY === true,
  };
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** What `--help` adds after the usage line: options, examples. */
  details?: string;
  run(args: readonly string[], io: CliIO): Promise<number>;
}
