/**
 * Wires the router from its settings: the one place that knows which tables, queues, routes,
 * keys and PagerDuty endpoint a router uses. The Lambda entries (router, sweep) and the local
 * stack call this; tests pass clients and a `deliver` of their own.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createPagerDutyClient, type PagerDutyClient } from "../pagerduty/client.ts";
import { eventsEndpoint } from "../pagerduty/payloads.ts";
import { loadRoutesConfig } from "../routes/routes-config.ts";
import { resolveRoute } from "../routes/resolve-route.ts";
import { routingKeyResolverFromEnv } from "../routes/routing-keys.ts";
import { createWindowCache } from "../suppression/window-cache.ts";
import { currentOccurrenceEnd, findSuppressingWindow } from "../suppression/suppress.ts";
import { createDynamoWindowStore } from "../suppression/dynamo-window-store.ts";
import { describeMalformedWindow, processMalformedWindowLog } from "../suppression/malformed-log.ts";
import { onDemandSqsClient } from "../platform/lazy-sqs.ts";
import { METRIC, MetricUnit, createTelemetry, type Telemetry } from "../platform/observability.ts";
import { durationSetting, integerSetting, requiredSetting, type Env } from "../platform/settings.ts";
import { DEFAULT_CLOCK_SKEW_MS } from "../alert/clock.ts";
import { createAcknowledgeRouter, createPagerDutyAcknowledgeSender, type SendAcknowledge } from "../router/acknowledge.ts";
import { createChangeEventRouter, createPagerDutyChangeSender, type SendChange } from "../router/change-events.ts";
import { createSqsDeadLetterSink } from "../router/dead-letter.ts";
import { createSqsRedeliverIn, redeliveryPolicyFromEnv } from "../router/redelivery.ts";
import { DEFAULT_OWED_GRACE_MS, drainOwed } from "../router/sweep.ts";
import { PIPELINE } from "./pipeline.ts";
import { ROUTER_ENV } from "./router-environment.ts";
import { createPagerDutyDeliver, type ResolveRoutingKey } from "../router/deliver.ts";
import { DEFAULT_RERESOLVE_AFTER_MS, createRouter, type Deliver } from "../router/router.ts";
import { createDynamoStateStore } from "../state-table/problem-store.ts";
import { createAggregateStore } from "../state-table/aggregate-store.ts";
import { DEFAULT_EVENTS_PER_MINUTE, paced } from "../router/pacing.ts";
import { createPacer } from "../state-table/pacer.ts";
import { KEY_PREFIX } from "../alert/relay-keys.ts";
import { createHeartbeatStore } from "../state-table/heartbeat-store.ts";
import { createHeartbeatSweep, withHeartbeats } from "../heartbeat/monitor.ts";

export interface RouterRuntimeOverrides {
  doc?: DynamoDBDocumentClient;
  sqs?: SQSClient;
  deliver?: Deliver;
  /** Wraps the delivery the runtime builds, e.g. the local stack's console log of what was sent. */
  wrapDeliver?: (deliver: Deliver) => Deliver;
  /** Sends PagerDuty change events (default: the PagerDuty client, as the environment says). */
  sendChange?: SendChange;
  /** Sends acknowledges from the Events API v2 ingest (default: the PagerDuty client, as the environment says). */
  sendAcknowledge?: SendAcknowledge;
  telemetry?: Telemetry;
  now?: () => Date;
}

/**
 * A router does not sit out an outage inside one invocation: a few attempts, then the key is held
 * and later sends to it come back at once, so the queue keeps flowing (a resolve is recorded when
 * it arrives, not after the firing messages ahead of it) and the messages wait in SQS instead.
 */
export const ROUTER_CLIENT_OPTIONS = {
  maxAttempts: 3,
  holdAfterFailureMs: 1_000,
  maxGateWaitMs: 1_000,
  probeTimeoutMs: 2_000,
  maxInFlightPerKey: 4,
} as const;

export function documentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * The PagerDuty client and routing keys as the environment says, built on first use. One client
 * for alert events, change events and acknowledges, so a routing key PagerDuty throttles is held
 * back for all of them.
 */
export function lazyPagerDutyFromEnv(env: Env): { client: Pick<PagerDutyClient, "send" | "sendChange">; resolveKey: ResolveRoutingKey } {
  let built: { client: PagerDutyClient; resolve: ResolveRoutingKey } | undefined;
  const get = () => {
    if (!built) {
      const keys = routingKeyResolverFromEnv(env);
      built = {
        client: createPagerDutyClient({ baseUrl: eventsEndpoint(env), ...ROUTER_CLIENT_OPTIONS }),
        resolve: (ref) => keys.resolve(ref),
      };
    }
    return built;
  };
  return {
    client: { send: (event, opts) => get().client.send(event, opts), sendChange: (event, opts) => get().client.sendChange(event, opts) },
    resolveKey: (ref) => get().resolve(ref),
  };
}

