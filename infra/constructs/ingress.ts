/**
 * Every way an alert reaches an adapter, derived from the adapters' `transports`: an HTTP API
 * route per "http" adapter, the alarm topic for "sns", an optional EventBridge rule for
 * "eventbridge", and a resource policy letting CloudWatch alarm actions call "invoke" adapters.
 */
import { ArnFormat, Duration, Stack, type RemovalPolicy } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { Adapter, Transport } from "../../lib/adapters/types.ts";
import { ALERT_EVENTS_PATH, CHANGE_EVENTS_PATH } from "../../lib/ingest/pagerduty-events/events-v2.ts";
import { AlarmTopic } from "./alarm-topic.ts";

export interface DeployedAdapter {
  adapter: Adapter<unknown>;
  fn: lambda.IFunction;
}

export interface IngressProps {
  adapters: readonly DeployedAdapter[];
  /** The PagerDuty-compatible ingest: POST /v2/enqueue and /v2/change/enqueue, Events API v2 bodies. */
  pagerDutyEvents?: lambda.IFunction;
  topicKey: kms.IKey;
  throttle: { rateLimit: number; burstLimit: number };
  alarmStateChangeRule: boolean;
  /** Alarms whose names start with this watch the pipeline; feeding them back into it would hide its own failures. */
  opsAlarmPrefix: string;
  failureQueue: sqs.IQueue | undefined;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

export const WEBHOOK_PATH_PREFIX = "/webhooks/";
/** PagerDuty's own paths, so a sender only swaps the base URL (lib/ingest/pagerduty-events/events-v2.ts). */
export const PAGERDUTY_EVENTS_PATHS = [ALERT_EVENTS_PATH, CHANGE_EVENTS_PATH] as const;

/**
 * One access log line per request (cdk-nag AwsSolutions-APIG1), with what traces a request and
 * nothing that may carry the token (no headers, no body): request id, time, source IP, route,
 * status, latency (ms) and the integration's error, if any; the time in epoch milliseconds. Short keys, as every request pays for
 * them (issue 15: log bytes per alert); docs/deploy.md names each.
 */
export const ACCESS_LOG_FIELDS = {
  id: "$context.requestId",
  time: "$context.requestTimeEpoch",
  ip: "$context.identity.sourceIp",
  route: "$context.routeKey",
  status: "$context.status",
  ms: "$context.responseLatency",
  err: "$context.integrationErrorMessage",
};

function using(adapters: readonly DeployedAdapter[], transport: Transport): DeployedAdapter[] {
  return adapters.filter(({ adapter }) => adapter.transports.includes(transport));
}

export class Ingress extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly alarmTopic: AlarmTopic;
  readonly alarmStateChangeRule: events.Rule | undefined;
  /** Source name → full webhook URL, for every "http" adapter. */
  readonly webhookUrls = new Map<string, string>();

  constructor(scope: Construct, id: string, props: IngressProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.api = new apigw.HttpApi(this, "Api", {
      description:
        `alert-relay webhooks: POST /webhooks/<source>, and PagerDuty Events API v2 ` +
        `at POST ${ALERT_EVENTS_PATH} and ${CHANGE_EVENTS_PATH}`,
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, "AccessLogs", { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.stage = new apigw.HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    for (const { adapter, fn } of using(props.adapters, "http")) {
      this.api.addRoutes({
        path: `${WEBHOOK_PATH_PREFIX}${adapter.name}`,
        methods: [apigw.HttpMethod.POST],
        integration: new HttpLambdaIntegration(`${adapter.name}-integration`, fn, {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
          timeout: Duration.seconds(29),
        }),
      });
      this.webhookUrls.set(adapter.name, `${this.stage.url}${WEBHOOK_PATH_PREFIX.slice(1)}${adapter.name}`);
    }

    if (props.pagerDutyEvents) {
      const integration = new HttpLambdaIntegration("pagerduty-events-integration", props.pagerDutyEvents, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        timeout: Duration.seconds(29),
      });
      for (const path of PAGERDUTY_EVENTS_PATHS) this.api.addRoutes({ path, methods: [apigw.HttpMethod.POST], integration });
    }

    this.alarmTopic = new AlarmTopic(this, "AlarmTopic", {
      displayName: "alert-relay: CloudWatch alarms to relay to PagerDuty",
      key: props.topicKey,
      alarmNamePattern: "*",
    });
    for (const { fn } of using(props.adapters, "sns")) {
      // SNS's own retries end here too when Lambda keeps refusing the delivery (throttling, a deleted function).
      this.alarmTopic.topic.addSubscription(new subscriptions.LambdaSubscription(fn, { deadLetterQueue: props.failureQueue }));
    }

    const eventBridgeAdapters = using(props.adapters, "eventbridge");
    if (props.alarmStateChangeRule && eventBridgeAdapters.length > 0) {
      this.alarmStateChangeRule = new events.Rule(this, "AlarmStateChangeRule", {
        description: "alert-relay: every CloudWatch alarm state change in this account and region, except the pipeline's own ops alarms",
        eventPattern: {
          source: ["aws.cloudwatch"],
          detailType: ["CloudWatch Alarm State Change"],
          detail: { alarmName: events.Match.anythingButPrefix(props.opsAlarmPrefix) },
        },
        targets: eventBridgeAdapters.map(
          ({ fn }) =>
            new targets.LambdaFunction(fn, { deadLetterQueue: props.failureQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) }),
        ),
      });
    }

    for (const { adapter, fn } of using(props.adapters, "invoke")) {
      fn.addPermission(`AlarmActionInvoke-${adapter.name}`, {
        principal: new iam.ServicePrincipal("lambda.alarms.cloudwatch.amazonaws.com"),
        action: "lambda:InvokeFunction",
        sourceAccount: stack.account,
        sourceArn: stack.formatArn({
          service: "cloudwatch",
          resource: "alarm",
          resourceName: "*",
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      });
    }
  }

  /**
   * The API's root, `https://<api>/`: what the CLI (`alert-relay send`) and the local stack call the
   * webhook base URL, each appending `webhooks/<source>`.
   */
  get webhookBaseUrl(): string {
    return this.stage.url;
  }
}
