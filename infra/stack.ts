/**
 * The whole pipeline as one stack: an adapter function per registered source (read from the
 * registry, so a new adapter needs no edit here), the alerts queue, the router and the sweep,
 * their tables and secrets, and the alarms and dashboard that watch them.
 */
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { adapters } from "../lib/adapters/registry.ts";
import { ALERT_EVENTS_PATH, CHANGE_EVENTS_PATH, EVENTS_V2_SOURCE } from "../lib/ingest/pagerduty-events/events-v2.ts";
import type { Adapter } from "../lib/adapters/types.ts";
import { STACK_OUTPUTS, webhookUrlOutput } from "../lib/ops/stack-outputs.ts";
import { PIPELINE, STATE_TABLE } from "../lib/handlers/pipeline.ts";
import { routerEnvironment } from "../lib/handlers/router-environment.ts";
import { METRIC } from "../lib/platform/observability.ts";
import { createTopicKey } from "./constructs/alarm-topic.ts";
import { Ingress, type DeployedAdapter } from "./constructs/ingress.ts";
import { Operations } from "./constructs/operations.ts";
import { PipelineFunction } from "./constructs/pipeline-function.ts";
import { PipelineStorage } from "./constructs/storage.ts";
import { acknowledgeFindings } from "./nag.ts";
import type { AlertRelaySettings } from "./settings.ts";
import { FUNCTION_MEMORY_MB } from "./bundling.ts";

export interface AlertRelayStackProps extends StackProps {
  settings: AlertRelaySettings;
}

/** What the router and the sweep may do to each table: exactly the calls lib/router and lib/suppression make. */
export const TABLE_ACTIONS = {
  stateReadWrite: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
  stateWatchIndex: ["dynamodb:Query"],
  windowsRead: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
} as const;

/** `<stack>-ops-`: the ops alarms' names, which the alarm state change rule leaves out. */
export function opsAlarmPrefix(stackName: string): string {
  return `${stackName}-ops-`;
}

/** Adapters reached through SNS, EventBridge or alarm actions: Lambda retries them, then needs somewhere to put the event. */
export function isInvokedAsynchronously(adapter: Adapter<unknown>): boolean {
  return adapter.transports.some((transport) => transport !== "http");
}

