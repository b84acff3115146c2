/**
 * The CLI run in-process with its input and output captured, and no stack behind it: what every
 * CLI test shares. test/support/cli-harness.ts adds a stack on real emulators.
 */
import { runCli } from "../../lib/cli/main.ts";
import type { CliIO } from "../../lib/cli/io.ts";
import type { AwsClientFactory } from "../../lib/ops/target.ts";

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
