/**
 * One alert-relay Lambda function with the defaults every one of them shares: Node 24 on arm64,
 * a local esbuild bundle, its own log group with retention, JSON logs, Powertools settings, and a
 * role that starts with nothing but writing to that log group (no managed policies).
 */
import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import * as cw from "aws-cdk-lib/aws-cloudwatch";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, LogLevel, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { COUNTED, METRICS_NAMESPACE, SERVICE_NAME, type CountedMetric } from "../../lib/platform/observability.ts";
import { BUNDLE, FUNCTION_ENTRIES, PROJECT_ROOT, SYSTEM_LOG_LEVEL, type FunctionKind } from "../bundling.ts";

export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface PipelineFunctionProps {
  kind: FunctionKind;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
  /** Where Lambda puts asynchronous invocations (SNS, EventBridge, alarm actions) that failed every retry. */
  deadLetterQueue?: sqs.IQueue;
  /** The count lines this function writes (lib/platform/observability.ts): a metric filter each turns them into metrics. */
  counted?: readonly CountedMetric[];
}

export class PipelineFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, "Logs", { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      // IAM accepts Latin-1 only; an adapter's description may say "→".
      description: props.description.replace(/[^\t\n\r\x20-\x7E\xA1-\xFF]/g, "-").slice(0, 1000),
    });
    // Instead of AWSLambdaBasicExecutionRole, which may write to every log group in the account.
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, "Function", {
      entry: FUNCTION_ENTRIES[props.kind],
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: props.description.slice(0, 256),
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel[SYSTEM_LOG_LEVEL],
      deadLetterQueue: props.deadLetterQueue,
      ...(props.deadLetterQueue ? { retryAttempts: 2, maxEventAge: Duration.hours(6) } : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: "INFO",
        ...props.environment,
      },
      bundling: {
        // Local esbuild from node_modules, never Docker: synth works offline on a clean clone.
        forceDockerBundling: false,
        target: BUNDLE.target,
        format: BUNDLE.format === "esm" ? OutputFormat.ESM : OutputFormat.CJS,
        minify: BUNDLE.minify,
        sourceMap: BUNDLE.sourceMap,
        sourcesContent: BUNDLE.sourcesContent,
        externalModules: [...BUNDLE.externalModules],
        mainFields: [...BUNDLE.mainFields],
        logLevel: LogLevel.WARNING,
      },
    });
    for (const name of props.counted ?? []) {
      const dimension = COUNTED[name];
      new logs.MetricFilter(this, `Count${name}`, {
        logGroup: this.logGroup,
        filterPattern: logs.FilterPattern.numberValue(`$.${name}`, ">", 0),
        metricNamespace: METRICS_NAMESPACE,
        metricName: name,
        metricValue: `$.${name}`,
        dimensions: { [dimension]: `$.${dimension}` },
        unit: cw.Unit.COUNT,
      });
    }
  }
}
