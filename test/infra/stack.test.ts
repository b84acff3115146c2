/**
 * The stack's promises, checked on the synthesized template: the registry decides the functions
 * and routes, everything is encrypted and retained, each function may do only its job, nothing
 * secret is in the template, the ops alarms reach their own topic, and cdk-nag has nothing left
 * to say. One test bundles for real with the local esbuild and loads the bundles.
 */
import { bundleLoadEnv } from "../support/bundle-env.ts";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Duration } from "aws-cdk-lib";
import { Annotations, Match } from "aws-cdk-lib/assertions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../lib/adapters/registry.ts";
import type { Adapter, Transport } from "../../lib/adapters/types.ts";
import { STACK_OUTPUTS, webhookUrlOutput } from "../../lib/ops/stack-outputs.ts";
import { COUNTED, METRIC, METRICS_NAMESPACE, isCounted, type CountedMetric } from "../../lib/platform/observability.ts";
import { PIPELINE, STATE_TABLE } from "../../lib/handlers/pipeline.ts";
import type { AlertRelayApp } from "../../infra/alert-relay-app.ts";
import { PROJECT_ROOT } from "../../infra/bundling.ts";
import type { NagFindingCollector } from "../../infra/nag.ts";
import { resolveSettings, SettingsError } from "../../infra/settings.ts";
import { isInvokedAsynchronously, opsAlarmPrefix } from "../../infra/stack.ts";
import { echoAdapter } from "../support/echo-adapter.ts";
import { actionsOf, ofType, resourcesOf, statementsOf, synth, type CfnResource, type Synthesized } from "./synth.ts";

const using = (transport: Transport) => adapters.filter((adapter) => adapter.transports.includes(transport));
const arnOf = (logicalId: string) => ({ "Fn::GetAtt": [logicalId, "Arn"] });
const SECRETS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const refTo = (logicalId: string) => ({ Ref: logicalId });

/** What a careless deployment could leak: a developer's local key and token in the environment. */
const LEAK_CANDIDATES = { PAGERDUTY_ROUTING_KEY: "R0utingKeyF0rTests0123456789abcd", WEBHOOK_TOKEN: "webhook-token-for-tests-5d1c" };
/** PagerDuty routing and integration keys are 32 letters and digits. */
const PAGERDUTY_KEY = /(?<![A-Za-z0-9])[A-Za-z0-9]{32}(?![A-Za-z0-9])/g;

let base: Synthesized;
const savedEnv: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const [name, value] of Object.entries(LEAK_CANDIDATES)) {
    savedEnv[name] = process.env[name];
    process.env[name] = value;
  }
  base = synth();
});

afterAll(() => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** Every string value in the template (not keys: property names like PointInTimeRecoverySpecification are 32 letters too). */
function stringValues(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringValues);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringValues);
  return [];
}

function functionsOf(s: Synthesized): [string, CfnResource][] {
  return ofType(s.json, "AWS::Lambda::Function");
}

function envOf(s: Synthesized, fn: { node: unknown }): Record<string, unknown> {
  const resource = s.json.Resources[s.id(fn as never)]!;
  return (resource.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe("functions from the registry", () => {
  it("deploys one function per registered adapter, plus the PagerDuty-compatible ingest, the router and the sweep", () => {
    expect(functionsOf(base)).toHaveLength(adapters.length + 3);
    expect(envOf(base, base.stack.pagerDutyEvents.fn)).toMatchObject({
      ALERTS_QUEUE_URL: refTo(base.id(base.stack.storage.alertsQueue)),
      WEBHOOK_TOKEN_SECRET: refTo(base.id(base.stack.webhookToken)),
    });
    for (const adapter of adapters) {
      expect(envOf(base, base.stack.adapterFunctions.get(adapter.name)!.fn)).toMatchObject({
        ADAPTER_NAME: adapter.name,
        ALERTS_QUEUE_URL: refTo(base.id(base.stack.storage.alertsQueue)),
      });
    }
  });

  it("runs every function on nodejs24.x, arm64, JSON logs into its own log group with retention", () => {
    for (const [, fn] of functionsOf(base)) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs24.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: "alert-relay",
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          },
        },
        // Lambda's own START/REPORT records (≈450 bytes an invocation) stay out: its Duration and Errors metrics carry them (issue 15).
        LoggingConfig: { LogFormat: "JSON", SystemLogLevel: "WARN", LogGroup: { Ref: expect.any(String) } },
      });
      // Not --enable-source-maps: it reads the map at every cold start; the bundle maps its stacks when one is formatted.
      expect((fn.Properties!.Environment as { Variables: Record<string, string> }).Variables).not.toHaveProperty("NODE_OPTIONS");
      const logGroupId = (fn.Properties!.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(base.json.Resources[logGroupId]!.Properties).toMatchObject({ RetentionInDays: 30 });
    }
  });

  it("sizes the router's timeout from PIPELINE and keeps every function on its own memory and timeout", () => {
    const router = base.json.Resources[base.id(base.stack.router.fn)]!.Properties!;
    expect(router).toMatchObject({ Timeout: PIPELINE.routerTimeoutSeconds, MemorySize: 512 });
    const sweep = base.json.Resources[base.id(base.stack.sweep.fn)]!.Properties!;
    expect(sweep.Timeout as number).toBeLessThan(PIPELINE.sweepIntervalSeconds);
    for (const [, fn] of functionsOf(base))
      expect(fn.Properties).toMatchObject({ MemorySize: expect.any(Number), Timeout: expect.any(Number) });
  });

  it("gives a new adapter its function, route and output with no infra edit", () => {
    const registry = adapters as Adapter<unknown>[];
    const myTool = { ...echoAdapter, name: "my-tool", transports: ["http"] } as Adapter<unknown>;
    registry.push(myTool);
    try {
      const s = synth();
      expect(functionsOf(s)).toHaveLength(adapters.length + 3);
      s.template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "POST /webhooks/my-tool" });
      expect(Object.keys(s.json.Outputs ?? {})).toContain(webhookUrlOutput("my-tool"));
      expect(s.findings.findings).toEqual([]);
    } finally {
      registry.splice(registry.indexOf(myTool), 1);
    }
  });
});

