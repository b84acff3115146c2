/**
 * cdk-nag: the findings this stack acknowledges, each with the reason it is acceptable, and a
 * logger that collects every finding left unacknowledged so the app can refuse to synthesize.
 */
import { NagMessageLevel, NagSuppressions, type INagLogger, type NagLoggerErrorData, type NagLoggerNonComplianceData } from "cdk-nag";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { Ingress } from "./constructs/ingress.ts";
import type { PipelineFunction } from "./constructs/pipeline-function.ts";
import type { AlertRelaySettings } from "./settings.ts";

export interface NagFinding {
  ruleId: string;
  level: "error" | "warning";
  resource: string;
  info: string;
}

export class NagFindingCollector implements INagLogger {
  readonly findings: NagFinding[] = [];

  onNonCompliance(data: NagLoggerNonComplianceData): void {
    this.findings.push({
      ruleId: data.findingId ? `${data.ruleId}[${data.findingId}]` : data.ruleId,
      level: data.ruleLevel === NagMessageLevel.ERROR ? "error" : "warning",
      resource: data.resource.node.path,
      info: data.ruleInfo,
    });
  }

  onError(data: NagLoggerErrorData): void {
    this.findings.push({
      ruleId: data.ruleId,
      level: "error",
      resource: data.resource.node.path,
      info: `the rule could not run: ${data.errorMessage}`,
    });
  }

  onCompliance(): void {}
  onSuppressed(): void {}
  onSuppressedError(): void {}
  onNotApplicable(): void {}

  report(): string {
    return this.findings.map((finding) => `  ${finding.level} ${finding.ruleId} on ${finding.resource}: ${finding.info}`).join("\n");
  }
}

/** The reasons, kept apart so docs/deploy.md and the tests can quote them. */
export const ACKNOWLEDGED = {
  webhookRoutesWithoutAuthorizer:
    "Webhook senders (Alertmanager, Datadog, CloudWatch via SNS HTTPS) can send a " +
    "static Authorization header but not SigV4, Cognito or JWT; " +
    "each adapter checks a bearer/basic token from Secrets Manager in constant time and answers 401 before parsing the body; " +
    "PagerDuty senders (/v2/enqueue) carry the token as the body's routing_key, checked the same way before the event is read.",
  routingKeysByPrefix:
    "Routing keys are separate secrets <prefix>/<name> that operators create after deploying (each secret ARN ends in a random suffix); " +
    "the grant is GetSecretValue only, limited to that prefix.",
  webhookTokenByName:
    "The webhook token secret is referenced by name (webhookTokenSecretName); its ARN " +
    "ends in a random 6-character suffix that only a wildcard can match.",
  webhookTokenRotation:
    "The token is shared with external senders (Alertmanager, Datadog), so rotating it means changing their configuration too; " +
    "operators rotate it with put-secret-value and the adapters pick the new value up within 5 minutes without a deploy.",
} as const;

/** What of the stack the acknowledgements name (the stack passes itself; nag.ts does not import it). */
export interface AcknowledgedResources {
  readonly settings: Pick<AlertRelaySettings, "routingKeysSecretPrefix" | "webhookTokenSecretName">;
  readonly ingress: Pick<Ingress, "api">;
  readonly router: Pick<PipelineFunction, "role">;
  readonly sweep: Pick<PipelineFunction, "role">;
  readonly pagerDutyEvents: Pick<PipelineFunction, "role">;
  readonly adapterFunctions: ReadonlyMap<string, Pick<PipelineFunction, "role">>;
  readonly webhookToken: ISecret;
}

export function acknowledgeFindings(stack: AcknowledgedResources): void {
  NagSuppressions.addResourceSuppressions(
    stack.ingress.api,
    [{ id: "AwsSolutions-APIG4", reason: ACKNOWLEDGED.webhookRoutesWithoutAuthorizer }],
    true,
  );

  const routingKeys =
    "Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:" + `secret:${stack.settings.routingKeysSecretPrefix}/*`;
  for (const fn of [stack.router, stack.sweep]) {
    NagSuppressions.addResourceSuppressions(
      fn.role,
      [{ id: "AwsSolutions-IAM5", reason: ACKNOWLEDGED.routingKeysByPrefix, appliesTo: [routingKeys] }],
      true,
    );
  }

  if (stack.settings.webhookTokenSecretName) {
    const tokenArn = /^Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:.+-\?{6}$/;
    for (const fn of [...stack.adapterFunctions.values(), stack.pagerDutyEvents]) {
      NagSuppressions.addResourceSuppressions(
        fn.role,
        [{ id: "AwsSolutions-IAM5", reason: ACKNOWLEDGED.webhookTokenByName, appliesTo: [{ regex: `/${tokenArn.source}/` }] }],
        true,
      );
    }
  } else {
    NagSuppressions.addResourceSuppressions(stack.webhookToken, [{ id: "AwsSolutions-SMG4", reason: ACKNOWLEDGED.webhookTokenRotation }]);
  }
}
