/**
 * Synthesizes the app as `cdk synth` does (cdk.json's context, cdk-nag on), without bundling
 * unless asked: CDK's own `aws:cdk:bundling-stacks` switch skips esbuild and keeps the rest.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { buildApp, type AlertRelayApp } from "../../infra/alert-relay-app.ts";
import { PROJECT_ROOT } from "../../infra/bundling.ts";
import type { SettingsInput } from "../../infra/settings.ts";

const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8")) as { context: Record<string, unknown> }).context;

export interface Synthesized extends AlertRelayApp {
  template: Template;
  json: CfnTemplate;
  outdir: string;
  /** The logical ID of a construct's CloudFormation resource. */
  id(construct: IConstruct): string;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  Metadata?: Record<string, unknown>;
  UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface SynthOptions {
  bundle?: boolean;
  /** Where the cloud assembly goes; a fresh temporary directory by default. */
  outdir?: string;
  beforeSynth?: (built: AlertRelayApp) => void;
}

export function synth(settings: SettingsInput = {}, options: SynthOptions = {}): Synthesized {
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), "alert-relay-cdk-"));
  const context = { ...CDK_JSON_CONTEXT, ...(options.bundle ? {} : { "aws:cdk:bundling-stacks": [] }) };
  const built = buildApp({ context, settings, outdir });
  options.beforeSynth?.(built);
  const template = Template.fromStack(built.stack);
  return {
    ...built,
    template,
    json: template.toJSON() as CfnTemplate,
    outdir,
    id: (construct) => built.stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement),
  };
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

/** Every statement of the inline policies attached to a role. */
export function statementsOf(json: CfnTemplate, roleLogicalId: string): Statement[] {
  return Object.values(json.Resources)
    .filter((resource) => resource.Type === "AWS::IAM::Policy")
    .filter((policy) => JSON.stringify(policy.Properties?.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((policy) => (policy.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

export function ofType(json: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, resource]) => resource.Type === type);
}