describe("ingress", () => {
  it("has one POST /webhooks/<source> route per http adapter, integrated with that adapter's function", () => {
    const routes = ofType(base.json, "AWS::ApiGatewayV2::Route");
    expect(routes).toHaveLength(using("http").length + 2);
    for (const adapter of using("http")) {
      const [, route] = routes.find(([, r]) => r.Properties?.RouteKey === `POST /webhooks/${adapter.name}`)!;
      const integrationId = JSON.stringify(route.Properties?.Target).match(/"Ref":"([^"]+)"/)![1]!;
      const integration = base.json.Resources[integrationId]!;
      expect(integration.Properties).toMatchObject({
        IntegrationType: "AWS_PROXY",
        PayloadFormatVersion: "2.0",
        IntegrationUri: arnOf(base.id(base.stack.adapterFunctions.get(adapter.name)!.fn)),
      });
    }
  });

  it("has POST /v2/enqueue and POST /v2/change/enqueue, PagerDuty's paths, integrated with the PagerDuty-compatible ingest", () => {
    const routes = ofType(base.json, "AWS::ApiGatewayV2::Route");
    for (const routeKey of ["POST /v2/enqueue", "POST /v2/change/enqueue"]) {
      const [, route] = routes.find(([, r]) => r.Properties?.RouteKey === routeKey)!;
      const integrationId = JSON.stringify(route.Properties?.Target).match(/"Ref":"([^"]+)"/)![1]!;
      expect(base.json.Resources[integrationId]!.Properties).toMatchObject({
        IntegrationType: "AWS_PROXY",
        PayloadFormatVersion: "2.0",
        IntegrationUri: arnOf(base.id(base.stack.pagerDutyEvents.fn)),
      });
    }
    expect(JSON.stringify(base.json.Outputs![STACK_OUTPUTS.pagerDutyEventsUrl]!.Value)).toContain("v2/enqueue");
  });

  it("throttles the API and writes access logs to a log group: what traces a request, never a header or the body", () => {
    base.template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: arnOf(base.id(base.stack.ingress.accessLogs)), Format: Match.anyValue() },
    });
    const [, stage] = ofType(base.json, "AWS::ApiGatewayV2::Stage")[0]!;
    const format = JSON.parse((stage.Properties!.AccessLogSettings as { Format: string }).Format) as Record<string, string>;
    expect(Object.values(format).sort()).toEqual(
      [
        "$context.requestId",
        "$context.requestTimeEpoch",
        "$context.identity.sourceIp",
        "$context.routeKey",
        "$context.status",
        "$context.responseLatency",
        "$context.integrationErrorMessage",
      ].sort(),
    );
  });

  it("subscribes every sns adapter to the KMS-encrypted, HTTPS-only alarm topic, with a DLQ", () => {
    const topicId = base.id(base.stack.ingress.alarmTopic.topic);
    expect(base.json.Resources[topicId]!.Properties).toMatchObject({
      KmsMasterKeyId: arnOf(base.id(base.stack.node.findChild("TopicKey"))),
    });
    const subscriptions = ofType(base.json, "AWS::SNS::Subscription").filter(([, s]) =>
      JSON.stringify(s.Properties?.TopicArn).includes(topicId),
    );
    expect(subscriptions).toHaveLength(using("sns").length);
    for (const [, subscription] of subscriptions) {
      expect(subscription.Properties).toMatchObject({ Protocol: "lambda", RedrivePolicy: { deadLetterTargetArn: expect.anything() } });
    }
  });

  it("enforces TLS on both topics and lets CloudWatch publish only for this account's alarms", () => {
    const policies = ofType(base.json, "AWS::SNS::TopicPolicy");
    expect(policies).toHaveLength(2);
    for (const [, policy] of policies) {
      const statements = (
        policy.Properties!.PolicyDocument as {
          Statement: { Effect: string; Condition?: Record<string, Record<string, unknown>>; Principal?: unknown }[];
        }
      ).Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      );
      const cloudwatch = statements.find((statement) => JSON.stringify(statement.Principal).includes("cloudwatch.amazonaws.com"))!;
      expect(cloudwatch.Condition).toMatchObject({ StringEquals: { "aws:SourceAccount": refTo("AWS::AccountId") } });
    }
    base.template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  it("lets CloudWatch alarm actions invoke the invoke-capable adapters, from this account only", () => {
    const permissions = ofType(base.json, "AWS::Lambda::Permission").filter(
      ([, p]) => p.Properties?.Principal === "lambda.alarms.cloudwatch.amazonaws.com",
    );
    expect(permissions).toHaveLength(using("invoke").length);
    for (const [, permission] of permissions)
      expect(permission.Properties).toMatchObject({ SourceAccount: refTo("AWS::AccountId"), Action: "lambda:InvokeFunction" });
  });

  it("has no alarm state change rule unless asked", () => {
    const rules = ofType(base.json, "AWS::Events::Rule").filter(([, rule]) => rule.Properties?.EventPattern !== undefined);
    expect(rules).toEqual([]);
  });
});