function pascalCase(name: string): string {
  return name
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

export class AlertRelayStack extends Stack {
  readonly settings: AlertRelaySettings;
  readonly storage: PipelineStorage;
  readonly adapterFunctions = new Map<string, PipelineFunction>();
  /** The PagerDuty-compatible ingest behind POST /v2/enqueue and /v2/change/enqueue. */
  readonly pagerDutyEvents: PipelineFunction;
  readonly router: PipelineFunction;
  readonly sweep: PipelineFunction;
  readonly ingress: Ingress;
  readonly operations: Operations;
  readonly webhookToken: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: AlertRelayStackProps) {
    super(scope, id, props);
    const settings = props.settings;
    this.settings = settings;
    const removalPolicy = settings.removalPolicy === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const functionDefaults = { logRetention: settings.logRetentionDays, removalPolicy };
    const deployed = adapters.filter((adapter) => settings.sources.includes(adapter.name));
    this.storage = new PipelineStorage(this, "Storage", { removalPolicy, adapterFailureQueue: deployed.some(isInvokedAsynchronously) });
    const { alertsQueue, deadLetterQueue, adapterFailureQueue, stateTable, windowsTable } = this.storage;
    const topicKey = createTopicKey(this, "TopicKey", removalPolicy);

    this.webhookToken = settings.webhookTokenSecretName
      ? secretsmanager.Secret.fromSecretNameV2(this, "WebhookToken", settings.webhookTokenSecretName)
      : new secretsmanager.Secret(this, "WebhookToken", {
          description: `alert-relay ${settings.stage}: the token webhook senders present (Authorization: Bearer <token>)`,
          // Letters and digits only, so the token goes into headers, URLs and YAML without quoting.
          generateSecretString: { passwordLength: 48, excludePunctuation: true },
          removalPolicy,
        });
    // A name, not the partial ARN fromSecretNameV2 knows: Secrets Manager resolves a name exactly.
    const webhookTokenId = settings.webhookTokenSecretName ?? this.webhookToken.secretArn;
    // Secrets under a customer-managed key can only be read with kms:Decrypt on it, and only through Secrets Manager.
    const decryptSecrets = (fn: PipelineFunction) => {
      if (settings.secretsKmsKeyArns.length === 0) return;
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ["kms:Decrypt"],
          resources: settings.secretsKmsKeyArns,
          conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${this.region}.amazonaws.com` } },
        }),
      );
    };

    const adapterFunctions: DeployedAdapter[] = [];
    for (const adapter of deployed) {
      const acceptsWebhooks = adapter.transports.includes("http");
      const adapterFunction = new PipelineFunction(this, `Adapter${pascalCase(adapter.name)}`, {
        ...functionDefaults,
        kind: "adapter",
        description: `alert-relay ${adapter.name} adapter: ${adapter.description}`,
        memorySize: FUNCTION_MEMORY_MB.adapter,
        timeout: Duration.seconds(15),
        environment: {
          ADAPTER_NAME: adapter.name,
          ALERTS_QUEUE_URL: alertsQueue.queueUrl,
          ...(acceptsWebhooks ? { WEBHOOK_TOKEN_SECRET: webhookTokenId } : {}),
          ...settings.adapterSettings[adapter.name],
        },
        deadLetterQueue: isInvokedAsynchronously(adapter) ? adapterFailureQueue : undefined,
        counted: [METRIC.alertsAccepted],
      });
      alertsQueue.grantSendMessages(adapterFunction.role);
      if (acceptsWebhooks) {
        adapterFunction.role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [secretArnForPolicies(this.webhookToken)] }),
        );
        decryptSecrets(adapterFunction);
      }
      this.adapterFunctions.set(adapter.name, adapterFunction);
      adapterFunctions.push({ adapter, fn: adapterFunction.fn });
    }

    // Like an http adapter: it may send to the alerts queue and read the webhook token, nothing else.
    this.pagerDutyEvents = new PipelineFunction(this, "PagerDutyEvents", {
      ...functionDefaults,
      kind: "pagerduty-events",
      description: `alert-relay PagerDuty-compatible ingest: Events API v2 bodies at POST ${ALERT_EVENTS_PATH} and ${CHANGE_EVENTS_PATH}`,
      memorySize: FUNCTION_MEMORY_MB["pagerduty-events"],
      timeout: Duration.seconds(15),
      environment: { ALERTS_QUEUE_URL: alertsQueue.queueUrl, WEBHOOK_TOKEN_SECRET: webhookTokenId },
      counted: [METRIC.alertsAccepted],
    });
    alertsQueue.grantSendMessages(this.pagerDutyEvents.role);
    this.pagerDutyEvents.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [secretArnForPolicies(this.webhookToken)] }),
    );
    decryptSecrets(this.pagerDutyEvents);

    const routingKeysArn = this.formatArn({
      service: "secretsmanager",
      resource: "secret",
      resourceName: `${settings.routingKeysSecretPrefix}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const routerValues = {
      stateTableName: stateTable.tableName,
      alertsQueueUrl: alertsQueue.queueUrl,
      windowsTableName: windowsTable.tableName,
      maxReceiveCount: PIPELINE.maxReceiveCount,
      windowRefreshMs: PIPELINE.windowRefreshSeconds * 1000,
      resolvedRetentionDays: settings.resolvedRetentionDays,
      pagerDutyRegion: settings.pagerDutyRegion,
      routingKeysSecretPrefix: settings.routingKeysSecretPrefix,
      routesJson: settings.routesJson,
    };
    const grantRouting = (fn: PipelineFunction, stateActions: readonly string[]) => {
      fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...stateActions], resources: [stateTable.tableArn] }));
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...TABLE_ACTIONS.windowsRead], resources: [windowsTable.tableArn] }),
      );
      fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [routingKeysArn] }));
      decryptSecrets(fn);
    };

    this.router = new PipelineFunction(this, "Router", {
      ...functionDefaults,
      kind: "router",
      description: "alert-relay router: alerts queue to decisions in DynamoDB to PagerDuty Events API v2",
      memorySize: FUNCTION_MEMORY_MB.router,
      timeout: Duration.seconds(PIPELINE.routerTimeoutSeconds),
      // Only the router dead-letters (with a reason); the sweep has no queue.
      environment: routerEnvironment({ ...routerValues, deadLetterQueueUrl: deadLetterQueue.queueUrl }),
      counted: [METRIC.routerOutcomes, METRIC.pagerDutyEvents, METRIC.deadLettered],
    });
    grantRouting(this.router, TABLE_ACTIONS.stateReadWrite);
    deadLetterQueue.grantSendMessages(this.router.role);
    this.router.fn.addEventSource(
      new SqsEventSource(alertsQueue, {
        batchSize: settings.routerBatchSize,
        maxBatchingWindow:
          settings.routerMaxBatchingWindowSeconds > 0 ? Duration.seconds(settings.routerMaxBatchingWindowSeconds) : undefined,
        maxConcurrency: settings.routerMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    this.sweep = new PipelineFunction(this, "Sweep", {
      ...functionDefaults,
      kind: "sweep",
      description: "alert-relay sweep: ended windows, held resolves, group updates, missing heartbeats",
      memorySize: FUNCTION_MEMORY_MB.sweep,
      // Ends before the next run starts; overlapping runs would be safe (conditional writes) but wasteful.
      timeout: Duration.seconds(Math.max(10, PIPELINE.sweepIntervalSeconds - 10)),
      environment: routerEnvironment(routerValues),
    });
    grantRouting(this.sweep, TABLE_ACTIONS.stateReadWrite);
    this.sweep.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...TABLE_ACTIONS.stateWatchIndex],
        resources: [`${stateTable.tableArn}/index/${STATE_TABLE.watchIndex}`],
      }),
    );
    // A failed run is simply the next minute's run; Lambda's own retries would only pile up behind it.
    this.sweep.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(PIPELINE.sweepIntervalSeconds) });
    new events.Rule(this, "SweepSchedule", {
      description: "alert-relay: run the sweep",
      schedule: events.Schedule.rate(Duration.seconds(PIPELINE.sweepIntervalSeconds)),
      targets: [
        new targets.LambdaFunction(this.sweep.fn, { retryAttempts: 0, maxEventAge: Duration.seconds(PIPELINE.sweepIntervalSeconds) }),
      ],
    });

    this.ingress = new Ingress(this, "Ingress", {
      adapters: adapterFunctions,
      pagerDutyEvents: this.pagerDutyEvents.fn,
      topicKey,
      throttle: { rateLimit: settings.apiThrottleRateLimit, burstLimit: settings.apiThrottleBurstLimit },
      alarmStateChangeRule: settings.alarmStateChangeRule,
      opsAlarmPrefix: opsAlarmPrefix(this.stackName),
      failureQueue: adapterFailureQueue,
      ...functionDefaults,
    });

    this.operations = new Operations(this, "Operations", {
      alarmPrefix: opsAlarmPrefix(this.stackName),
      // Dashboard names are global in an account: the same stage deployed in two regions must not collide.
      dashboardName: `${this.stackName}-${this.region}`,
      topicKey,
      opsAlarmEndpoint: settings.opsAlarmEndpoint,
      storage: this.storage,
      router: this.router.fn,
      sweep: this.sweep.fn,
      sources: [...settings.sources, EVENTS_V2_SOURCE],
      api: this.ingress.api,
      queueAgeAlarmSeconds: settings.queueAgeAlarmSeconds,
    });

    this.addOutputs();
    acknowledgeFindings(this);
  }

  private addOutputs(): void {
    const output = (key: string, value: string, description: string) => new CfnOutput(this, key, { value, description });
    const { storage, ingress, settings } = this;
    output(STACK_OUTPUTS.stateTable, storage.stateTable.tableName, "DynamoDB table of problem state (alert-relay state list)");
    output(
      STACK_OUTPUTS.windowsTable,
      storage.windowsTable.tableName,
      "DynamoDB table of suppression windows: write items here to suppress",
    );
    output(STACK_OUTPUTS.alertsQueueUrl, storage.alertsQueue.queueUrl, "SQS queue between the adapters and the router");
    output(STACK_OUTPUTS.deadLetterQueueUrl, storage.deadLetterQueue.queueUrl, "Alerts the router gave up on, each with its reason");
    output(STACK_OUTPUTS.webhookBaseUrl, ingress.webhookBaseUrl, "Root of the webhook API: POST <this>webhooks/<source>");
    output(STACK_OUTPUTS.alarmTopicArn, ingress.alarmTopic.topic.topicArn, "SNS topic to use as a CloudWatch alarm action (ALARM and OK)");
    for (const [source, url] of ingress.webhookUrls)
      output(webhookUrlOutput(source), url, `Webhook for ${source}: POST with Authorization: Bearer <token>`);
    // webhookBaseUrl ends in "/": the paths join it without their leading one.
    output(
      STACK_OUTPUTS.pagerDutyEventsUrl,
      `${ingress.webhookBaseUrl}${ALERT_EVENTS_PATH.slice(1)}`,
      `PagerDuty Events API v2 endpoint for any PagerDuty sender (routing_key = the ` +
        `webhook token); change events at ${CHANGE_EVENTS_PATH.slice(1)}`,
    );
    for (const [source, adapterFunction] of this.adapterFunctions) {
      const adapter = adapters.find((candidate) => candidate.name === source);
      if (adapter?.transports.includes("invoke")) {
        output(
          `AlarmActionFunctionArn${pascalCase(source)}`,
          adapterFunction.fn.functionArn,
          `Lambda function a CloudWatch alarm can invoke directly (${source})`,
        );
      }
    }
    output("WebhookTokenSecretArn", this.webhookToken.secretArn, "Secrets Manager secret holding the webhook token");
    output(
      "RoutingKeysSecretPrefix",
      settings.routingKeysSecretPrefix,
      "Create one secret <prefix>/<routing key name> per PagerDuty routing key",
    );
    output(
      "OpsAlarmTopicArn",
      this.operations.topic.topicArn,
      "SNS topic of the pipeline's own alarms: subscribe PagerDuty's CloudWatch integration",
    );
    if (storage.adapterFailureQueue) {
      output(
        "AdapterFailureQueueUrl",
        storage.adapterFailureQueue.queueUrl,
        "Adapter invocations (SNS, EventBridge, alarm actions) that failed every retry",
      );
    }
    output("DashboardName", this.operations.dashboard.dashboardName, "CloudWatch dashboard of the pipeline");
  }
}

/** A secret referenced by name has an unknown 6-character suffix in its ARN; a created one has a full ARN. */
function secretArnForPolicies(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}
