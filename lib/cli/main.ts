/**
 * `npx alert-relay <command>`: the ops and adapter-author CLI. Commands live one per file in
 * commands/; this file only dispatches and turns errors into clear messages and exit codes.
 */
import { EXIT, UsageError, processIO, type CliIO, type Command } from "./io.ts";
import { normalizeCommand } from "./commands/normalize.ts";
import { sourcesCommand } from "./commands/sources.ts";

export const commands: readonly Command[] = [normalizeCommand, sourcesCommand];

function help(io: CliIO): void {
  io.out("alert-relay — normalize alerts and deliver them to PagerDuty\n");
  io.out("usage: alert-relay <command> [options]   (alert-relay <command> --help for more)\n");
  const width = Math.max(...commands.map((c) => c.name.length));
  for (const command of commands) io.out(`  ${command.name.padEnd(width)}  ${command.summary}`);
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    help(io);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`unknown command "${name}"; commands: ${commands.map((c) => c.name).join(", ")}`);
    return EXIT.usage;
  }
  if (args.includes("--help") || args.includes("-h")) {
    io.out(`${command.summary}\n\nusage: ${command.usage}`);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\nusage: ${command.usage}`);
      return EXIT.usage;
    }
    io.err(`alert-relay ${name}: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

export async function cliMain(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runCli(argv, processIO());
}

if (import.meta.main) await cliMain();
