/**
 * Where an ops command acts: the local stack `npm start` runs (found through its descriptor
 * file), a deployed stack (found through its CloudFormation outputs), or tables and queues named
 * outright. Every failure says what to do next, because the person reading it is usually on call.
 */
import { existsSync } from "node:fs";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { readStackFile, stackFilePath, type LocalStackDescriptor } from "./local-stack-file.ts";
import { STACK_OUTPUTS } from "./stack-outputs.ts";

export interface TargetFlags {
  /** A deployed stack's name. */
  stack?: string;
  region?: string;
  /** A local stack descriptor; default `.alert-relay/stack.json`. */
  stackFile?: string;
  stateTable?: string;
  windowsTable?: string;
  dlqUrl?: string;
  queueUrl?: string;
  /** Webhook base URL, e.g. http://127.0.0.1:3000. */
  url?: string;
}

export interface TargetResources {
  stateTable?: string;
  windowsTable?: string;
  alertsQueueUrl?: string;
  deadLetterQueueUrl?: string;
  webhookBaseUrl?: string;
}

export type Resource = keyof TargetResources;

export interface Target extends TargetResources {
  /** For messages: "local stack at http://127.0.0.1:3000", "stack alert-relay-prod in eu-west-1". */
  description: string;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** Closes the clients' connections so the process can exit. */
  close(): void;
}

/** A target that is known to name every resource a command needs. */
export type TargetWith<K extends Resource> = Target & { [P in K]-?: string };

export interface ClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** How clients are made; tests replace any of these to point at emulators or fakes. */
export interface AwsClientFactory {
  dynamoDB(config: ClientConfig): DynamoDBClient;
  sqs(config: ClientConfig): SQSClient;
  cloudFormation(config: ClientConfig): CloudFormationClient;
}

export const defaultClientFactory: AwsClientFactory = {
  dynamoDB: (config) => new DynamoDBClient(config),
  sqs: (config) => new SQSClient(config),
  cloudFormation: (config) => new CloudFormationClient(config),
};

export interface ResolveOptions {
  env: Readonly<Record<string, string | undefined>>;
  clients?: Partial<AwsClientFactory>;
}

/** The emulators accept any credentials; dummies keep the SDK from looking for real ones. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** What each resource is called in messages, and the flag that names it outright. */
const RESOURCE_NAMES: Readonly<Record<Resource, { what: string; flag: string; output: string }>> = {
  stateTable: { what: "problem state table", flag: "--state-table", output: STACK_OUTPUTS.stateTable },
  windowsTable: { what: "suppression windows table", flag: "--windows-table", output: STACK_OUTPUTS.windowsTable },
  alertsQueueUrl: { what: "alerts queue", flag: "--queue-url", output: STACK_OUTPUTS.alertsQueueUrl },
  deadLetterQueueUrl: { what: "dead-letter queue", flag: "--dlq-url", output: STACK_OUTPUTS.deadLetterQueueUrl },
  webhookBaseUrl: { what: "webhook URL", flag: "--url", output: STACK_OUTPUTS.webhookBaseUrl },
};

export class TargetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TargetError";
  }
}

function overridesOf(flags: TargetFlags): TargetResources {
  const overrides: TargetResources = {
    stateTable: flags.stateTable,
    windowsTable: flags.windowsTable,
    alertsQueueUrl: flags.queueUrl,
    deadLetterQueueUrl: flags.dlqUrl,
    webhookBaseUrl: flags.url,
  };
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined && value !== ""));
}

interface Located {
  description: string;
  resources: TargetResources;
  dynamoConfig: ClientConfig;
  sqsConfig: ClientConfig;
  /** Why a resource is unknown, in a way that fits where we looked. */
  missing(resource: Resource): string;
}

/**
 * Resolution order: `--stack` (deployed), then `--stack-file` or the default descriptor when it
 * exists (local), then the environment's AWS account when the flags name every resource the
 * command needs. Explicit resource flags override what the stack says.
 */
export async function resolveTarget<K extends Resource>(
  flags: TargetFlags,
  needs: readonly K[],
  options: ResolveOptions,
): Promise<TargetWith<K>> {
  const clients = { ...defaultClientFactory, ...options.clients };
  const overrides = overridesOf(flags);
  const region = flags.region ?? options.env.AWS_REGION ?? options.env.AWS_DEFAULT_REGION;
  let located: Located;
  if (flags.stack) {
    located = await locateDeployed(flags.stack, region, clients);
  } else if (flags.stackFile || existsSync(stackFilePath()) || !needs.every((need) => overrides[need])) {
    located = locateLocal(flags.stackFile ?? stackFilePath(), flags.region);
  } else {
    located = {
      description:
        needs.length === 1 && needs[0] === "webhookBaseUrl"
          ? `webhook at ${overrides.webhookBaseUrl}`
          : `AWS account from your environment${region ? ` (${region})` : ""}`,
      resources: {},
      dynamoConfig: region ? { region } : {},
      sqsConfig: region ? { region } : {},
      missing: (resource) => `pass ${RESOURCE_NAMES[resource].flag}`,
    };
  }
  const resources = { ...located.resources, ...overrides };
  const absent = needs.filter((need) => !resources[need]);
  if (absent.length > 0) throw new TargetError(absent.map((resource) => located.missing(resource)).join("; "));

  const dynamo = clients.dynamoDB(located.dynamoConfig);
  const sqs = clients.sqs(located.sqsConfig);
  return {
    ...resources,
    description: located.description,
    doc: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    sqs,
    close() {
      dynamo.destroy();
      sqs.destroy();
    },
  } as TargetWith<K>;
}

