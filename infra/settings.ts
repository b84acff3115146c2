/**
 * What one deployment of alert-relay may vary, read from CDK context (`cdk.json` or `-c key=value`)
 * or passed by code, and checked before anything is built: a wrong value fails `cdk synth` with a
 * sentence naming the key, never a half-built stack or a router that dies on its first alert.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { adapterNames, findAdapter } from "../lib/adapters/registry.ts";
import { parseRoutesConfig } from "../lib/routes/routes-config.ts";
import { PIPELINE } from "../lib/handlers/pipeline.ts";

export interface AlertRelaySettings {
  /** Names the stack (`alert-relay-<stage>`) and the default secret prefix. */
  stage: string;
  stackName: string;
  /** Registered adapters to deploy, in registry order. */
  sources: string[];
  pagerDutyRegion: "us" | "eu";
  /** The validated routes as compact JSON for ROUTES_JSON; undefined sends everything to the key named "default". */
  routesJson: string | undefined;
  /** Secrets `<prefix>/<routing key name>` hold the PagerDuty routing keys; operators create them. */
  routingKeysSecretPrefix: string;
  /** An existing secret holding the webhook token; when unset the stack creates one with a generated token. */
  webhookTokenSecretName: string | undefined;
  /**
   * Customer-managed KMS keys the routing-key and token secrets are encrypted with: the functions that read them get kms:Decrypt (via
   * Secrets Manager only).
   */
  secretsKmsKeyArns: string[];
  alarmStateChangeRule: boolean;
  logRetentionDays: RetentionDays;
  /** Tables, key, log groups and token secret: kept on stack deletion unless a dev stage says otherwise. */
  removalPolicy: "retain" | "destroy";
  routerMaxConcurrency: number;
  routerBatchSize: number;
  routerMaxBatchingWindowSeconds: number;
  resolvedRetentionDays: number;
  apiThrottleRateLimit: number;
  apiThrottleBurstLimit: number;
  /** HTTPS endpoint for the ops alarms, literal or `secretsmanager:<secret name>` (resolved by CloudFormation). */
  opsAlarmEndpoint: string | undefined;
  queueAgeAlarmSeconds: number;
  /** Extra environment per adapter (its documented settings, e.g. CLOUDWATCH_DEFAULT_SEVERITY). */
  adapterSettings: Record<string, Record<string, string>>;
}

/** The keys read from CDK context; `resolveSettings` accepts the same keys from code. */
export const SETTING_KEYS = [
  "stage",
  "stackName",
  "sources",
  "pagerDutyRegion",
  "routesFile",
  "routes",
  "routingKeysSecretPrefix",
  "webhookTokenSecretName",
  "secretsKmsKeyArns",
  "alarmStateChangeRule",
  "logRetentionDays",
  "removalPolicy",
  "routerMaxConcurrency",
  "routerBatchSize",
  "routerMaxBatchingWindowSeconds",
  "resolvedRetentionDays",
  "apiThrottleRateLimit",
  "apiThrottleBurstLimit",
  "opsAlarmEndpoint",
  "queueAgeAlarmSeconds",
  "adapterSettings",
] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];
export type SettingsInput = Partial<Record<SettingKey, unknown>>;

export class SettingsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    // A problem may itself be a list (a routes file's); its lines are indented under it.
    super(`alert-relay settings are not valid:\n${problems.map((problem) => `  - ${problem.replace(/\n/g, "\n    ")}`).join("\n")}`);
    this.name = "SettingsError";
    this.problems = problems;
  }
}

/** Lambda allows 4 KB of environment in total; the rest of the router's variables need the remainder. */
export const MAX_ROUTES_JSON_BYTES = 3_000;

/** Variables the stack sets itself; letting adapterSettings replace them would break the wiring or inline a secret. */
const RESERVED_ENV = /^(ADAPTER_NAME|ALERTS_QUEUE_URL|WEBHOOK_TOKEN|WEBHOOK_TOKEN_SECRET|NODE_OPTIONS|AWS_.*|POWERTOOLS_.*|_.*)$/;
/** A PagerDuty integration key in an endpoint URL is a credential, like a routing key. */
const CONTAINS_PAGERDUTY_KEY = /(^|[^A-Za-z0-9])[A-Za-z0-9]{32}([^A-Za-z0-9]|$)/;
const SECRET_REFERENCE = /^secretsmanager:([A-Za-z0-9/_+=.@-]{1,512})$/;
const RETENTION_DAYS = Object.values(RetentionDays).filter((value): value is RetentionDays => typeof value === "number" && value > 0);