describe("queue and tables", () => {
  it("encrypts every queue, denies plain HTTP, and redrives the alerts queue to a 14-day DLQ after maxReceiveCount", () => {
    const { alertsQueue, deadLetterQueue } = base.stack.storage;
    for (const [, queue] of ofType(base.json, "AWS::SQS::Queue")) expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    for (const [, policy] of ofType(base.json, "AWS::SQS::QueuePolicy")) {
      expect(JSON.stringify(policy.Properties)).toContain('"aws:SecureTransport":"false"');
    }
    expect(base.json.Resources[base.id(alertsQueue)]!.Properties).toMatchObject({
      RedrivePolicy: { deadLetterTargetArn: arnOf(base.id(deadLetterQueue)), maxReceiveCount: PIPELINE.maxReceiveCount },
      VisibilityTimeout: PIPELINE.visibilityTimeoutSeconds,
    });
    expect(base.json.Resources[base.id(deadLetterQueue)]!.Properties).toMatchObject({
      MessageRetentionPeriod: Duration.days(14).toSeconds(),
    });
  });

  it("keeps the visibility timeout at least 6× the router's timeout", () => {
    const visibility = base.json.Resources[base.id(base.stack.storage.alertsQueue)]!.Properties!.VisibilityTimeout as number;
    const timeout = base.json.Resources[base.id(base.stack.router.fn)]!.Properties!.Timeout as number;
    expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
  });

  it("feeds the router in batches with partial batch failures and bounded concurrency", () => {
    base.template.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
    base.template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: arnOf(base.id(base.stack.storage.alertsQueue)),
      FunctionName: refTo(base.id(base.stack.router.fn)),
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: PIPELINE.routerBatchSize,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it("builds the state table from STATE_TABLE: key, KEYS_ONLY watch index, TTL, PITR, encryption, retained", () => {
    const table = base.json.Resources[base.id(base.stack.storage.stateTable)]!;
    expect(table).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: STATE_TABLE.partitionKey, KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: STATE_TABLE.watchIndex,
          KeySchema: STATE_TABLE.globalSecondaryIndexes[0]!.KeySchema,
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
      DeletionProtectionEnabled: true,
    });
  });

  it("builds the windows table on-demand, with PITR and encryption, retained", () => {
    const table = base.json.Resources[base.id(base.stack.storage.windowsTable)]!;
    expect(table).toMatchObject({ DeletionPolicy: "Retain" });
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });
});

