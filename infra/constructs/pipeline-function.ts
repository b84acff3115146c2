/**
 * One alert-relay Lambda function with the defaults every one of them shares: Node 24 on arm64,
 * a local esbuild bundle, its own log group with retention, JSON logs, Powertools settings, and a
 * role that starts with nothing but writing to that log group (no managed policies).
 */
import { AssetHashType, DockerImage, Duration, type ILocalBundling, type RemovalPolicy } from "aws-cdk-lib";
import * as cw from "aws-cdk-lib/aws-cloudwatch";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { buildSync } from "esbuild";
import { COUNTED, METRICS_NAMESPACE, SERVICE_NAME, type CountedMetric } from "../../lib/platform/observability.ts";
import { HANDLER, PROJECT_ROOT, SYSTEM_LOG_LEVEL, esbuildOptions, type FunctionKind } from "../bundling.ts";

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
  readonly fn: lambda.Function;
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

    this.fn = new lambda.Function(this, "Function", {
      code: bundledCode(props.kind),
      handler: HANDLER,
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

/**
 * The function's bundle, built by the local esbuild from node_modules with infra/bundling.ts's
 * options (the ones `npm run bench bundles` measures), never in Docker: synth works offline on a
 * clean clone. Hashed by its output, as NodejsFunction hashes: every adapter shares one asset.
 */
function bundledCode(kind: FunctionKind): lambda.Code {
  return lambda.Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: { image: DockerImage.fromRegistry("never-used-local-esbuild-bundles"), local: new LocalEsbuild(kind) },
  });
}

class LocalEsbuild implements ILocalBundling {
  // A field, not a closure: CDK keys its per-synth cache of staged assets on these options' JSON.
  readonly kind: FunctionKind;

  constructor(kind: FunctionKind) {
    this.kind = kind;
  }

  tryBundle(outputDir: string): boolean {
    buildSync({ ...esbuildOptions(this.kind, outputDir), logLevel: "warning" });
    return true;
  }
}
