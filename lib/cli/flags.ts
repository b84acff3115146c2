/**
 * Flag parsing shared by every command: node:util parseArgs in strict mode, its errors turned
 * into usage errors that name the flag, and the flags that choose where a command acts.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { explainAwsError, resolveTarget, type Resource, type TargetFlags, type TargetWith } from "../ops/target.ts";
import { UsageError, type CliIO } from "./io.ts";

export function parseFlags<const O extends ParseArgsOptionsConfig>(args: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error as Error & { code?: string }));
  }
}

function parseArgsMessage(error: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(error.message)?.[1];
  const option = quoted?.split(" ")[0];
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? error.message}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${JSON.stringify(quoted ?? "")}: this command takes none`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/argument missing|ambiguous/.test(error.message))
        return `${option} needs a value (one that starts with - is written ${option}=<value>)`;
      return error.message.split("\n")[0]!;
    default:
      return error.message.split("\n")[0]!;
  }
}

/** Choosing the stack: every command that reads or writes the pipeline accepts these. */
export const WHERE_OPTIONS = {
  stack: { type: "string" },
  region: { type: "string" },
  "stack-file": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Naming one resource outright, overriding what the stack says. */
export const RESOURCE_OPTIONS = {
  stateTable: { "state-table": { type: "string" } },
  windowsTable: { "windows-table": { type: "string" } },
  alertsQueueUrl: { "queue-url": { type: "string" } },
  deadLetterQueueUrl: { "dlq-url": { type: "string" } },
  webhookBaseUrl: { url: { type: "string" } },
} as const satisfies Record<Resource, ParseArgsOptionsConfig>;

const RESOURCE_HELP: Readonly<Record<Resource, readonly [string, string]>> = {
  stateTable: ["--state-table <name>", "the problem state table (instead of the stack's)"],
  windowsTable: ["--windows-table <name>", "the suppression windows table (instead of the stack's)"],
  alertsQueueUrl: ["--queue-url <url>", "the alerts queue (instead of the stack's)"],
  deadLetterQueueUrl: ["--dlq-url <url>", "the dead-letter queue (instead of the stack's)"],
  webhookBaseUrl: ["--url <url>", "the webhook base URL, e.g. http://127.0.0.1:3000 (instead of the stack's)"],
};

/** One option per line, descriptions aligned: the layout every command's --help uses. */
export function optionLines(options: readonly (readonly [string, string])[]): string[] {
  return options.map(([flag, text]) => `  ${flag.padEnd(24)}${text}`);
}

/** The "where" part of a command's --help. */
export function whereHelp(resources: readonly Resource[]): string {
  return [
    "where (default: the local stack `npm start` runs, found through .alert-relay/stack.json):",
    ...optionLines([
      ["--stack <name>", "a deployed stack: reads its CloudFormation outputs with your AWS credentials"],
      ["--region <region>", "the deployed stack's region (default AWS_REGION / your AWS config)"],
      ["--stack-file <path>", "a local stack descriptor other than .alert-relay/stack.json"],
      ...resources.map((resource) => RESOURCE_HELP[resource]),
    ]),
  ].join("\n");
}

type WhereValues = { stack?: string; region?: string; "stack-file"?: string } & Partial<
  Record<"state-table" | "windows-table" | "queue-url" | "dlq-url" | "url", string | boolean | (string | boolean)[]>
>;

export function targetFlags(values: WhereValues): TargetFlags {
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  if (values.stack && values["stack-file"])
    throw new UsageError("--stack names a deployed stack and --stack-file a local one; use one of them");
  return {
    stack: values.stack,
    region: values.region,
    stackFile: values["stack-file"],
    stateTable: text(values["state-table"]),
    windowsTable: text(values["windows-table"]),
    queueUrl: text(values["queue-url"]),
    dlqUrl: text(values["dlq-url"]),
    url: text(values.url),
  };
}

/**
 * Resolves the target, runs `work` against it and closes its clients. AWS errors raised by the
 * work are explained in terms of the target ("cannot reach the local stack at …").
 */
export async function withTarget<K extends Resource, T>(
  io: CliIO,
  values: WhereValues,
  needs: readonly K[],
  work: (target: TargetWith<K>) => Promise<T>,
): Promise<T> {
  const target = await resolveTarget(targetFlags(values), needs, { env: io.env, ...(io.aws ? { clients: io.aws } : {}) });
  try {
    return await work(target);
  } catch (error) {
    throw explainAwsError(error, target);
  } finally {
    target.close();
  }
}
