/**
 * The whole pipeline on one machine: emulators, the adapter handlers behind a local HTTP server,
 * the router handler fed by a poller, the sweep on a timer — the same handlers as the Lambda
 * entries in functions/, wired with clients pointed at the emulators. `npm start` (main.ts) is a
 * thin CLI over startLocalStack; tests and the bench call it directly.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { adapters } from "../adapters/registry.ts";
import { createAdapterHandler } from "../handlers/adapter.ts";
import { webhookTokenFromEnv } from "../ingest/webhook-token.ts";
import { ALERT_EVENTS_PATH, CHANGE_EVENTS_PATH, createPagerDutyEventsHandler } from "../handlers/pagerduty-events.ts";
import { createSqsMessagePublisher } from "../ingest/pagerduty-events/message-publisher.ts";
import { EVENTS_V2_SOURCE } from "../ingest/pagerduty-events/events-v2.ts";
import { DEFAULT_DATA_DIR, readStackFile, stackFilePath, writeStackFile, type LocalStackDescriptor } from "../ops/local-stack-file.ts";
import { eventsEndpoint, maskRoutingKey } from "../pagerduty/payloads.ts";
import { createSqsPublisher } from "../publish/sqs-publisher.ts";
import type { Deliver } from "../router/router.ts";
import { ROUTER_ENV, routerEnvironment } from "../handlers/router-environment.ts";
import { createRouterRuntime, documentClient } from "../handlers/router-runtime.ts";
import { createTelemetry } from "../platform/observability.ts";
import { createRouterHandler } from "../handlers/router.ts";
import { createSweepHandler } from "../handlers/sweep.ts";
import type { SweepRunReport } from "../handlers/sweep.ts";
import { loadRoutesConfig, routingKeyRefs } from "../routes/routes-config.ts";
import { createLocalRoutingKeyResolver, routingKeyEnvName } from "../routes/routing-keys.ts";
import { PIPELINE } from "../handlers/pipeline.ts";
import { integerSetting, type Env } from "../platform/settings.ts";
import { safePrinter } from "./console-text.ts";
import { withDeliveryLog } from "./delivery-log.ts";
import { startEmulators, type Emulators } from "./emulators.ts";
import { OUTBOX_FILE_NAME, createOutboxAcknowledgeSender, createOutboxChangeSender, createOutboxDeliver } from "./outbox.ts";
import { startMemoryTrim } from "./memory-trim.ts";
import { startPoller, type Poller } from "./poller.ts";
import { JOURNAL_FILE_NAME, JOURNAL_ID_ATTRIBUTE, journaledSqs, openQueueJournal, replayJournal } from "./queue-journal.ts";
import { redeliveryPolicyFromEnv, type RedeliveryPolicy } from "../router/redelivery.ts";
import { startServer, type LocalServer, type WebhookRoute } from "./server.ts";
import { LOCAL_DEFAULTS, applyProcessDefaults, defaultRouterTimeoutMs, routerSafetyMarginMs } from "./settings.ts";
import { startSweepTimer, type SweepTimer } from "./sweep-timer.ts";
import { withSuppressionLog } from "./suppressed-log.ts";

export interface LocalStackOptions {
  /** Webhook server port; 0 picks a free one. Default 3000 (the CLI reads --port and PORT). */
  port?: number;
  /** Holds stack.json, the dry-run outbox and (unless inMemory) the DynamoDB data. Default `.alert-relay`. */
  dataDir?: string;
  /** Keep DynamoDB in memory and keep no queue journal: nothing survives a restart or a crash. */
  inMemory?: boolean;
  /** Settings on top of process.env, e.g. PAGERDUTY_EVENTS_URL, PAGERDUTY_ROUTING_KEY, WINDOW_REFRESH_MS, ROUTES_JSON. */
  env?: Env;
  visibilityTimeoutSeconds?: number;
  sweepIntervalMs?: number;
  pollWaitSeconds?: number;
  /** The router function's timeout; must be below the visibility timeout. Default half of it, at most 60 s. */
  routerTimeoutMs?: number;
  maxPollers?: number;
  /** No console output (deliveries, dry-run lines, poller errors). */
  quiet?: boolean;
  /** Where console lines go, default console.log / console.error. */
  print?: (line: string) => void;
  printError?: (line: string) => void;
}

