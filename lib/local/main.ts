/**
 * `npm start`: the whole pipeline on this machine. Parses flags, starts the stack, prints the
 * banner, and on Ctrl-C / SIGTERM stops it cleanly (the stack file goes with it).
 */
import { parseArgs } from "node:util";
import { EXIT, UsageError } from "../cli/io.ts";
import { DEFAULT_DATA_DIR } from "../ops/local-stack-file.ts";
import { banner } from "./banner.ts";
import { DataDirInUseError } from "./emulators.ts";
import { PortInUseError } from "./server.ts";
import { LOCAL_DEFAULTS } from "./settings.ts";
import { StackAlreadyRunningError, startLocalStack, type LocalStack } from "./stack.ts";

export const USAGE = `usage: npm start -- [options]

Runs alert-relay on this machine: webhooks → SQS (local-aws-sqs) → router → PagerDuty, with
state and suppression windows in DynamoDB (dynalite). Without a routing key it runs dry.

options:
  --port <n>                webhook server port (default $PORT or ${LOCAL_DEFAULTS.port}; 0 = any free port)
  --data-dir <dir>          stack.json, outbox and DynamoDB data (default ${DEFAULT_DATA_DIR})
  --in-memory               keep DynamoDB in memory and journal nothing: nothing survives a restart,
                            and alerts accepted but not yet routed are lost if the process dies
  --visibility-timeout <s>  seconds before a message the router failed comes back (default ${LOCAL_DEFAULTS.visibilityTimeoutSeconds})
  --sweep-interval <s>      seconds between sweeps for ended suppression windows (default ${LOCAL_DEFAULTS.sweepIntervalSeconds})
  -h, --help                this text

environment:
  PAGERDUTY_ROUTING_KEY[_<NAME>], ROUTING_KEYS_FILE   routing keys (none set = dry run)
  PAGERDUTY_EVENTS_URL / PAGERDUTY_REGION             where events go (default the US endpoint)
  ROUTES_FILE / ROUTES_JSON                           routes; WEBHOOK_TOKEN requires a bearer token
  RETRY_BACKOFF_MAX, GIVE_UP_AFTER                    longest wait between retries of a message (default 30s),
                                                      age at which it goes to the DLQ with its reason (default 6h)
  WINDOW_REFRESH_MS, MAX_RECEIVE_COUNT, LOG_LEVEL     timing, redrive backstop, log level (default WARN)`;

function wholeNumber(flag: string, text: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

export function parseFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env) {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: "string" },
        "data-dir": { type: "string" },
        "in-memory": { type: "boolean" },
        "visibility-timeout": { type: "string" },
        "sweep-interval": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    help: values.help ?? false,
    port:
      values.port !== undefined
        ? wholeNumber("--port", values.port, 0, 0, 65_535)
        : wholeNumber("PORT", env.PORT, LOCAL_DEFAULTS.port, 0, 65_535),
    dataDir: values["data-dir"] ?? DEFAULT_DATA_DIR,
    inMemory: values["in-memory"] ?? false,
    visibilityTimeoutSeconds: wholeNumber(
      "--visibility-timeout",
      values["visibility-timeout"],
      LOCAL_DEFAULTS.visibilityTimeoutSeconds,
      1,
      43_200,
    ),
    sweepIntervalMs: wholeNumber("--sweep-interval", values["sweep-interval"], LOCAL_DEFAULTS.sweepIntervalSeconds, 1, 86_400) * 1000,
  };
}

/** Errors a person can fix from the message alone: no stack trace. */
const EXPLAINED = [PortInUseError, DataDirInUseError, StackAlreadyRunningError];

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      port: flags.port,
      dataDir: flags.dataDir,
      inMemory: flags.inMemory,
      visibilityTimeoutSeconds: flags.visibilityTimeoutSeconds,
      sweepIntervalMs: flags.sweepIntervalMs,
    });
  } catch (error) {
    const explained = EXPLAINED.some((kind) => error instanceof kind);
    console.error(
      `alert-relay local stack did not start: ${explained ? (error as Error).message : ((error as Error)?.stack ?? String(error))}`,
    );
    return 1;
  }
  console.log(banner(stack));
  return waitForSignal(stack);
}

function waitForSignal(stack: LocalStack): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error("stopping anyway; in-flight messages come back after their visibility timeout");
        process.exit(130);
      }
      stopping = true;
      console.log(`\n${signal}: stopping (server, poller, sweep, emulators)… press Ctrl-C again to force`);
      stack.stop().then(
        () => {
          console.log("stopped.");
          resolve(0);
        },
        (error: unknown) => {
          console.error(`stopping failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

if (import.meta.main) process.exitCode = await main();
