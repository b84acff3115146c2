/**
 * Where commands act: a local stack descriptor, or a deployed stack's CloudFormation outputs
 * (CloudFormation faked, DynamoDB and SQS real). Dispatch (help, unknown commands and flags):
 * test/unit/cli/main.test.ts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { writeStackFile } from "../../../lib/ops/local-stack-file.ts";
import { STACK_OUTPUTS } from "../../../lib/ops/stack-outputs.ts";
import type { AwsClientFactory, ClientConfig } from "../../../lib/ops/target.ts";
import { dynamoClient } from "../../support/dynalite.ts";
import { TEST_CREDENTIALS } from "../../support/local-sqs.ts";
import { SQSClient } from "@aws-sdk/client-sqs";
import { startCliHarness, type CliHarness } from "../../support/cli-harness.ts";
import { runCaptured } from "../../support/cli-run.ts";

let h: CliHarness;
beforeAll(async () => {
  h = await startCliHarness();
});
afterAll(async () => h.close());

describe("the local stack", () => {
  it("says how to start one when there is no stack file", async () => {
    const run = await runCaptured(["suppress", "list", "--stack-file", join(h.dir, "nowhere", "stack.json")]);
    expect(run.code).toBe(1);
    expect(run.err).toContain('does not exist): start one with "npm start", or name a deployed stack with --stack <name>');
  });

  it("says the stack is not running when its process has exited", async () => {
    const exited = spawnSync(process.execPath, ["-e", ""]).pid;
    const stackFile = writeStackFile({ ...h.descriptor, pid: exited }, join(h.dir, "stale"));
    const run = await runCaptured(["state", "list", "--stack-file", stackFile]);
    expect(run.code).toBe(1);
    expect(run.err).toContain(`is not running (process ${exited} has exited): start it with "npm start"`);
  });

  it("says which emulator it cannot reach", async () => {
    const stackFile = writeStackFile({ ...h.descriptor, dynamodbEndpoint: "http://127.0.0.1:1" }, join(h.dir, "unreachable"));
    const run = await runCaptured(["suppress", "list", "--stack-file", stackFile]);
    expect(run.code).toBe(1);
    expect(run.err).toContain("cannot reach the local stack at http://127.0.0.1:9 (ECONNREFUSED); is it still running?");
  });

  it("lets a resource flag override the descriptor", async () => {
    const run = await h.run(["state", "list", "--state-table", "no-such-table"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain("in the local stack at http://127.0.0.1:9; check the stack (or the table flags)");
  });

  it("refuses --stack together with --stack-file", async () => {
    const run = await h.run(["suppress", "list", "--stack", "prod"]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("use one of them");
  });
});

describe("a deployed stack (--stack)", () => {
  const cloudFormation = new CloudFormationClient({ region: "eu-west-1", credentials: TEST_CREDENTIALS });
  const cfn = mockClient(cloudFormation);
  const configs: ClientConfig[] = [];
  /** DynamoDB and SQS are the harness's emulators; the config the CLI asked for is recorded. */
  const aws: Partial<AwsClientFactory> = {
    cloudFormation: () => cloudFormation,
    dynamoDB: (config) => {
      configs.push(config);
      return dynamoClient(h.db.endpoint);
    },
    sqs: () => new SQSClient({ endpoint: h.sqs.endpoint, region: "us-east-1", credentials: TEST_CREDENTIALS }),
  };
  const outputs = (overrides: Record<string, string | undefined> = {}) =>
    Object.entries({
      [STACK_OUTPUTS.stateTable]: "cli-state",
      [STACK_OUTPUTS.windowsTable]: "cli-windows",
      [STACK_OUTPUTS.alertsQueueUrl]: h.descriptor.queues.alerts,
      [STACK_OUTPUTS.deadLetterQueueUrl]: h.descriptor.queues.deadLetter,
      [STACK_OUTPUTS.webhookBaseUrl]: "https://abc.execute-api.eu-west-1.amazonaws.com/",
      ...overrides,
    }).flatMap(([OutputKey, OutputValue]) => (OutputValue ? [{ OutputKey, OutputValue }] : []));
  const stack = (outputList = outputs()) => ({
    Stacks: [{ StackName: "alert-relay-prod", CreationTime: new Date(), StackStatus: "CREATE_COMPLETE" as const, Outputs: outputList }],
  });

  beforeEach(() => {
    cfn.reset();
    configs.length = 0;
  });

  it("finds the tables through the stack's outputs, in the region asked for", async () => {
    cfn.on(DescribeStacksCommand, { StackName: "alert-relay-prod" }).resolves(stack());
    await h.doc.send(
      new PutCommand({
        TableName: "cli-windows",
        Item: { id: "deployed-window", enabled: true, matchers: ["a=b"], reason: "r", createdBy: "me" },
      }),
    );
    const run = await runCaptured(["suppress", "list", "--stack", "alert-relay-prod", "--region", "eu-west-1"], { aws });
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    expect(run.out).toContain("Suppression windows in the stack alert-relay-prod in eu-west-1 (table cli-windows)");
    expect(run.out).toContain("deployed-window");
    expect(configs).toEqual([{ region: "eu-west-1" }]);
  });

  it("says a stack was not found, with AWS's words", async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error("Stack with id nope does not exist"), { name: "ValidationError" }));
    const run = await runCaptured(["state", "list", "--stack", "nope", "--region", "eu-west-1"], { aws });
    expect(run.code).toBe(1);
    expect(run.err).toContain(
      "stack nope was not found in eu-west-1 (AWS said: Stack with id nope does not exist); check the name with --stack",
    );
  });

  it("says there are no credentials, with AWS's words", async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    const run = await runCaptured(["dlq", "list", "--stack", "alert-relay-prod"], { aws, env: { AWS_REGION: "eu-west-1" } });
    expect(run.code).toBe(1);
    expect(run.err).toContain("no usable AWS credentials (AWS said: Could not load credentials from any providers)");
  });

  it("names the output a stack lacks, and the flag that replaces it", async () => {
    cfn.on(DescribeStacksCommand).resolves(stack(outputs({ [STACK_OUTPUTS.deadLetterQueueUrl]: undefined })));
    const run = await runCaptured(["dlq", "list", "--stack", "alert-relay-prod", "--region", "eu-west-1"], { aws });
    expect(run.code).toBe(1);
    expect(run.err).toContain(`stack alert-relay-prod has no output ${STACK_OUTPUTS.deadLetterQueueUrl}`);
    expect(run.err).toContain("pass --dlq-url");
    const overridden = await runCaptured(
      ["dlq", "list", "--stack", "alert-relay-prod", "--region", "eu-west-1", "--dlq-url", h.descriptor.queues.deadLetter],
      { aws },
    );
    expect(overridden.code).toBe(0);
  });
});
