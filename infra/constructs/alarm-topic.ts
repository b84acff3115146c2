/**
 * An SNS topic that CloudWatch alarms publish to: encrypted with the stack's key, HTTPS-only, and
 * open to the CloudWatch service only on behalf of this account's alarms (the confused-deputy
 * conditions AWS documents for alarm actions).
 */
import { ArnFormat, Stack, type RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";

const CLOUDWATCH = new iam.ServicePrincipal("cloudwatch.amazonaws.com");

/** Conditions that hold CloudWatch to alarms of this account and region whose name matches. */
export function alarmSourceConditions(scope: Construct, alarmNamePattern: string): Record<string, Record<string, string>> {
  const stack = Stack.of(scope);
  return {
    StringEquals: { "aws:SourceAccount": stack.account },
    ArnLike: {
      "aws:SourceArn": stack.formatArn({
        service: "cloudwatch",
        resource: "alarm",
        resourceName: alarmNamePattern,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    },
  };
}

/** A customer-managed key: CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key. */
export function createTopicKey(scope: Construct, id: string, removalPolicy: RemovalPolicy): kms.Key {
  const key = new kms.Key(scope, id, {
    description: "alert-relay: encrypts the alarm topics CloudWatch publishes to",
    enableKeyRotation: true,
    removalPolicy,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchAlarmsPublishToEncryptedTopics",
      principals: [CLOUDWATCH],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
      conditions: alarmSourceConditions(scope, "*"),
    }),
  );
  return key;
}

export interface AlarmTopicProps {
  displayName: string;
  key: kms.IKey;
  /** Which alarms may publish, e.g. `*` for the ingress topic, `<stack>-*` for the ops topic. */
  alarmNamePattern: string;
}

export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, "Topic", { displayName: props.displayName, masterKey: props.key, enforceSSL: true });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarmsPublish",
        principals: [CLOUDWATCH],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: alarmSourceConditions(this, props.alarmNamePattern),
      }),
    );
  }
}