describe("least privilege", () => {
  const allStatements = (s: Synthesized) =>
    ofType(s.json, "AWS::IAM::Policy").flatMap(
      ([, p]) => (p.Properties!.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    );

  it("attaches no managed policies and grants no wildcard actions", () => {
    for (const [, role] of ofType(base.json, "AWS::IAM::Role")) expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    for (const statement of allStatements(base)) {
      for (const action of Array.isArray(statement.Action) ? statement.Action : [statement.Action]) expect(action).not.toMatch(/\*/);
    }
  });

  it(
    "lets an adapter send to the alerts queue (and its failure queue when " + "invoked asynchronously), read its token, and nothing else",
    () => {
      const { alertsQueue, adapterFailureQueue } = base.stack.storage;
      for (const adapter of adapters) {
        const fn = base.stack.adapterFunctions.get(adapter.name)!;
        const statements = statementsOf(base.json, base.id(fn.role));
        const actions = statements.flatMap(actionsOf);
        expect(actions.filter((action) => action.startsWith("dynamodb:"))).toEqual([]);
        const sendTargets = statements.filter((s) => actionsOf(s).includes("sqs:SendMessage")).flatMap(resourcesOf);
        const allowed = [arnOf(base.id(alertsQueue)), ...(isInvokedAsynchronously(adapter) ? [arnOf(base.id(adapterFailureQueue!))] : [])];
        expect(sendTargets).toEqual(expect.arrayContaining(allowed));
        expect(sendTargets).toHaveLength(allowed.length);
        expect(actions.filter((action) => /^sqs:(Receive|Delete|ChangeMessage)/.test(action))).toEqual([]);
        const secrets = statements.filter((s) => actionsOf(s).some((action) => action.startsWith("secretsmanager:")));
        if (adapter.transports.includes("http")) {
          expect(secrets).toEqual([
            expect.objectContaining({ Action: "secretsmanager:GetSecretValue", Resource: refTo(base.id(base.stack.webhookToken)) }),
          ]);
          expect(envOf(base, fn.fn)).toMatchObject({ WEBHOOK_TOKEN_SECRET: refTo(base.id(base.stack.webhookToken)) });
        } else {
          expect(secrets).toEqual([]);
        }
        const logs = statements.filter((s) => actionsOf(s).some((action) => action.startsWith("logs:")));
        expect(logs.flatMap(resourcesOf)).toEqual([arnOf(base.id(fn.logGroup))]);
      }
    },
  );

  it("lets the PagerDuty-compatible ingest send to the alerts queue and read the webhook token, and nothing else", () => {
    const { alertsQueue } = base.stack.storage;
    const fn = base.stack.pagerDutyEvents;
    const statements = statementsOf(base.json, base.id(fn.role));
    const actions = statements.flatMap(actionsOf);
    expect(
      actions.filter(
        (action) => !/^(sqs:(SendMessage|GetQueueAttributes|GetQueueUrl)|secretsmanager:GetSecretValue|logs:.*)$/.test(action),
      ),
    ).toEqual([]);
    expect(statements.filter((s) => actionsOf(s).includes("sqs:SendMessage")).flatMap(resourcesOf)).toEqual([arnOf(base.id(alertsQueue))]);
    expect(statements.filter((s) => actionsOf(s).some((action) => action.startsWith("secretsmanager:")))).toEqual([
      expect.objectContaining({ Action: "secretsmanager:GetSecretValue", Resource: refTo(base.id(base.stack.webhookToken)) }),
    ]);
    expect(statements.filter((s) => actionsOf(s).some((action) => action.startsWith("logs:"))).flatMap(resourcesOf)).toEqual([
      arnOf(base.id(fn.logGroup)),
    ]);
  });

  it(
    "lets the router consume the queue, dead-letter to the DLQ, use its tables " +
      "and its routing keys — but not send to the alerts queue",
    () => {
      const { alertsQueue, deadLetterQueue, stateTable, windowsTable } = base.stack.storage;
      const statements = statementsOf(base.json, base.id(base.stack.router.role));
      const on = (resource: unknown) =>
        statements.filter((s) => resourcesOf(s).some((r) => JSON.stringify(r) === JSON.stringify(resource))).flatMap(actionsOf);
      expect(on(arnOf(base.id(alertsQueue)))).toEqual(
        expect.arrayContaining(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]),
      );
      expect(on(arnOf(base.id(alertsQueue)))).not.toContain("sqs:SendMessage");
      expect(on(arnOf(base.id(deadLetterQueue)))).toContain("sqs:SendMessage");
      expect(on(arnOf(base.id(stateTable))).sort()).toEqual(["dynamodb:GetItem", "dynamodb:UpdateItem"]);
      expect(on(arnOf(base.id(windowsTable))).every((action) => /^dynamodb:(GetItem|Query|Scan)$/.test(action))).toBe(true);
      const secretStatement = statements.find((s) => actionsOf(s).includes("secretsmanager:GetSecretValue"))!;
      expect(JSON.stringify(secretStatement.Resource)).toContain(":secret:alert-relay/prod/routing-keys/*");
      expect(envOf(base, base.stack.router.fn)).toMatchObject({
        ROUTING_KEYS_SECRET_PREFIX: "alert-relay/prod/routing-keys",
        STATE_TABLE_NAME: refTo(base.id(stateTable)),
        WINDOWS_TABLE_NAME: refTo(base.id(windowsTable)),
        DLQ_URL: refTo(base.id(deadLetterQueue)),
        MAX_RECEIVE_COUNT: String(PIPELINE.maxReceiveCount),
        PAGERDUTY_REGION: "us",
      });
      expect(envOf(base, base.stack.router.fn).ROUTES_JSON).toBeUndefined();
    },
  );

  it("lets the sweep query the watch index and read windows and keys, with no queue access at all", () => {
    const statements = statementsOf(base.json, base.id(base.stack.sweep.role));
    expect(statements.flatMap(actionsOf).filter((action) => action.startsWith("sqs:"))).toEqual([]);
    const query = statements.find((s) => JSON.stringify(s.Resource).includes(`/index/${STATE_TABLE.watchIndex}`))!;
    expect(actionsOf(query)).toEqual(["dynamodb:Query"]);
    expect(statements.some((s) => actionsOf(s).includes("secretsmanager:GetSecretValue"))).toBe(true);
  });

  it("puts no secret into the template: not the local key or token, nothing shaped like a PagerDuty key", () => {
    const text = JSON.stringify(base.json);
    for (const value of Object.values(LEAK_CANDIDATES)) expect(text).not.toContain(value);
    const logicalIds = new Set(Object.keys(base.json.Resources));
    const suspicious = stringValues(base.json)
      .flatMap((value) => value.match(PAGERDUTY_KEY) ?? [])
      .filter((match) => !logicalIds.has(match));
    expect(suspicious).toEqual([]);
    // The token secret's value is generated by Secrets Manager at deploy time.
    base.template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: Match.objectLike({ ExcludePunctuation: true }),
    });
  });
});

