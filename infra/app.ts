/**
 * The CDK app (`cdk synth`, `cdk deploy`): settings come from cdk.json and `-c key=value`
 * (see docs/deploy.md). Synthesis fails on a bad setting and on any cdk-nag finding, error or
 * warning, that the stack does not acknowledge with a reason.
 */
import { buildApp } from "./alert-relay-app.ts";
import { SettingsError } from "./settings.ts";

try {
  const { app, findings } = buildApp();
  app.synth();
  if (findings.findings.length > 0) {
    console.error(`cdk-nag: ${findings.findings.length} unacknowledged finding(s):\n${findings.report()}`);
    console.error("Fix them, or acknowledge one with a reason in infra/nag.ts.");
    process.exitCode = 1;
  }
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
