/**
 * The pipeline's state: the alerts queue and its DLQ, the queue for adapter invocations that
 * failed every retry, and the two DynamoDB tables. Shapes come from lib/handlers/pipeline.ts,
 * which the local stack reads too, so both build the same thing.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { PIPELINE, STATE_TABLE, WINDOWS_TABLE_KEY } from "../../lib/handlers/pipeline.ts";

export interface StorageProps {
  removalPolicy: RemovalPolicy;
  /** Only adapters invoked asynchronously (SNS, EventBridge, alarm actions) need one. */
  adapterFailureQueue: boolean;
}

/** AWS's guidance for SQS event sources: visibility ≥ 6 × the consumer's timeout, so retries inside one receive do not overlap. */
export const MIN_VISIBILITY_TO_TIMEOUT_RATIO = 6;

function attributeType(type: string): dynamodb.AttributeType {
  switch (type) {
    case "S":
      return dynamodb.AttributeType.STRING;
    case "N":
      return dynamodb.AttributeType.NUMBER;
    case "B":
      return dynamodb.AttributeType.BINARY;
    default:
      throw new Error(`unknown DynamoDB attribute type ${JSON.stringify(type)}`);
  }
}

function attribute(name: string): dynamodb.Attribute {
  const definition = STATE_TABLE.attributeDefinitions.find((candidate) => candidate.AttributeName === name);
  if (!definition?.AttributeType) throw new Error(`STATE_TABLE defines no attribute ${JSON.stringify(name)}`);
  return { name, type: attributeType(definition.AttributeType) };
}

function keyOf(schema: readonly { AttributeName?: string; KeyType?: string }[], keyType: "HASH" | "RANGE"): dynamodb.Attribute | undefined {
  const name = schema.find((element) => element.KeyType === keyType)?.AttributeName;
  return name === undefined ? undefined : attribute(name);
}

function projectionType(type: string | undefined): dynamodb.ProjectionType {
  if (type === "KEYS_ONLY") return dynamodb.ProjectionType.KEYS_ONLY;
  if (type === undefined || type === "ALL") return dynamodb.ProjectionType.ALL;
  throw new Error(`STATE_TABLE index projection ${JSON.stringify(type)} is not supported by the stack yet`);
}

function encryptedQueue(scope: Construct, id: string, props: sqs.QueueProps): sqs.Queue {
  return new sqs.Queue(scope, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, ...props });
}

export class PipelineStorage extends Construct {
  readonly alertsQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly adapterFailureQueue: sqs.Queue | undefined;
  readonly stateTable: dynamodb.Table;
  readonly windowsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    if (PIPELINE.visibilityTimeoutSeconds < MIN_VISIBILITY_TO_TIMEOUT_RATIO * PIPELINE.routerTimeoutSeconds) {
      throw new Error(
        `PIPELINE.visibilityTimeoutSeconds (${PIPELINE.visibilityTimeoutSeconds}) must be at least ` +
          `${MIN_VISIBILITY_TO_TIMEOUT_RATIO} × routerTimeoutSeconds (${PIPELINE.routerTimeoutSeconds})`,
      );
    }
    const retention = Duration.days(PIPELINE.deadLetterRetentionDays);
    const { removalPolicy } = props;
    this.deadLetterQueue = encryptedQueue(this, "DeadLetterQueue", { retentionPeriod: retention, removalPolicy });
    this.alertsQueue = encryptedQueue(this, "AlertsQueue", {
      removalPolicy,
      visibilityTimeout: Duration.seconds(PIPELINE.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: PIPELINE.maxReceiveCount },
    });
    // Holds the original SNS/EventBridge/alarm-action event with Lambda's error attributes, so it can be re-invoked.
    this.adapterFailureQueue = props.adapterFailureQueue
      ? encryptedQueue(this, "AdapterFailureQueue", { retentionPeriod: retention, removalPolicy })
      : undefined;

    const tableDefaults = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
    };
    const partitionKey = keyOf(STATE_TABLE.keySchema, "HASH");
    if (!partitionKey) throw new Error("STATE_TABLE.keySchema has no partition key");
    this.stateTable = new dynamodb.Table(this, "StateTable", {
      ...tableDefaults,
      partitionKey,
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
    });
    for (const index of STATE_TABLE.globalSecondaryIndexes) {
      const indexPartitionKey = keyOf(index.KeySchema ?? [], "HASH");
      if (!index.IndexName || !indexPartitionKey) throw new Error("every STATE_TABLE index needs a name and a partition key");
      const sortKey = keyOf(index.KeySchema ?? [], "RANGE");
      this.stateTable.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: indexPartitionKey,
        ...(sortKey ? { sortKey } : {}),
        projectionType: projectionType(index.Projection?.ProjectionType),
      });
    }

    const windowsKey = WINDOWS_TABLE_KEY.partitionKey;
    this.windowsTable = new dynamodb.Table(this, "WindowsTable", {
      ...tableDefaults,
      partitionKey: { name: windowsKey.name, type: attributeType(windowsKey.type) },
    });
  }
}
