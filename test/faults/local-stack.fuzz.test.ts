/**
 * Fuzzing the five HTTP entries of the local stack over real HTTP (the server, the handlers, the
 * emulated queue, the router behind it, the dry-run outbox), with the webhook token configured:
 * never a 5xx for client input; what was answered 2xx is routed, not dead-lettered (the queue
 * drains and the DLQ stays empty); the token is in no error answer, no console line, no log line
 * and not in the outbox. Seeded (FUZZ_SEED) and bounded in runs and time.
 *
 * "Never lost" is checked as far as this branch can: every accepted message reaches the router as
 * a valid contract message and leaves the queue without a DLQ entry. Whether the router then keeps
 * it through faults is the faults issue's (issue 10) to prove.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LOCAL_CREDENTIALS } from "../../lib/local/settings.ts";
import { hasUnsafeChars } from "../../lib/alert/limits.ts";
import { startLocalStack, type LocalStack } from "../../lib/local/stack.ts";
import { forgetSecrets } from "../../lib/platform/redact.ts";
import { captureOutput } from "../support/ingest-entries.ts";
import { waitFor } from "../support/wait-for.ts";
import { FUZZ_SEED, FUZZ_TOKEN, request } from "./fuzz-requests.ts";

const RUNS = Number(process.env.FUZZ_STACK_RUNS ?? 400);
const TIME_LIMIT_MS = 20_000;

let stack: LocalStack;
let dataDir: string;
const printed: string[] = [];
const output = { text: () => "", restore: () => {} };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "alert-relay-fuzz-"));
  // The stack's loggers write at INFO here (tests run silent), so their lines can be searched too.
  const level = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
  try {
    Object.assign(output, captureOutput());
    stack = await startLocalStack({
      port: 0,
      inMemory: true,
      dataDir,
      visibilityTimeoutSeconds: 2,
      print: (line) => printed.push(line),
      printError: (line) => printed.push(line),
      env: { WEBHOOK_TOKEN: FUZZ_TOKEN, PAGERDUTY_ROUTING_KEY: "", ROUTING_KEYS_FILE: "" },
    });
  } finally {
    process.env.POWERTOOLS_LOG_LEVEL = level;
  }
});

afterAll(async () => {
  await stack?.stop();
  output.restore();
  forgetSecrets();
  rmSync(dataDir, { recursive: true, force: true });
});

/** What the DLQ holds and why, for the failure message. */
async function deadLetters(): Promise<string> {
  const sqs = new SQSClient({ region: stack.region, endpoint: stack.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
  try {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.deadLetter,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
        VisibilityTimeout: 0,
      }),
    );
    return Messages.map((m) => `${m.MessageAttributes?.reason?.StringValue}: ${m.Body?.slice(0, 2000)}`).join("\n");
  } finally {
    sqs.destroy();
  }
}

describe("fuzzed local stack", () => {
  it("answers every request below 500, dead-letters nothing it accepted, and never lets the token out", { timeout: 120_000 }, async () => {
    expect(stack.pagerDuty.mode).toBe("dry-run");
    const byStatus = new Map<number, number>();
    const details = await fc.check(
      fc.asyncProperty(request, async ({ entry, method, headers, body }) => {
        const response = await fetch(`${stack.url}${entry}`, { method, headers, ...(method === "GET" ? {} : { body }) });
        const text = await response.text();
        byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
        expect(response.status, `${method} ${entry} → ${text}`).toBeLessThan(500);
        if (response.status >= 400) expect(text).not.toContain(FUZZ_TOKEN);
      }),
      { seed: FUZZ_SEED, numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    output.restore();
    console.info(
      `fuzz (local stack, seed ${FUZZ_SEED}): ${details.numRuns} runs (${[...byStatus]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(" ")})`,
    );
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? "fuzz property failed");
    expect(byStatus.get(202) ?? 0).toBeGreaterThan(0);

    // Everything accepted is taken off the queue by the router, and none of it is dead-lettered.
    const queues = await waitFor(
      async () => {
        const health = await stack.health();
        const sqs = health.emulators.sqs as {
          alerts?: { visible: number; inFlight: number };
          deadLetter?: { visible: number; inFlight: number };
        };
        return sqs.alerts && sqs.alerts.visible === 0 && sqs.alerts.inFlight === 0 ? sqs : undefined;
      },
      60_000,
      "the alerts queue to drain",
    );
    expect(queues.deadLetter, await deadLetters()).toMatchObject({ visible: 0, inFlight: 0 });

    const outbox =
      stack.pagerDuty.mode === "dry-run" && existsSync(stack.pagerDuty.outbox) ? readFileSync(stack.pagerDuty.outbox, "utf8") : "";
    expect(outbox.length).toBeGreaterThan(0);
    for (const [where, text] of [
      ["the console", printed.join("\n")],
      ["the logs", output.text()],
      ["the outbox", outbox],
    ] as const) {
      expect(text, where).not.toContain(FUZZ_TOKEN);
      // Nothing printed can act on a terminal: no escape, no bidi override, no C1 control.
      if (where === "the console") expect(hasUnsafeChars(text.replaceAll("\r", ""))).toBe(false);
    }
  });
});
