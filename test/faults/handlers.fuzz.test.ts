/**
 * Fuzzing the Lambda handlers directly (as API Gateway and SNS/EventBridge call them), with the
 * webhook token configured: never a 5xx for client input, everything answered 2xx is on the queue
 * as a valid contract message (the queue stand-in parses it as the router does; a message that did
 * not parse would fail the publish and show up as a 503), and the token is in no error answer and
 * in nothing the functions log. Seeded (FUZZ_SEED) and bounded in runs and time.
 */
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { forgetSecrets } from "../../lib/platform/redact.ts";
import { captureOutput, directEntries } from "../support/ingest-entries.ts";
import { httpEvent } from "../support/http-event.ts";
import { FUZZ_SEED, FUZZ_TOKEN, invocation, request } from "./fuzz-requests.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const TIME_LIMIT_MS = 12_000;
const counted: string[] = [];

afterAll(() => {
  forgetSecrets();
  // The figures a reader wants from a fuzz run: how many cases, from which seed.
  console.info(`fuzz (handlers, seed ${FUZZ_SEED}): ${counted.join("; ")}`);
});

describe("fuzzed ingest handlers", () => {
  it("answer every HTTP request below 500, queue only valid messages, and never let the token out", { timeout: 60_000 }, async () => {
    const entries = directEntries({ token: FUZZ_TOKEN, loud: true });
    const byStatus = new Map<number, number>();
    const details = await fc.check(
      fc.asyncProperty(request, async ({ entry, method, headers, body }) => {
        const binary = headers["content-type"] === "application/octet-stream";
        const queuedBefore = entries.queued.length;
        const output = captureOutput();
        let answer;
        try {
          answer = await entries.http(httpEvent(body, { path: entry, method, headers, base64: binary }));
        } finally {
          output.restore();
        }
        const status = answer.statusCode ?? 200;
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        expect(status, `${method} ${entry} → ${answer.body}`).toBeLessThan(500);
        if (status >= 300) expect(entries.queued.length, "nothing is queued for a refusal").toBe(queuedBefore);
        if (status >= 400) expect(String(answer.body)).not.toContain(FUZZ_TOKEN);
        expect(output.text()).not.toContain(FUZZ_TOKEN);
      }),
      { seed: FUZZ_SEED, numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    counted.push(
      `HTTP ${details.numRuns} runs (${[...byStatus]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(" ")})`,
    );
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? "fuzz property failed");
    // The generators reach past the front door: some requests are accepted, some refused for their shape.
    expect(byStatus.get(202) ?? 0).toBeGreaterThan(0);
    expect([400, 422].some((s) => (byStatus.get(s) ?? 0) > 0)).toBe(true);
  });

  it("answer every direct invocation without throwing and never log the token", { timeout: 60_000 }, async () => {
    const entries = directEntries({ token: FUZZ_TOKEN, loud: true });
    const details = await fc.check(
      fc.asyncProperty(invocation, async (event) => {
        const output = captureOutput();
        let result;
        try {
          result = await entries.invoke("cloudwatch", event);
        } finally {
          output.restore();
        }
        expect(["accepted", "ignored", "rejected"]).toContain((result as { status: string }).status);
        expect(output.text()).not.toContain(FUZZ_TOKEN);
      }),
      { seed: FUZZ_SEED, numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    counted.push(`invocations ${details.numRuns} runs`);
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? "fuzz property failed");
  });
});
