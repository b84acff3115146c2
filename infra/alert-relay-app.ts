/**
 * Builds the CDK app the way `cdk synth` runs it — settings from context, the stack, cdk-nag's
 * AWS Solutions checks — so the tests check exactly what deploys.
 */
import { App, Aspects } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { PROJECT_ROOT } from "./bundling.ts";
import { NagFindingCollector } from "./nag.ts";
import { resolveSettings, settingsInputFromContext, type SettingsInput } from "./settings.ts";
import { AlertRelayStack } from "./stack.ts";

export interface BuildAppOptions {
  /** Context as cdk.json and `-c` would give it. */
  context?: Record<string, unknown>;
  /** Settings from code; they win over context. */
  settings?: SettingsInput;
  outdir?: string;
}

export interface AlertRelayApp {
  app: App;
  stack: AlertRelayStack;
  /** Filled while the app synthesizes: every cdk-nag finding nobody acknowledged. */
  findings: NagFindingCollector;
}

export function buildApp(options: BuildAppOptions = {}): AlertRelayApp {
  const app = new App({ ...(options.context ? { context: options.context } : {}), ...(options.outdir ? { outdir: options.outdir } : {}) });
  const settings = resolveSettings(
    { ...settingsInputFromContext((key) => app.node.tryGetContext(key)), ...options.settings },
    { baseDir: PROJECT_ROOT },
  );
  // Environment-agnostic on purpose: synth never looks anything up in an AWS account.
  const stack = new AlertRelayStack(app, settings.stackName, {
    settings,
    description: `alert-relay (${settings.stage}): alerts from ${settings.sources.join(", ")} to PagerDuty`,
  });
  const findings = new NagFindingCollector();
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true, additionalLoggers: [findings] }));
  return { app, stack, findings };
}