export type PagerDutyMode =
  { mode: "dry-run"; outbox: string } | { mode: "live"; endpoint: string; keys: { ref: string; envName: string; masked?: string }[] };

export interface LocalStack {
  url: string;
  port: number;
  /** Adapter name → webhook URL, for every adapter in the registry. */
  webhooks: Record<string, string>;
  /** The PagerDuty-compatible endpoints: point a PagerDuty sender's Events API base URL at `url`. */
  eventsApi: { alerts: string; changes: string };
  healthzUrl: string;
  region: string;
  endpoints: { dynamodb: string; sqs: string };
  tables: Emulators["tables"];
  queues: Emulators["queues"];
  dataDir: string;
  inMemory: boolean;
  stackFile: string;
  descriptor: LocalStackDescriptor;
  pagerDuty: PagerDutyMode;
  settings: {
    visibilityTimeoutSeconds: number;
    routerTimeoutMs: number;
    sweepIntervalMs: number;
    maxReceiveCount: number;
    redelivery: RedeliveryPolicy;
    windowRefreshMs: number;
    webhookAuth: boolean;
  };
  /** Settings that are ignored locally because they point at AWS (e.g. a Secrets Manager prefix). */
  ignoredSettings: string[];
  health(): Promise<LocalStackHealth>;
  /** Runs the sweep now instead of waiting for the timer. */
  sweepNow(): Promise<SweepRunReport | undefined>;
  stop(): Promise<void>;
}

/** Secrets Manager is not emulated: locally keys and the webhook token come from the environment or a file. */
const AWS_ONLY_SETTINGS = ["ROUTING_KEYS_SECRET_PREFIX", "WEBHOOK_TOKEN_SECRET"] as const;

export class StackAlreadyRunningError extends Error {
  constructor(path: string, descriptor: LocalStackDescriptor) {
    super(
      `a local stack (pid ${descriptor.pid}, ${descriptor.httpUrl}) already runs from ${path}: stop it first, or use another --data-dir`,
    );
    this.name = "StackAlreadyRunningError";
  }
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  applyProcessDefaults();
  // Every console line is made safe in one place (console-text.ts): no credential, no control character.
  const print = options.quiet ? () => {} : safePrinter(options.print ?? ((line: string) => console.log(line)));
  const printError = options.quiet ? () => {} : safePrinter(options.printError ?? ((line: string) => console.error(line)));
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const inMemory = options.inMemory ?? false;
  const stackFile = stackFilePath(dataDir);
  refuseIfRunning(stackFile);