type Problems = string[];

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Context from `-c key=value` arrives as text; from cdk.json or code as JSON values. Both are accepted. */
function readText(problems: Problems, key: string, value: unknown, pattern: RegExp, expected: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || !pattern.test(value)) {
    problems.push(`${key} is ${show(value)}; expected ${expected}`);
    return undefined;
  }
  return value;
}

function readBoolean(problems: Problems, key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === "") return fallback;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  problems.push(`${key} is ${show(value)}; expected true or false`);
  return fallback;
}

function readInteger(problems: Problems, key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < min || number > max) {
    problems.push(`${key} is ${show(value)}; expected a whole number from ${min} to ${max}`);
    return fallback;
  }
  return number;
}

function readJson(problems: Problems, key: string, value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    problems.push(`${key} is not valid JSON`);
    return undefined;
  }
}

function readSources(problems: Problems, value: unknown): string[] {
  const known = adapterNames();
  if (value === undefined || value === null || value === "") return known;
  const list =
    typeof value === "string"
      ? value
          .split(",")
          .map((name) => name.trim())
          .filter(Boolean)
      : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((name) => typeof name === "string")) {
    problems.push(`sources is ${show(value)}; expected a comma-separated list of adapters, e.g. "prometheus,cloudwatch"`);
    return known;
  }
  const unknown = list.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    problems.push(
      `sources names ${unknown.map(show).join(", ")}, which ` +
        `${unknown.length === 1 ? "is" : "are"} not registered; known: ${known.join(", ")}`,
    );
  }
  return known.filter((name) => list.includes(name));
}

/** A key ARN, not an alias: IAM matches kms:Decrypt's resource against the key's ARN. */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;

function readKmsKeyArns(problems: Problems, value: unknown): string[] {
  if (value === undefined || value === null || value === "") return [];
  const list =
    typeof value === "string"
      ? value
          .split(",")
          .map((arn) => arn.trim())
          .filter(Boolean)
      : value;
  if (!Array.isArray(list) || !list.every((arn) => typeof arn === "string")) {
    problems.push(
      `secretsKmsKeyArns is ${show(value)}; expected KMS key ARNs, comma-separated or a list, e.g. ` +
        `"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"`,
    );
    return [];
  }
  const invalid = list.filter((arn) => !KMS_KEY_ARN.test(arn));
  if (invalid.length > 0) {
    problems.push(
      `secretsKmsKeyArns: ${invalid.map(show).join(", ")} ${invalid.length === 1 ? "is not a KMS key ARN" : "are not KMS key ARNs"}; ` +
        "write arn:aws:kms:<region>:<account>:key/<key id> (an alias ARN does not work in an IAM " +
        "policy: find the key's ARN with aws kms describe-key --key-id alias/<name>)",
    );
    return [];
  }
  return [...new Set(list)];
}

function readRoutes(problems: Problems, input: SettingsInput, readFile: (path: string) => string): string | undefined {
  const { routesFile, routes } = input;
  if (routesFile !== undefined && routes !== undefined) {
    problems.push("routesFile and routes are both set; set one of them");
    return undefined;
  }
  let value: unknown = routes;
  let origin = "routes";
  if (routesFile !== undefined && routesFile !== "") {
    if (typeof routesFile !== "string") {
      problems.push(`routesFile is ${show(routesFile)}; expected the path of a routes JSON file, e.g. config/routes.json`);
      return undefined;
    }
    origin = `routesFile ${show(routesFile)}`;
    try {
      value = JSON.parse(readFile(routesFile));
    } catch (error) {
      problems.push(`${origin} could not be read as JSON: ${(error as Error).message}`);
      return undefined;
    }
  } else {
    value = readJson(problems, "routes", routes);
  }
  if (value === undefined) return undefined;
  try {
    parseRoutesConfig(value, origin);
  } catch (error) {
    problems.push((error as Error).message);
    return undefined;
  }
  // Only key NAMES are in a valid config (the parser refuses anything shaped like a key), so it may sit in the environment.
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) > MAX_ROUTES_JSON_BYTES) {
    problems.push(
      `${origin} is ${Buffer.byteLength(json)} bytes as compact JSON; Lambda's environment holds at ` +
        `most ${MAX_ROUTES_JSON_BYTES} of it — merge routes with regex matchers`,
    );
    return undefined;
  }
  return json;
}

