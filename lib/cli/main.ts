/**
 * `npx alert-relay <command>`: the ops and adapter-author CLI. Commands live one per file in
 * commands/; this file only dispatches and turns errors into clear messages and exit codes.
 * A command name may have two words (`suppress add`): the first names a group.
 */
import { EXIT, UsageError, processIO, type CliIO, type Command } from "./io.ts";
import { dlqListCommand } from "./commands/dlq-list.ts";
import { dlqRedriveCommand } from "./commands/dlq-redrive.ts";
import { normalizeCommand } from "./commands/normalize.ts";
import { sendCommand } from "./commands/send.ts";
import { sourcesCommand } from "./commands/sources.ts";
import { stateListCommand } from "./commands/state-list.ts";
import { stateShowCommand } from "./commands/state-show.ts";
import { suppressAddCommand } from "./commands/suppress-add.ts";
import { suppressEndCommand } from "./commands/suppress-end.ts";
import { suppressListCommand } from "./commands/suppress-list.ts";
import { suppressValidateCommand } from "./commands/suppress-validate.ts";

export const commands: readonly Command[] = [
  suppressAddCommand,
  suppressListCommand,
  suppressEndCommand,
  suppressValidateCommand,
  stateListCommand,
  stateShowCommand,
  dlqListCommand,
  dlqRedriveCommand,
  sendCommand,
  normalizeCommand,
  sourcesCommand,
];

const isHelp = (arg: string | undefined) => arg === "--help" || arg === "-h" || arg === "help";

function list(print: (line: string) => void, shown: readonly Command[]): void {
  const width = Math.max(...shown.map((c) => c.name.length));
  for (const command of shown) print(`  ${command.name.padEnd(width)}  ${command.summary}`);
}

function help(io: CliIO): void {
  io.out("alert-relay — normalize alerts and deliver them to PagerDuty\n");
  io.out("usage: alert-relay <command> [options]   (alert-relay <command> --help for more)\n");
  list(io.out, commands);
  io.out("\nOps commands act on the local stack (npm start) by default, or on a deployed one with --stack <name>.");
}

/** The command named by argv's first one or two words, or the exit code after saying why there is none. */
function findCommand(argv: readonly string[], io: CliIO): { command: Command; args: readonly string[] } | number {
  const [name = "", sub, ...rest] = argv;
  const single = commands.find((c) => c.name === name);
  if (single) return { command: single, args: argv.slice(1) };
  const group = commands.filter((c) => c.name.startsWith(`${name} `));
  if (group.length === 0) {
    io.err(`unknown command "${name}"; commands: ${[...new Set(commands.map((c) => c.name.split(" ")[0]))].join(", ")}`);
    return EXIT.usage;
  }
  const command = group.find((c) => c.name === `${name} ${sub}`);
  if (command) return { command, args: rest };
  if (sub === undefined || isHelp(sub)) {
    // Asked for, it is the answer; missing a subcommand, it is the usage error.
    const print = sub === undefined ? io.err : io.out;
    print(`usage: alert-relay ${name} <command> [options]   (alert-relay ${name} <command> --help for more)\n`);
    list(print, group);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  io.err(`unknown command "${name} ${sub}"; ${name} commands: ${group.map((c) => c.name.split(" ")[1]).join(", ")}`);
  return EXIT.usage;
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [name] = argv;
  if (!name || isHelp(name)) {
    help(io);
    return name ? EXIT.ok : EXIT.usage;
  }
  const found = findCommand(argv, io);
  if (typeof found === "number") return found;
  const { command, args } = found;
  // Only before "--": after it, "-h" is a value (say, a reason), not a request for help.
  const flags = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (flags.includes("--help") || flags.includes("-h")) {
    io.out(`${command.summary}\n\nusage: ${command.usage}${command.details ? `\n\n${command.details}` : ""}`);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`alert-relay ${command.name}: ${error.message}\nusage: ${command.usage}`);
      return EXIT.usage;
    }
    io.err(`alert-relay ${command.name}: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

export async function cliMain(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runCli(argv, processIO());
}

if (import.meta.main) await cliMain();