  const ignoredSettings = AWS_ONLY_SETTINGS.filter((name) => (options.env?.[name] ?? process.env[name])?.trim());
  const ignored = new Set<string>(ignoredSettings);
  const baseEnv: Env = Object.fromEntries(Object.entries({ ...process.env, ...options.env }).filter(([name]) => !ignored.has(name)));
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? LOCAL_DEFAULTS.visibilityTimeoutSeconds;
  const routerTimeoutMs = options.routerTimeoutMs ?? defaultRouterTimeoutMs(visibilityTimeoutSeconds);
  if (routerTimeoutMs >= visibilityTimeoutSeconds * 1000) {
    throw new Error(
      `the router timeout (${routerTimeoutMs} ms) must be below the visibility timeout ` +
        `(${visibilityTimeoutSeconds} s), or a message comes back while it is still being delivered`,
    );
  }
  const maxReceiveCount = integerSetting(baseEnv, ROUTER_ENV.maxReceiveCount, PIPELINE.maxReceiveCount, 1);
  const windowRefreshMs = integerSetting(baseEnv, ROUTER_ENV.windowRefreshMs, PIPELINE.windowRefreshSeconds * 1000);
  const sweepIntervalMs = options.sweepIntervalMs ?? LOCAL_DEFAULTS.sweepIntervalSeconds * 1000;
  // Fail on a bad routes config or keys file before anything starts.
  const routes = loadRoutesConfig(baseEnv);
  const localKeys = createLocalRoutingKeyResolver(baseEnv);
  mkdirSync(dataDir, { recursive: true });

  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.splice(0).reverse())
      await step().catch((error: unknown) => printError(`stopping: ${(error as Error).message}`));
  };
  try {
    const emulators = await startEmulators({
      dynamodbPath: inMemory ? undefined : join(dataDir, "dynamodb"),
      visibilityTimeoutSeconds,
      maxReceiveCount,
      onCrash: (kind, error) => printError(`the ${kind} emulator stopped: ${error.message} — restart the stack`),
    });
    cleanup.push(emulators.stop);
    const env: Env = {
      ...baseEnv,
      ...routerEnvironment({
        stateTableName: emulators.tables.state,
        windowsTableName: emulators.tables.windows,
        alertsQueueUrl: emulators.queues.alerts,
        deadLetterQueueUrl: emulators.queues.deadLetter,
        maxReceiveCount,
        windowRefreshMs,
        // Two router timeouts, as in AWS: then the sweep delivers what a message did not.
        owedGrace: baseEnv.OWED_GRACE?.trim() || `${Math.ceil((2 * routerTimeoutMs) / 1000)}s`,
      }),
    };
    const doc = documentClient(emulators.dynamodb);
    // The queue emulator keeps messages in memory: a journal in the data dir makes accepted alerts survive a crash.
    const journal = inMemory ? undefined : openQueueJournal(join(dataDir, JOURNAL_FILE_NAME));
    if (journal) {
      cleanup.push(async () => journal.close());
      const replayed = await replayJournal(emulators.sqs, journal, emulators.queues.alerts);
      if (replayed > 0)
        print(`Replayed ${replayed} accepted ${replayed === 1 ? "message" : "messages"} that had not been routed before the last stop.`);
    }
    const publishSqs = journal ? journaledSqs(emulators.sqs, journal, emulators.queues.alerts) : emulators.sqs;
    const pagerDuty: PagerDutyMode = localKeys.hasAnyKey()
      ? { mode: "live", endpoint: eventsEndpoint(env), keys: await describeKeys(routingKeyRefs(routes), localKeys) }
      : { mode: "dry-run", outbox: join(dataDir, OUTBOX_FILE_NAME) };
    const deliver = pagerDuty.mode === "dry-run" ? () => createOutboxDeliver({ path: pagerDuty.outbox, print }) : () => undefined;
    // Live: the runtime builds its PagerDuty delivery exactly as in AWS; unless quiet, each send is also printed.
    const wrapDeliver = pagerDuty.mode === "live" && !options.quiet ? (built: Deliver) => withDeliveryLog(built, print) : undefined;
    // One runtime per router instance, as each Lambda instance has its own caches and client.
    const sendChange = pagerDuty.mode === "dry-run" ? createOutboxChangeSender({ path: pagerDuty.outbox, print }) : undefined;
    const sendAcknowledge = pagerDuty.mode === "dry-run" ? createOutboxAcknowledgeSender({ path: pagerDuty.outbox, print }) : undefined;
    const routerRuntime = () =>
      createRouterRuntime(env, {
        doc,
        sqs: emulators.sqs,
        deliver: deliver(),
        wrapDeliver,
        sendChange,
        sendAcknowledge,
        telemetry: createTelemetry("router"),
      });

    const webhooks: WebhookRoute[] = adapters.map((adapter) => ({
      name: adapter.name,
      description: adapter.description,
      handler: createAdapterHandler(adapter, {
        ...createTelemetry("adapter", { source: adapter.name }),
        env,
        webhookToken: webhookTokenFromEnv(env),
        publisher: createSqsPublisher({ sqs: publishSqs, queueUrl: emulators.queues.alerts }),
      }),
    }));

    // The PagerDuty-compatible ingest (functions/pagerduty-events.ts): one handler behind both paths.
    const eventsHandler = createPagerDutyEventsHandler({
      ...createTelemetry("ingest", { source: EVENTS_V2_SOURCE }),
      webhookToken: webhookTokenFromEnv(env),
      publisher: createSqsPublisher({ sqs: publishSqs, queueUrl: emulators.queues.alerts }),
      messagePublisher: createSqsMessagePublisher({ sqs: publishSqs, queueUrl: emulators.queues.alerts }),
    });
    const eventsRoutes = [
      {
        path: ALERT_EVENTS_PATH,
        name: "pagerduty-events",
        description: "PagerDuty Events API v2 alert events (trigger, acknowledge, resolve)",
        handler: eventsHandler,
      },
      { path: CHANGE_EVENTS_PATH, name: "pagerduty-events", description: "PagerDuty Events API v2 change events", handler: eventsHandler },
    ];

    // The server answers /healthz from the start; the poller and the sweep join once they run.
    const running: { poller?: Poller; sweep?: SweepTimer } = {};
    const health = () => checkHealth(emulators, pagerDuty, running.poller, running.sweep);
    const server: LocalServer = await startServer({
      port: options.port ?? LOCAL_DEFAULTS.port,
      webhooks,
      routes: eventsRoutes,
      health,
      adapterTimeoutMs: LOCAL_DEFAULTS.adapterTimeoutMs,
      onError: (error, route) => printError(`${route}: handler failed: ${(error as Error)?.stack ?? String(error)}`),
    });
    cleanup.push(server.close);

    const safetyMarginMs = routerSafetyMarginMs(routerTimeoutMs);
    const poller = startPoller({
      sqs: emulators.sqs,
      queueUrl: emulators.queues.alerts,
      queueArn: emulators.queues.alertsArn,
      region: emulators.region,
      routerTimeoutMs,
      waitTimeSeconds: options.pollWaitSeconds ?? LOCAL_DEFAULTS.pollWaitSeconds,
      maxPollers: options.maxPollers ?? LOCAL_DEFAULTS.maxPollers,
      createHandler: () => {
        const runtime = routerRuntime();
        const router = withSuppressionLog(runtime.router, print); // held alerts get a console line too
        return createRouterHandler({ ...runtime.telemetry, ...runtime, router, deadLetters: runtime.deadLetterSink(), safetyMarginMs });
      },
      onError: (error, step) => printError(`router poller (${step}): ${(error as Error)?.message ?? String(error)}`),
      onDeleted:
        journal &&
        ((records) => journal.done(records.flatMap((record) => record.messageAttributes[JOURNAL_ID_ATTRIBUTE]?.stringValue ?? []))),
    });
    running.poller = poller;
    cleanup.push(poller.stop);

    const sweep = startSweepTimer({
      handler: createSweepHandler(routerRuntime()),
      intervalMs: sweepIntervalMs,
      timeoutMs: LOCAL_DEFAULTS.sweepTimeoutMs,
      onError: (error) => printError(`sweep failed: ${(error as Error)?.message ?? String(error)}`),
    });
    running.sweep = sweep;
    cleanup.push(sweep.stop);

    // After a burst, give back the heap it grew once requests and messages stop (memory-trim.ts).
    const trim = startMemoryTrim({
      activity: () => server.requests() + poller.status().received,
      trimOthers: emulators.trim,
      idle: async () => {
        const { Attributes = {} } = await emulators.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: emulators.queues.alerts,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
          }),
        );
        return Object.values(Attributes).every((count) => Number(count) === 0);
      },
    });
    cleanup.push(trim.stop);

    const descriptor: LocalStackDescriptor = {
      version: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      region: emulators.region,
      httpUrl: server.url,
      dynamodbEndpoint: emulators.dynamodbEndpoint,
      sqsEndpoint: emulators.sqsEndpoint,
      tables: emulators.tables,
      queues: { alerts: emulators.queues.alerts, deadLetter: emulators.queues.deadLetter },
      ...(inMemory ? {} : { dataDir }),
      ...(pagerDuty.mode === "dry-run" ? { outbox: pagerDuty.outbox } : {}),
    };
    writeStackFile(descriptor, dataDir);
    cleanup.push(async () => removeStackFileIfOurs(stackFile));

    let stopping: Promise<void> | undefined;
    return {
      url: server.url,
      port: server.port,
      webhooks: Object.fromEntries(adapters.map((adapter) => [adapter.name, `${server.url}/webhooks/${adapter.name}`])),
      eventsApi: { alerts: `${server.url}${ALERT_EVENTS_PATH}`, changes: `${server.url}${CHANGE_EVENTS_PATH}` },
      healthzUrl: `${server.url}/healthz`,
      region: emulators.region,
      endpoints: { dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint },
      tables: emulators.tables,
      queues: emulators.queues,
      dataDir,
      inMemory,
      stackFile,
      descriptor,
      pagerDuty,
      settings: {
        visibilityTimeoutSeconds,
        routerTimeoutMs,
        sweepIntervalMs,
        maxReceiveCount,
        redelivery: redeliveryPolicyFromEnv(env),
        windowRefreshMs,
        webhookAuth: Boolean(env.WEBHOOK_TOKEN),
      },
      ignoredSettings,
      health,
      sweepNow: () => sweep.runNow(),
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function refuseIfRunning(stackFile: string): void {
  if (!existsSync(stackFile)) return;
  let descriptor: LocalStackDescriptor;
  try {
    descriptor = readStackFile(stackFile);
  } catch {
    return; // unreadable or from another version: it is about to be replaced
  }
  if (descriptor.pid !== process.pid && isAlive(descriptor.pid)) throw new StackAlreadyRunningError(stackFile, descriptor);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Another stack may have started from the same directory since (after a crash of ours); its file stays. */
function removeStackFileIfOurs(stackFile: string): void {
  try {
    if (readStackFile(stackFile).pid === process.pid) rmSync(stackFile);
  } catch {
    // already gone
  }
}

async function describeKeys(
  refs: string[],
  keys: ReturnType<typeof createLocalRoutingKeyResolver>,
): Promise<{ ref: string; envName: string; masked?: string }[]> {
  return Promise.all(
    refs.map(async (ref) => {
      try {
        return { ref, envName: routingKeyEnvName(ref), masked: maskRoutingKey(await keys.resolve(ref)) };
      } catch {
        return { ref, envName: routingKeyEnvName(ref) };
      }
    }),
  );
}

export type LocalStackHealth = Awaited<ReturnType<typeof checkHealth>>;

async function checkHealth(emulators: Emulators, pagerDuty: PagerDutyMode, poller: Poller | undefined, sweep: SweepTimer | undefined) {
  const probe = async <T>(call: () => Promise<T>) => {
    try {
      return { ok: true as const, ...(await call()) };
    } catch (error) {
      return { ok: false as const, error: (error as Error).message };
    }
  };
  const queueDepth = async (url: string) => {
    const { Attributes = {} } = await emulators.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      url,
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  };
  const [dynamodb, sqs] = await Promise.all([
    probe(async () => {
      await emulators.dynamodb.send(new DescribeTableCommand({ TableName: emulators.tables.state }));
      return { endpoint: emulators.dynamodbEndpoint, tables: emulators.tables };
    }),
    probe(async () => ({
      endpoint: emulators.sqsEndpoint,
      alerts: await queueDepth(emulators.queues.alerts),
      deadLetter: await queueDepth(emulators.queues.deadLetter),
    })),
  ]);
  const crashed = emulators.crashed();
  const pollerStatus = poller?.status();
  const sweepStatus = sweep?.status();
  return {
    ok: dynamodb.ok && sqs.ok && Boolean(pollerStatus?.running) && Boolean(sweepStatus?.running),
    pagerDuty: pagerDuty.mode === "dry-run" ? pagerDuty : { mode: "live", endpoint: pagerDuty.endpoint },
    emulators: { dynamodb, sqs, ...(Object.keys(crashed).length > 0 ? { crashed } : {}) },
    poller: pollerStatus,
    sweep: sweepStatus,
  };
}