function readOpsEndpoint(problems: Problems, value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    problems.push(`opsAlarmEndpoint is ${show(value)}; expected an https:// URL or secretsmanager:<secret name>`);
    return undefined;
  }
  if (SECRET_REFERENCE.test(value)) return value;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:") {
    problems.push("opsAlarmEndpoint must be an https:// URL (PagerDuty's CloudWatch integration URL) or secretsmanager:<secret name>");
    return undefined;
  }
  if (CONTAINS_PAGERDUTY_KEY.test(url.pathname)) {
    // The value is not echoed: it holds a credential.
    problems.push(
      "opsAlarmEndpoint contains an integration key, which would be written into the template; store the URL in a secret " +
        "(aws secretsmanager create-secret --name alert-relay/<stage>/ops-alarm-endpoint " +
        "--secret-string <url>) and pass secretsmanager:<that name>",
    );
    return undefined;
  }
  return value;
}

function readAdapterSettings(problems: Problems, value: unknown, sources: readonly string[]): Record<string, Record<string, string>> {
  const parsed = readJson(problems, "adapterSettings", value);
  if (parsed === undefined || parsed === null || parsed === "") return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    problems.push(`adapterSettings is ${show(parsed)}; expected { "<source>": { "<VARIABLE>": "<value>" } }`);
    return {};
  }
  const settings: Record<string, Record<string, string>> = {};
  for (const [source, env] of Object.entries(parsed)) {
    const adapter = findAdapter(source);
    if (!adapter || !sources.includes(source)) {
      problems.push(`adapterSettings.${source}: ${show(source)} is not a deployed source; deployed: ${sources.join(", ")}`);
      continue;
    }
    if (typeof env !== "object" || env === null || Array.isArray(env) || !Object.values(env).every((v) => typeof v === "string")) {
      problems.push(`adapterSettings.${source} must map variable names to text values`);
      continue;
    }
    const variables = env as Record<string, string>;
    const invalid = Object.keys(variables).filter((name) => !/^[A-Z][A-Z0-9_]*$/.test(name) || RESERVED_ENV.test(name));
    if (invalid.length > 0) {
      problems.push(
        `adapterSettings.${source} may not set ${invalid.join(", ")}: the stack sets those itself (or they are not variable names)`,
      );
      continue;
    }
    try {
      // The adapter's own reader runs now, so a bad value fails synth instead of the function's first call.
      adapter.config(variables);
    } catch (error) {
      problems.push(`adapterSettings.${source}: ${(error as Error).message}`);
      continue;
    }
    settings[source] = variables;
  }
  return settings;
}

/**
 * Applies defaults and checks every value; throws SettingsError listing all problems at once.
 * Relative `routesFile` paths are resolved against `baseDir` (the repository root for `cdk`).
 */