export function createRouterRuntime(env: Env, overrides: RouterRuntimeOverrides = {}) {
  const stateTable = requiredSetting(env, ROUTER_ENV.stateTableName, "the DynamoDB table of problem state");
  const windowsTable = requiredSetting(env, ROUTER_ENV.windowsTableName, "the DynamoDB table of suppression windows");
  const telemetry = overrides.telemetry ?? createTelemetry("router");
  const { logger, metrics } = telemetry;
  const doc = overrides.doc ?? documentClient();
  const sqs = overrides.sqs ?? onDemandSqsClient();
  const now = overrides.now ?? (() => new Date());

  const routes = loadRoutesConfig(env);
  const windows = createWindowCache({
    source: createDynamoWindowStore({ doc, tableName: windowsTable }),
    refreshMs: integerSetting(env, ROUTER_ENV.windowRefreshMs, 15_000),
    now,
    onError: (error) => logger.error("suppression windows could not be refreshed; using the last ones read", { error: error as Error }),
    onMalformed: (windowId, problems, item) => {
      // Counted at every read (the alarm stays on while it is broken), said once per change of the item.
      metrics.addMetric(METRIC.malformedWindows, MetricUnit.Count, 1);
      if (processMalformedWindowLog.isNew(windowsTable, windowId, item))
        logger.error(describeMalformedWindow(windowId, problems), { windowId, problems });
    },
  });
  const pagerDuty = lazyPagerDutyFromEnv(env);
  // Every event to PagerDuty is paced per routing key, shared by all instances through the state table.
  const pacer = createPacer({
    doc,
    tableName: stateTable,
    now,
    perMinute: integerSetting(env, "PAGERDUTY_EVENTS_PER_MINUTE", DEFAULT_EVENTS_PER_MINUTE, 1),
  });
  const isAggregateKey = (dedupKey: string) => dedupKey.startsWith(KEY_PREFIX.storm) || dedupKey.startsWith(KEY_PREFIX.group);
  const built = paced(
    pacer,
    overrides.deliver ?? createPagerDutyDeliver(pagerDuty.client, pagerDuty.resolveKey),
    (alert, delivery) => ({
      routingKeyRef: delivery.routingKeyRef,
      priority: delivery.action === "resolve" || isAggregateKey(alert.dedupKey),
    }),
    now,
  );
  const deliver = overrides.wrapDeliver ? overrides.wrapDeliver(built) : built;
  const resolvedRetentionSeconds = integerSetting(env, ROUTER_ENV.resolvedRetentionDays, 30, 1) * 86_400;
  const store = createDynamoStateStore({ doc, tableName: stateTable, resolvedRetentionSeconds });
  const core = createRouter({
    store,
    aggregates: createAggregateStore({ doc, tableName: stateTable, resolvedRetentionSeconds }),
    policies: routes.policies,
    now,
    clockSkewMs: durationSetting(env, "CLOCK_SKEW_MAX", DEFAULT_CLOCK_SKEW_MS),
    reResolveAfterMs: durationSetting(env, "RERESOLVE_AFTER", DEFAULT_RERESOLVE_AFTER_MS),
    route: (alert) => resolveRoute(routes, alert),
    deliver,
    async findWindow(alert, at) {
      const window = findSuppressingWindow(await windows.windows(), alert, at);
      // A recurring window's suppression ends with the current occurrence: that is when the sweep must look again.
      const endsAt = window && currentOccurrenceEnd(window, at);
      return window && { id: window.id, reason: window.reason, ...(endsAt ? { endsAt: endsAt.toISOString() } : {}) };
    },
  });
  // Beats of declared heartbeats are recorded, never routed; the sweep pages when they stop (lib/heartbeat).
  const heartbeatDeps = {
    declarations: routes.policies.heartbeats,
    store: createHeartbeatStore({ doc, tableName: stateTable }),
    telemetry,
    now,
  };
  const router = withHeartbeats(core, heartbeatDeps);
  const alertsQueueUrl = env[ROUTER_ENV.alertsQueueUrl]?.trim();
  return {
    router,
    store,
    telemetry,
    heartbeats: createHeartbeatSweep({ ...heartbeatDeps, router, problems: store }),
    /** PagerDuty change events from the Events API v2 ingest: routed like alerts, sent without state. */
    changeEvents: createChangeEventRouter({
      route: (subject) => resolveRoute(routes, subject),
      send: paced(
        pacer,
        overrides.sendChange ?? createPagerDutyChangeSender(pagerDuty.client, pagerDuty.resolveKey),
        (_event, delivery) => ({ routingKeyRef: delivery.routingKeyRef, priority: false }),
        now,
      ),
    }),
    /** PagerDuty acknowledges from the Events API v2 ingest: sent where the problem's trigger went, when it pages on its own. */
    acknowledgements: createAcknowledgeRouter({
      store,
      now,
      send: paced(
        pacer,
        overrides.sendAcknowledge ?? createPagerDutyAcknowledgeSender(pagerDuty.client, pagerDuty.resolveKey),
        (_key, to) => ({ routingKeyRef: to.routingKeyRef, priority: true }),
        now,
      ),
    }),
    /** Only the router dead-letters (the sweep has no queue), so only it needs DLQ_URL. */
    deadLetterSink: () =>
      createSqsDeadLetterSink(sqs, requiredSetting(env, ROUTER_ENV.deadLetterQueueUrl, "the URL of the alerts dead-letter queue")),
    maxReceiveCount: integerSetting(env, ROUTER_ENV.maxReceiveCount, PIPELINE.maxReceiveCount, 1),
    drainOwed: async (deadline: number) => (await drainOwed(store, router, deadline)).delivered,
    /** How long a recorded change is left to its own queue message before the sweep delivers it (OWED_GRACE). */
    owedGraceMs: durationSetting(env, ROUTER_ENV.owedGrace, DEFAULT_OWED_GRACE_MS),
    redelivery: redeliveryPolicyFromEnv(env),
    /** Messages that must wait come back after a short backoff; needs the queue's URL (set by both stacks). */
    redeliverIn: alertsQueueUrl ? createSqsRedeliverIn(sqs, alertsQueueUrl) : undefined,
  };
}

export type RouterRuntime = ReturnType<typeof createRouterRuntime>;