describe("operations", () => {
  const alarms = () => ofType(base.json, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties!);
  const opsTopic = () => refTo(base.id(base.stack.operations.topic));

  it("sends every ops alarm, and its recovery, to the ops topic only", () => {
    const prefix = opsAlarmPrefix(base.stack.stackName);
    expect(alarms().length).toBeGreaterThanOrEqual(7);
    for (const alarm of alarms()) {
      expect(alarm.AlarmName as string).toMatch(new RegExp(`^${prefix}`));
      expect(alarm.AlarmActions).toEqual([opsTopic()]);
      expect(alarm.OKActions).toEqual([opsTopic()]);
    }
  });

  it("alarms on DLQ depth, queue age, router and sweep errors, PagerDuty delivery failures and malformed windows", () => {
    const named = (suffix: string) => alarms().find((alarm) => (alarm.AlarmName as string).endsWith(suffix))!;
    expect(named("dlq-not-empty")).toMatchObject({
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [base.id(base.stack.storage.deadLetterQueue), "QueueName"] } }],
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    });
    expect(named("queue-age-high")).toMatchObject({ MetricName: "ApproximateAgeOfOldestMessage", Threshold: 900 });
    expect(named("router-errors")).toMatchObject({ MetricName: "Errors", Namespace: "AWS/Lambda" });
    expect(named("sweep-errors")).toMatchObject({ MetricName: "Errors", Namespace: "AWS/Lambda" });
    expect(named("malformed-windows")).toMatchObject({
      MetricName: METRIC.malformedWindows,
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: "service", Value: "alert-relay" }],
    });
    const delivery = JSON.stringify(named("pagerduty-delivery-failures").Metrics);
    for (const fragment of [METRIC.routerOutcomes, '"Value":"retry"', '"Value":"rejected"', METRIC.deadLettered, '"Value":"exhausted"'])
      expect(delivery).toContain(fragment);
    expect(named("adapter-failures-not-empty")).toMatchObject({ MetricName: "ApproximateNumberOfMessagesVisible" });
  });

  it("leaves the ops topic without a subscription when no endpoint is given", () => {
    const opsTopicId = base.id(base.stack.operations.topic);
    expect(
      ofType(base.json, "AWS::SNS::Subscription").filter(([, s]) => JSON.stringify(s.Properties?.TopicArn).includes(opsTopicId)),
    ).toEqual([]);
  });

  it("names the dashboard after the stack and the region, so one stage in two regions does not collide", () => {
    const [, dashboard] = ofType(base.json, "AWS::CloudWatch::Dashboard")[0]!;
    expect(dashboard.Properties!.DashboardName).toEqual({ "Fn::Join": ["", [`${base.stack.stackName}-`, { Ref: "AWS::Region" }]] });
  });

  it("turns each function's count lines into the counted metrics, under their one dimension, with a metric filter", () => {
    const filtersOn = (fn: { logGroup: IConstruct }) =>
      ofType(base.json, "AWS::Logs::MetricFilter")
        .filter(([, filter]) => JSON.stringify(filter.Properties!.LogGroupName) === JSON.stringify(refTo(base.id(fn.logGroup))))
        .map(([, { Properties }]) => ({
          FilterPattern: Properties!.FilterPattern,
          MetricTransformations: Properties!.MetricTransformations,
        }));
    const filterFor = (name: CountedMetric) => ({
      FilterPattern: `{ $.${name} > 0 }`,
      MetricTransformations: [
        {
          MetricNamespace: METRICS_NAMESPACE,
          MetricName: name,
          MetricValue: `$.${name}`,
          Dimensions: [{ Key: COUNTED[name], Value: `$.${COUNTED[name]}` }],
          Unit: "Count",
        },
      ],
    });
    expect(filtersOn(base.stack.router)).toEqual([METRIC.routerOutcomes, METRIC.pagerDutyEvents, METRIC.deadLettered].map(filterFor));
    expect(filtersOn(base.stack.pagerDutyEvents)).toEqual([filterFor(METRIC.alertsAccepted)]);
    for (const fn of base.stack.adapterFunctions.values()) expect(filtersOn(fn)).toEqual([filterFor(METRIC.alertsAccepted)]);
    expect(filtersOn(base.stack.sweep)).toEqual([]);
    // The alarm reads them as the filters publish them: no `service` dimension.
    const [, alarm] = ofType(base.json, "AWS::CloudWatch::Alarm").find(([, a]) =>
      JSON.stringify(a.Properties!.AlarmName).includes("pagerduty-delivery-failures"),
    )!;
    const metrics = (alarm.Properties!.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] } } }[])
      .flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []))
      .filter((m) => isCounted(m.MetricName));
    expect(metrics.map((m) => m.Dimensions)).toEqual([
      [{ Name: "outcome", Value: "retry" }],
      [{ Name: "outcome", Value: "rejected" }],
      [{ Name: "reason", Value: "rejected" }],
      [{ Name: "reason", Value: "exhausted" }],
    ]);
  });

  it("charts what came in, went out, was suppressed or rejected, and what got stuck", () => {
    const body = JSON.stringify(ofType(base.json, "AWS::CloudWatch::Dashboard")[0]![1].Properties!.DashboardBody);
    for (const metric of [
      METRIC.alertsAccepted,
      METRIC.pagerDutyEvents,
      METRIC.routerOutcomes,
      METRIC.requestsRejected,
      METRIC.deadLettered,
      "ApproximateNumberOfMessagesVisible",
      "ApproximateAgeOfOldestMessage",
      "Duration",
      "Errors",
    ]) {
      expect(body).toContain(metric);
    }
    for (const source of [...adapters.map((adapter) => adapter.name), "events-v2"]) expect(body).toContain(`\\"source\\",\\"${source}\\"`);
  });

  it("publishes the output keys the CLI reads, one webhook URL per http adapter, the token secret and the key prefix", () => {
    const outputs = Object.keys(base.json.Outputs ?? {});
    expect(outputs).toEqual(
      expect.arrayContaining([
        ...Object.values(STACK_OUTPUTS),
        ...using("http").map((adapter) => webhookUrlOutput(adapter.name)),
        "WebhookTokenSecretArn",
        "RoutingKeysSecretPrefix",
      ]),
    );
    // The root, as the CLI's `send` and the local stack descriptor have it: they append webhooks/<source>.
    const baseUrl = JSON.stringify(base.json.Outputs![STACK_OUTPUTS.webhookBaseUrl]!.Value);
    expect(baseUrl).toMatch(/^\{"Fn::Join":\["",\["https:\/\/",/);
    expect(baseUrl).toMatch(/\/"\]\]\}$/);
    expect(baseUrl).not.toContain("webhooks");
    expect(JSON.stringify(base.json.Outputs![webhookUrlOutput("prometheus")]!.Value)).toContain("/webhooks/prometheus");
    expect(base.json.Outputs![STACK_OUTPUTS.alarmTopicArn]!.Value).toEqual(refTo(base.id(base.stack.ingress.alarmTopic.topic)));
  });
});

describe("cdk-nag", () => {
  it("leaves no unacknowledged AwsSolutions error or warning", () => {
    const annotations = Annotations.fromStack(base.stack);
    expect(annotations.findError("*", Match.stringLikeRegexp("AwsSolutions-.*"))).toEqual([]);
    expect(annotations.findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"))).toEqual([]);
    expect(base.findings.findings).toEqual([]);
  });

  it("fails synthesis on a finding nobody acknowledged", () => {
    let collected: NagFindingCollector | undefined;
    const addUnencryptedQueue = ({ stack, findings }: AlertRelayApp) => {
      collected = findings;
      new sqs.Queue(stack, "Unencrypted", { encryption: sqs.QueueEncryption.UNENCRYPTED });
    };
    // cdk.json's validation flags turn nag's error annotations into a failed synthesis; app.ts also fails on warnings.
    expect(() => synth({}, { beforeSynth: addUnencryptedQueue })).toThrow(/AwsSolutions-SQS2/);
    expect(collected!.findings.map((finding) => finding.ruleId)).toEqual(
      expect.arrayContaining(["AwsSolutions-SQS2", "AwsSolutions-SQS3", "AwsSolutions-SQS4"]),
    );
  });
});

describe("settings", () => {
  let custom: Synthesized;
  beforeAll(() => {
    custom = synth({
      stage: "staging",
      pagerDutyRegion: "eu",
      alarmStateChangeRule: "true",
      removalPolicy: "destroy",
      routesFile: "config/routes.example.json",
      routerMaxConcurrency: "20",
      routerBatchSize: 50,
      routerMaxBatchingWindowSeconds: 2,
      logRetentionDays: 90,
      opsAlarmEndpoint: "secretsmanager:alert-relay/staging/ops-alarm-endpoint",
      webhookTokenSecretName: "alert-relay/staging/webhook-token",
      secretsKmsKeyArns: `${SECRETS_KEY}, ${SECRETS_KEY}`,
      adapterSettings: { cloudwatch: { CLOUDWATCH_DEFAULT_SEVERITY: "critical" } },
    });
  });

  it("grants kms:Decrypt on the secrets' customer-managed key, through Secrets Manager only, to every function that reads a secret", () => {
    const readers = [
      custom.stack.router,
      custom.stack.sweep,
      custom.stack.pagerDutyEvents,
      ...using("http").map((adapter) => custom.stack.adapterFunctions.get(adapter.name)!),
    ];
    for (const reader of readers) {
      const decrypt = statementsOf(custom.json, custom.id(reader.role)).filter((statement) => actionsOf(statement).includes("kms:Decrypt"));
      expect(decrypt).toEqual([
        expect.objectContaining({
          Action: "kms:Decrypt",
          Resource: SECRETS_KEY,
          Condition: {
            StringEquals: { "kms:ViaService": { "Fn::Join": ["", ["secretsmanager.", { Ref: "AWS::Region" }, ".amazonaws.com"]] } },
          },
        }),
      ]);
    }
    // Without the setting nobody gets it.
    for (const reader of [base.stack.router, base.stack.pagerDutyEvents]) {
      expect(
        statementsOf(base.json, base.id(reader.role)).filter((statement) =>
          JSON.stringify(statement.Condition ?? {}).includes("kms:ViaService"),
        ),
      ).toEqual([]);
    }
  });

  it("names the stack, secrets prefix and PagerDuty region after the stage and settings", () => {
    expect(custom.stack.stackName).toBe("alert-relay-staging");
    expect(envOf(custom, custom.stack.router.fn)).toMatchObject({
      PAGERDUTY_REGION: "eu",
      ROUTING_KEYS_SECRET_PREFIX: "alert-relay/staging/routing-keys",
    });
    expect(envOf(custom, custom.stack.adapterFunctions.get("cloudwatch")!.fn)).toMatchObject({ CLOUDWATCH_DEFAULT_SEVERITY: "critical" });
    expect(envOf(custom, custom.stack.adapterFunctions.get("prometheus")!.fn).CLOUDWATCH_DEFAULT_SEVERITY).toBeUndefined();
  });

  it("passes validated routes to the router and the sweep as ROUTES_JSON (key names only)", () => {
    for (const fn of [custom.stack.router.fn, custom.stack.sweep.fn]) {
      const routes = JSON.parse(envOf(custom, fn).ROUTES_JSON as string) as { defaultRoute: { routingKey: string } };
      expect(routes.defaultRoute.routingKey).toBe("default");
    }
  });

  it("applies batching, concurrency, retention and the destroy policy", () => {
    custom.template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 2,
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    for (const [, table] of ofType(custom.json, "AWS::DynamoDB::Table")) {
      expect(table.DeletionPolicy).toBe("Delete");
      expect(table.Properties).toMatchObject({ DeletionProtectionEnabled: false });
    }
    for (const [, group] of ofType(custom.json, "AWS::Logs::LogGroup")) expect(group.Properties).toMatchObject({ RetentionInDays: 90 });
  });

  it("routes every CloudWatch alarm state change to the eventbridge adapters, except the ops alarms", () => {
    const [, rule] = ofType(custom.json, "AWS::Events::Rule").find(([, r]) => r.Properties?.EventPattern !== undefined)!;
    expect(rule.Properties!.EventPattern).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: [{ "anything-but": { prefix: opsAlarmPrefix("alert-relay-staging") } }] },
    });
    const targets = rule.Properties!.Targets as { Arn: unknown; DeadLetterConfig?: unknown }[];
    expect(targets.map((target) => target.Arn)).toEqual(
      using("eventbridge").map((adapter) => arnOf(custom.id(custom.stack.adapterFunctions.get(adapter.name)!.fn))),
    );
    for (const target of targets) expect(target.DeadLetterConfig).toBeDefined();
  });

  it("subscribes the ops endpoint from a secret, resolved by CloudFormation, and reads a named token secret", () => {
    custom.template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "https",
      TopicArn: refTo(custom.id(custom.stack.operations.topic)),
      Endpoint: "{{resolve:secretsmanager:alert-relay/staging/ops-alarm-endpoint:SecretString:::}}",
    });
    custom.template.resourceCountIs("AWS::SecretsManager::Secret", 0);
    expect(envOf(custom, custom.stack.adapterFunctions.get("prometheus")!.fn)).toMatchObject({
      WEBHOOK_TOKEN_SECRET: "alert-relay/staging/webhook-token",
    });
    const statements = statementsOf(custom.json, custom.id(custom.stack.adapterFunctions.get("prometheus")!.role));
    expect(JSON.stringify(statements)).toContain(":secret:alert-relay/staging/webhook-token-??????");
    expect(custom.findings.findings).toEqual([]);
  });

  it("deploys a subset of sources, and only what they need", () => {
    const s = synth({ sources: "prometheus", opsAlarmEndpoint: "https://ops.example.com/cloudwatch" });
    // The adapter, the PagerDuty-compatible ingest (always deployed), the router and the sweep.
    expect(functionsOf(s)).toHaveLength(4);
    s.template.resourceCountIs("AWS::ApiGatewayV2::Route", 3);
    expect(ofType(s.json, "AWS::SNS::Subscription").map(([, sub]) => sub.Properties)).toEqual([
      expect.objectContaining({ Protocol: "https", Endpoint: "https://ops.example.com/cloudwatch" }),
    ]);
    expect(s.stack.storage.adapterFailureQueue).toBeUndefined();
    expect(
      ofType(s.json, "AWS::Lambda::Permission").filter(([, p]) => p.Properties?.Principal === "lambda.alarms.cloudwatch.amazonaws.com"),
    ).toEqual([]);
    expect(Object.keys(s.json.Outputs ?? {}).filter((key) => key.startsWith("WebhookUrl"))).toEqual([webhookUrlOutput("prometheus")]);
    expect(s.findings.findings).toEqual([]);
  });

  it("refuses bad settings with every problem named", () => {
    let error: unknown;
    try {
      resolveSettings(
        {
          sources: "prometheus,nagios",
          pagerDutyRegion: "ap",
          alarmStateChangeRule: "yes",
          logRetentionDays: 31,
          routerMaxConcurrency: 1,
          routes: {
            routes: [{ name: "x", matchers: ["team=a"], routingKey: "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345" }],
            defaultRoute: { routingKey: "default" },
          },
          opsAlarmEndpoint: `https://events.pagerduty.com/integration/${"a1".repeat(16)}/enqueue`,
          adapterSettings: { prometheus: { ALERTS_QUEUE_URL: "x" } },
          secretsKmsKeyArns: "arn:aws:kms:eu-west-1:123456789012:alias/secrets",
        },
        { baseDir: PROJECT_ROOT },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const message = (error as SettingsError).message;
    for (const fragment of [
      '"nagios"',
      "pagerDutyRegion",
      "alarmStateChangeRule",
      "logRetentionDays",
      "routerMaxConcurrency",
      "looks like a PagerDuty routing key",
      "opsAlarmEndpoint contains an integration key",
      "ALERTS_QUEUE_URL",
      'secretsKmsKeyArns: "arn:aws:kms:eu-west-1:123456789012:alias/secrets" is not a KMS key ARN',
      "aws kms describe-key",
    ]) {
      expect(message).toContain(fragment);
    }
    expect(message).not.toContain("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    expect(message).not.toContain("a1".repeat(16));
  });

  it("fails synth on an adapter setting the adapter itself rejects", () => {
    expect(() => resolveSettings({ adapterSettings: JSON.stringify({ cloudwatch: { CLOUDWATCH_DEFAULT_SEVERITY: "loud" } }) })).toThrow(
      /adapterSettings\.cloudwatch: .*CLOUDWATCH_DEFAULT_SEVERITY/,
    );
  });
});

const BUNDLE_LOAD_ENV = bundleLoadEnv(adapters[0]!.name);

describe("bundling (real, offline, local esbuild)", () => {
  // Inside the project, so the bundles' external @aws-sdk/* imports resolve as the Lambda runtime resolves them.
  const outdir = join(PROJECT_ROOT, "node_modules", ".cache", "alert-relay-test", `cdk.out-${process.pid}`);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it("bundles every function with the local esbuild into a loadable ES module with a source map", () => {
    mkdirSync(outdir, { recursive: true });
    synth({}, { bundle: true, outdir });
    const assets = readdirSync(outdir).filter((name) => name.startsWith("asset."));
    // Every adapter shares one bundle; the PagerDuty-compatible ingest, the router and the sweep have their own.
    expect(assets).toHaveLength(4);
    for (const asset of assets) {
      const bundle = join(outdir, asset, "index.mjs");
      expect(existsSync(`${bundle}.map`)).toBe(true);
      const child = spawnSync(
        join(PROJECT_ROOT, "node_modules", ".bin", "node"),
        ["--input-type=module", "-e", "console.log(typeof (await import(process.argv[1])).handler)", pathToFileURL(bundle).href],
        {
          env: { PATH: process.env.PATH ?? "", ...BUNDLE_LOAD_ENV },
          encoding: "utf8",
        },
      );
      expect(child.stderr).toBe("");
      expect(child.stdout.trim()).toBe("function");
    }
  }, 60_000);
});