export function resolveSettings(
  input: SettingsInput,
  options: { baseDir?: string; readFile?: (path: string) => string } = {},
): AlertRelaySettings {
  const problems: Problems = [];
  const baseDir = options.baseDir ?? process.cwd();
  const readFile = options.readFile ?? ((path: string) => readFileSync(resolve(baseDir, path), "utf8"));
  const stage =
    readText(problems, "stage", input.stage, /^[a-z][a-z0-9-]{0,19}$/, "1-20 lower-case letters, digits and dashes, e.g. prod") ?? "prod";
  const stackName =
    readText(problems, "stackName", input.stackName, /^[A-Za-z][A-Za-z0-9-]{0,127}$/, "a CloudFormation stack name") ??
    `alert-relay-${stage}`;
  const sources = readSources(problems, input.sources);
  const region = readText(
    problems,
    "pagerDutyRegion",
    input.pagerDutyRegion,
    /^(us|eu)$/,
    `"us" or "eu" (where your PagerDuty account lives)`,
  );
  const prefix =
    readText(
      problems,
      "routingKeysSecretPrefix",
      input.routingKeysSecretPrefix,
      /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/,
      "a secret name prefix such as alert-relay/prod/routing-keys (no trailing slash)",
    ) ?? `alert-relay/${stage}/routing-keys`;
  const removalPolicy = readText(problems, "removalPolicy", input.removalPolicy, /^(retain|destroy)$/, `"retain" or "destroy"`) ?? "retain";
  const logRetentionDays = readInteger(problems, "logRetentionDays", input.logRetentionDays, RetentionDays.ONE_MONTH, 1, 3653);
  if (!RETENTION_DAYS.includes(logRetentionDays)) {
    problems.push(`logRetentionDays is ${logRetentionDays}; CloudWatch Logs accepts ${RETENTION_DAYS.join(", ")}`);
  }
  const routerBatchSize = readInteger(problems, "routerBatchSize", input.routerBatchSize, PIPELINE.routerBatchSize, 1, 10_000);
  const routerMaxBatchingWindowSeconds = readInteger(
    problems,
    "routerMaxBatchingWindowSeconds",
    input.routerMaxBatchingWindowSeconds,
    0,
    0,
    300,
  );
  if (routerBatchSize > 10 && routerMaxBatchingWindowSeconds < 1) {
    problems.push(
      `routerBatchSize ${routerBatchSize} needs routerMaxBatchingWindowSeconds ≥ 1 (SQS ` +
        `allows more than 10 per batch only with a batching window)`,
    );
  }
  const apiThrottleRateLimit = readInteger(problems, "apiThrottleRateLimit", input.apiThrottleRateLimit, 50, 1, 10_000);
  const apiThrottleBurstLimit = readInteger(problems, "apiThrottleBurstLimit", input.apiThrottleBurstLimit, 100, 1, 5_000);
  const settings: AlertRelaySettings = {
    stage,
    stackName,
    sources,
    pagerDutyRegion: region === "eu" ? "eu" : "us",
    routesJson: readRoutes(problems, input, readFile),
    routingKeysSecretPrefix: prefix,
    webhookTokenSecretName: readText(
      problems,
      "webhookTokenSecretName",
      input.webhookTokenSecretName,
      /^[A-Za-z0-9/_+=.@-]{1,512}$/,
      "a Secrets Manager secret name",
    ),
    secretsKmsKeyArns: readKmsKeyArns(problems, input.secretsKmsKeyArns),
    alarmStateChangeRule: readBoolean(problems, "alarmStateChangeRule", input.alarmStateChangeRule, false),
    logRetentionDays,
    removalPolicy: removalPolicy === "destroy" ? "destroy" : "retain",
    // Lambda's SQS event source accepts 2-1000 concurrent batches.
    routerMaxConcurrency: readInteger(problems, "routerMaxConcurrency", input.routerMaxConcurrency, 5, 2, 1000),
    routerBatchSize,
    routerMaxBatchingWindowSeconds,
    resolvedRetentionDays: readInteger(problems, "resolvedRetentionDays", input.resolvedRetentionDays, 30, 1, 3650),
    apiThrottleRateLimit,
    apiThrottleBurstLimit,
    opsAlarmEndpoint: readOpsEndpoint(problems, input.opsAlarmEndpoint),
    queueAgeAlarmSeconds: readInteger(problems, "queueAgeAlarmSeconds", input.queueAgeAlarmSeconds, 900, 60, 1_209_600),
    adapterSettings: readAdapterSettings(problems, input.adapterSettings, sources),
  };
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

/** Reads every known key from a CDK construct node's context. */
export function settingsInputFromContext(tryGetContext: (key: string) => unknown): SettingsInput {
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, tryGetContext(key)]).filter(([, value]) => value !== undefined));
}