function locateLocal(path: string, regionFlag: string | undefined): Located {
  let descriptor: LocalStackDescriptor;
  try {
    descriptor = readStackFile(path);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new TargetError(`${path} is not a stack descriptor (${error.message}); restart "npm start" to rewrite it`);
    throw new TargetError((error as Error).message, { cause: error });
  }
  if (!isRunning(descriptor.pid)) {
    throw new TargetError(
      `the local stack described by ${path} is not running (process ${descriptor.pid} has exited): ` +
        `start it with "npm start", or name a deployed stack with --stack <name>`,
    );
  }
  // Each emulator has its own endpoint; the credentials are dummies the emulators accept.
  const local = { region: regionFlag ?? descriptor.region, credentials: LOCAL_CREDENTIALS };
  return {
    description: `local stack at ${descriptor.httpUrl}`,
    resources: {
      stateTable: descriptor.tables.state,
      windowsTable: descriptor.tables.windows,
      alertsQueueUrl: descriptor.queues.alerts,
      deadLetterQueueUrl: descriptor.queues.deadLetter,
      webhookBaseUrl: descriptor.httpUrl,
    },
    dynamoConfig: { ...local, endpoint: descriptor.dynamodbEndpoint },
    sqsConfig: { ...local, endpoint: descriptor.sqsEndpoint },
    missing: (resource) =>
      `${path} does not name the ${RESOURCE_NAMES[resource].what}; restart "npm start", or pass ${RESOURCE_NAMES[resource].flag}`,
  };
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, which still means it runs.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function locateDeployed(stackName: string, region: string | undefined, clients: AwsClientFactory): Promise<Located> {
  const clientConfig: ClientConfig = region ? { region } : {};
  const cloudFormation = clients.cloudFormation(clientConfig);
  let outputs: Record<string, string>;
  let resolvedRegion = region;
  try {
    resolvedRegion ??= await cloudFormation.config.region();
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    if (!stack) throw new TargetError(`stack ${stackName} was not found in ${resolvedRegion}; check --stack and --region`);
    outputs = Object.fromEntries(
      (stack.Outputs ?? []).flatMap((output) => (output.OutputKey && output.OutputValue ? [[output.OutputKey, output.OutputValue]] : [])),
    );
  } catch (error) {
    if (error instanceof TargetError) throw error;
    throw new TargetError(describeCloudFormationError(error, stackName, resolvedRegion), { cause: error });
  } finally {
    cloudFormation.destroy();
  }
  const description = `stack ${stackName} in ${resolvedRegion ?? "the default region"}`;
  const resources = Object.fromEntries(
    (Object.keys(RESOURCE_NAMES) as Resource[]).flatMap((resource) => {
      const value = outputs[RESOURCE_NAMES[resource].output];
      return value ? [[resource, resource === "webhookBaseUrl" ? value.replace(/\/+$/, "") : value]] : [];
    }),
  ) as TargetResources;
  return {
    description,
    resources,
    dynamoConfig: resolvedRegion ? { region: resolvedRegion } : {},
    sqsConfig: resolvedRegion ? { region: resolvedRegion } : {},
    missing: (resource) =>
      `stack ${stackName} has no output ${RESOURCE_NAMES[resource].output} (deployed by an older ` +
      `alert-relay?); deploy the current version, or pass ${RESOURCE_NAMES[resource].flag}`,
  };
}

function describeCloudFormationError(error: unknown, stackName: string, region: string | undefined): string {
  const { name = "Error", message = String(error) } = (error ?? {}) as { name?: string; message?: string };
  const where = region ?? "the default region";
  if (name === "ValidationError" && /does not exist/i.test(message)) {
    return (
      `stack ${stackName} was not found in ${where} (AWS said: ${message}); check the ` +
      `name with --stack and the region with --region or AWS_REGION`
    );
  }
  if (/region is missing/i.test(message)) return `no AWS region: pass --region, or set AWS_REGION (AWS said: ${message})`;
  if (isCredentialsError(name, message)) return credentialsAdvice(message);
  return `could not read stack ${stackName} in ${where}: ${name}: ${message}`;
}

function isCredentialsError(name: string, message: string): boolean {
  return name === "CredentialsProviderError" || /credentials|security token|ExpiredToken|UnrecognizedClient/i.test(`${name} ${message}`);
}

function credentialsAdvice(message: string): string {
  return `no usable AWS credentials (AWS said: ${message}); set AWS_PROFILE, run "aws sso login" or "aws configure", then try again`;
}

/**
 * Turns what a DynamoDB or SQS call threw into a sentence that names the target and what to do;
 * anything not recognised keeps AWS's own name and text.
 */
export function explainAwsError(error: unknown, target: Pick<Target, "description">): Error {
  if (error instanceof TargetError || !(error instanceof Error)) return error as Error;
  const { name, message } = error;
  const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
  if (code === "ECONNREFUSED" || code === "ECONNRESET") {
    return new TargetError(`cannot reach the ${target.description} (${code}); is it still running? Start it with "npm start"`, {
      cause: error,
    });
  }
  if (name === "ResourceNotFoundException") {
    return new TargetError(`${message} in the ${target.description}; check the stack (or the table flags)`, { cause: error });
  }
  if (name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue") {
    return new TargetError(
      `the queue does not exist in the ${target.description} (AWS said: ${message}); check the stack (or the queue flags)`,
      { cause: error },
    );
  }
  if (/region is missing/i.test(message))
    return new TargetError(`no AWS region: pass --region, or set AWS_REGION (AWS said: ${message})`, { cause: error });
  if (isCredentialsError(name, message)) return new TargetError(credentialsAdvice(message), { cause: error });
  if (name === "AccessDeniedException" || name === "AccessDenied") {
    return new TargetError(`access denied in the ${target.description} (AWS said: ${message}); use a role allowed to operate alert-relay`, {
      cause: error,
    });
  }
  return error;
}
