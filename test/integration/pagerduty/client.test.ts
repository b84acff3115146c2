import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createPagerDutyClient, parseRetryAfter, type PagerDutyClientOptions } from "../../../lib/pagerduty/client.ts";
import { toPagerDutyEvent, type PagerDutyAlertEvent, type PagerDutyTriggerEvent } from "../../../lib/pagerduty/payloads.ts";
import { startFakePagerDuty, type FakePagerDuty } from "../../support/fake-pagerduty.ts";
import { OTHER_ROUTING_KEY, ROUTING_KEY, sampleAlert } from "../../support/sample-alert.ts";

let fake: FakePagerDuty;
beforeAll(async () => {
  fake = await startFakePagerDuty();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

/**
 * A client whose sleeps advance a virtual clock instantly, so backoff of seconds costs nothing,
 * while requests, timeouts and the fake run in real time over loopback.
 */
function harness(options: Partial<PagerDutyClientOptions> = {}) {
  let skipped = 0;
  const sleeps: number[] = [];
  const now = () => Date.now() + skipped;
  const client = createPagerDutyClient({
    baseUrl: fake.url,
    now,
    sleep: async (ms) => {
      sleeps.push(ms);
      skipped += ms;
    },
    random: () => 0.5,
    minAttemptMs: 20,
    ...options,
  });
  return { client, sleeps, now, inMs: (ms: number) => now() + ms };
}

/**
 * The client computes each wait as "retry time − now", and real milliseconds pass between the
 * two on a busy machine; a wait may come out up to a few ms short, never long.
 */
function expectSleeps(sleeps: readonly number[], expected: readonly number[]): void {
  expect(sleeps).toHaveLength(expected.length);
  sleeps.forEach((ms, i) => {
    expect(ms).toBeLessThanOrEqual(expected[i]!);
    expect(ms).toBeGreaterThanOrEqual(expected[i]! - 25);
  });
}

const trigger = (routingKey = ROUTING_KEY) => toPagerDutyEvent(sampleAlert(), "trigger", routingKey);
const DEDUP_KEY = sampleAlert().dedupKey;

describe("PagerDuty client against the fake", () => {
  it("delivers a trigger and reports the dedup key, one attempt and the latency", async () => {
    const { client, inMs } = harness();
    const result = await client.send(trigger(), { deadline: inMs(10_000) });
    expect(result).toEqual({ outcome: "accepted", dedupKey: DEDUP_KEY, attempts: 1, latencyMs: expect.any(Number) });
    expect(fake.openIncidents()).toEqual([expect.objectContaining({ routingKey: ROUTING_KEY, dedupKey: DEDUP_KEY })]);
    expect(fake.requests[0]?.headers["content-type"]).toBe("application/json");
  });

  it("delivers a resolve for the open incident", async () => {
    const { client, inMs } = harness();
    await client.send(trigger(), { deadline: inMs(10_000) });
    const result = await client.send(toPagerDutyEvent(sampleAlert(), "resolve", ROUTING_KEY), { deadline: inMs(10_000) });
    expect(result.outcome).toBe("accepted");
    expect(fake.incidents()).toEqual([expect.objectContaining({ status: "resolved" })]);
  });

  it("never retries a 400 and returns PagerDuty's message and errors", async () => {
    const { client, sleeps, inMs } = harness();
    const invalid = { ...trigger(), payload: { ...trigger().payload, severity: "Info" } } as unknown as PagerDutyAlertEvent;
    const result = await client.send(invalid, { deadline: inMs(10_000) });
    expect(result).toEqual({
      outcome: "rejected",
      status: 400,
      message: "Event object is invalid",
      errors: [expect.stringMatching(/'payload.severity' must be one of/)],
      attempts: 1,
    });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("retries 500 three times with doubling jittered backoff, then is accepted on attempt 4", async () => {
    fake.failNext(3, { status: 500 });
    const { client, sleeps, inMs } = harness({ baseDelayMs: 500 });
    const result = await client.send(trigger(), { deadline: inMs(60_000) });
    expect(result).toMatchObject({ outcome: "accepted", attempts: 4 });
    // Full jitter with random() = 0.5: half of 500, 1000, 2000.
    expectSleeps(sleeps, [250, 500, 1000]);
    expect(fake.requests).toHaveLength(4);
    expect(fake.incidents()).toEqual([expect.objectContaining({ triggers: 1 })]);
  });

  it("caps the backoff and gives up after maxAttempts with the last reason", async () => {
    fake.down({ status: 503 });
    const { client, sleeps, inMs } = harness({ baseDelayMs: 500, maxDelayMs: 800, maxAttempts: 5 });
    const result = await client.send(trigger(), { deadline: inMs(60_000) });
    expect(result).toEqual({ outcome: "retry_later", reason: "503 from PagerDuty", stoppedBy: "max_attempts", attempts: 5 });
    expectSleeps(sleeps, [250, 400, 400, 400]);
    expect(fake.requests).toHaveLength(5);
    expect(fake.incidents()).toEqual([]);
  });

  it("spreads retries over the whole backoff window (full jitter)", async () => {
    fake.failNext(2, { status: 502 });
    const randoms = [0, 0.99];
    const { client, sleeps, inMs } = harness({ baseDelayMs: 1000, random: () => randoms.shift() ?? 0 });
    expect((await client.send(trigger(), { deadline: inMs(60_000) })).outcome).toBe("accepted");
    expectSleeps(sleeps, [1980]); // the 0 ms delay needs no sleep at all
  });

  it("retries after a per-request timeout", async () => {
    fake.failNext(1, { kind: "timeout" });
    const { client, inMs } = harness({ requestTimeoutMs: 100 });
    const result = await client.send(trigger(), { deadline: inMs(10_000) });
    expect(result).toMatchObject({ outcome: "accepted", attempts: 2 });
    expect(fake.requests).toHaveLength(2);
  });

  it("reports the timeout when every attempt times out", async () => {
    fake.failNext(2, { kind: "timeout" });
    const { client, inMs } = harness({ requestTimeoutMs: 100, maxAttempts: 2 });
    const result = await client.send(trigger(), { deadline: inMs(10_000) });
    // A timed-out request may still be processed: the result says its fate is unknown.
    expect(result).toEqual({
      outcome: "retry_later",
      reason: "timeout after 100 ms",
      stoppedBy: "max_attempts",
      attempts: 2,
      uncertain: true,
    });
  });

  it("says when an accepted event followed an attempt with no answer, and not when a refused connection sent nothing", async () => {
    fake.failNext(1, { kind: "reset" });
    const { client, inMs } = harness({ requestTimeoutMs: 100 });
    expect(await client.send(trigger(), { deadline: inMs(10_000) })).toMatchObject({ outcome: "accepted", attempts: 2, uncertain: true });
    expect(await client.send(trigger(), { deadline: inMs(10_000) })).not.toHaveProperty("uncertain");
    // A port nobody listens on: bound, then closed.
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const { port } = closed.address() as AddressInfo;
    await new Promise((done) => closed.close(done));
    const refused = createPagerDutyClient({ baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 2, baseDelayMs: 1 });
    const result = await refused.send(trigger(), { deadline: Date.now() + 5_000 });
    expect(result).toMatchObject({ outcome: "retry_later", reason: expect.stringMatching(/^ECONNREFUSED/) });
    expect(result).not.toHaveProperty("uncertain");
  });

  it("does not open a second incident when a timed-out trigger had reached PagerDuty", async () => {
    fake.failNext(1, { kind: "timeout", afterProcessing: true });
    const { client, inMs } = harness({ requestTimeoutMs: 100 });
    expect(await client.send(trigger(), { deadline: inMs(10_000) })).toMatchObject({ outcome: "accepted", attempts: 2 });
    expect(fake.incidents()).toEqual([expect.objectContaining({ status: "triggered", triggers: 2 })]);
  });

  it("gives a trigger without dedup key one key for all its attempts", async () => {
    fake.failNext(1, { kind: "timeout", afterProcessing: true });
    const { client, inMs } = harness({ requestTimeoutMs: 100 });
    const { dedup_key: _key, ...withoutKey } = trigger();
    const result = await client.send(withoutKey as PagerDutyTriggerEvent, { deadline: inMs(10_000) });
    const sentKeys = fake.requests.map((r) => (r.body as PagerDutyTriggerEvent).dedup_key);
    expect(sentKeys).toHaveLength(2);
    expect(sentKeys[0]).toBeTruthy();
    expect(sentKeys[1]).toBe(sentKeys[0]);
    expect(result).toMatchObject({ outcome: "accepted", dedupKey: sentKeys[0] });
    expect(fake.incidents()).toHaveLength(1);
  });

  it("retries after the connection is reset", async () => {
    fake.failNext(1, { kind: "reset" });
    const { client, inMs } = harness();
    expect(await client.send(trigger(), { deadline: inMs(10_000) })).toMatchObject({ outcome: "accepted", attempts: 2 });
  });

  it("names the socket error when resets persist", async () => {
    fake.failNext(3, { kind: "reset" });
    const { client, inMs } = harness({ maxAttempts: 3 });
    const result = await client.send(trigger(), { deadline: inMs(10_000) });
    expect(result).toMatchObject({ outcome: "retry_later", attempts: 3, reason: expect.stringMatching(/UND_ERR_SOCKET|ECONNRESET/) });
  });

  it("stops before a backoff would pass the deadline, never sleeping past it", async () => {
    fake.down();
    const { client, sleeps, now, inMs } = harness({ baseDelayMs: 500, maxAttempts: 10 });
    const deadline = inMs(1000);
    const result = await client.send(trigger(), { deadline });
    // Attempts at ~0, ~250 and ~750 ms; the next would start at ~1750 ms.
    expect(result).toMatchObject({ outcome: "retry_later", stoppedBy: "deadline", attempts: 3, reason: "503 from PagerDuty" });
    expectSleeps(sleeps, [250, 500]);
    expect(now()).toBeLessThanOrEqual(deadline);
  });

  it("cuts a hanging request at the deadline instead of the longer request timeout", async () => {
    fake.failNext(1, { kind: "timeout" });
    const { client } = harness({ requestTimeoutMs: 5000, minAttemptMs: 50 });
    const started = Date.now();
    const deadline = started + 300;
    const result = await client.send(trigger(), { deadline });
    const finished = Date.now();
    expect(result).toMatchObject({ outcome: "retry_later", stoppedBy: "deadline", attempts: 1 });
    const timeout = Number(/^timeout after (\d+) ms$/.exec(result.outcome === "retry_later" ? result.reason : "")?.[1]);
    expect(timeout).toBeGreaterThan(250);
    expect(timeout).toBeLessThanOrEqual(300);
    expect(finished).toBeLessThanOrEqual(deadline + 30); // timer granularity only
  });

  it("does not start when the deadline leaves no time for an attempt", async () => {
    const { client, now } = harness({ minAttemptMs: 100 });
    for (const deadline of [now() - 1, now() + 50]) {
      const result = await client.send(trigger(), { deadline });
      expect(result).toMatchObject({
        outcome: "retry_later",
        stoppedBy: "deadline",
        attempts: 0,
        reason: expect.stringMatching(/deadline reached before the first attempt/),
      });
    }
    expect(fake.requests).toEqual([]);
  });

  it("honours Retry-After on a 503", async () => {
    fake.failNext(1, { status: 503, retryAfter: 2 });
    const { client, sleeps, inMs } = harness({ baseDelayMs: 500 });
    expect(await client.send(trigger(), { deadline: inMs(60_000) })).toMatchObject({ outcome: "accepted", attempts: 2 });
    expectSleeps(sleeps, [2000]);
  });

  it("returns at once with the hint when Retry-After is beyond the deadline", async () => {
    fake.failNext(1, { status: 429, retryAfter: 10 });
    const { client, sleeps, inMs } = harness();
    const result = await client.send(trigger(), { deadline: inMs(3000) });
    expect(result).toMatchObject({ outcome: "retry_later", reason: "429 rate limited", stoppedBy: "deadline", attempts: 1 });
    expect(result.outcome === "retry_later" && result.retryAfterMs).toBeGreaterThan(9_900);
    expect(sleeps).toEqual([]);
  });

  it("delivers change events through the same retry loop", async () => {
    fake.failNext(1, { status: 503 });
    const { client, inMs } = harness();
    const result = await client.sendChange(
      { routing_key: ROUTING_KEY, payload: { summary: "deployed checkout v42" } },
      { deadline: inMs(10_000) },
    );
    expect(result).toEqual({ outcome: "accepted", attempts: 2, latencyMs: expect.any(Number) });
    expect(fake.requests.map((r) => r.path)).toEqual(["/v2/change/enqueue", "/v2/change/enqueue"]);
    expect(fake.changeEvents).toHaveLength(1);
  });
});

describe("PagerDuty client rate-limit gate", () => {
  it("holds a routing key after a 429 without touching PagerDuty, and leaves other keys alone", async () => {
    fake.failNext(1, { status: 429 });
    const { client, inMs } = harness({ maxAttempts: 1, rateLimitBaseMs: 1000 });
    const first = await client.send(trigger(), { deadline: inMs(10_000) });
    expect(first).toMatchObject({ outcome: "retry_later", reason: "429 rate limited", stoppedBy: "max_attempts" });
    expect(first.outcome === "retry_later" && first.retryAfterMs).toBeGreaterThan(900);

    const held = await client.send(trigger(), { deadline: inMs(500) });
    expect(held).toMatchObject({ outcome: "retry_later", stoppedBy: "deadline", attempts: 0 });
    expect(held.outcome === "retry_later" && held.reason).toMatch(/^429 rate limited: routing key R0…7f \(32 chars\) is held back/);
    expect(JSON.stringify(held)).not.toContain(ROUTING_KEY);
    expect(fake.requests).toHaveLength(1);

    expect(await client.send(trigger(OTHER_ROUTING_KEY), { deadline: inMs(500) })).toMatchObject({ outcome: "accepted", attempts: 1 });
  });

  it("lets a send wait for the gate when it opens before the deadline, and opens it on success", async () => {
    fake.failNext(1, { status: 429 });
    const { client, sleeps, inMs } = harness({ maxAttempts: 1, rateLimitBaseMs: 1000 });
    await client.send(trigger(), { deadline: inMs(10_000) });
    expect(await client.send(trigger(), { deadline: inMs(10_000) })).toMatchObject({ outcome: "accepted", attempts: 1 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(900);
    expect(sleeps[0]).toBeLessThanOrEqual(1000);
    await client.send(trigger(), { deadline: inMs(10_000) });
    expect(sleeps).toHaveLength(1);
  });

  it(
    "holds a key PagerDuty failed on (holdAfterFailureMs), so the sends after " + "it fail fast instead of each waiting out the outage",
    async () => {
      fake.down({ status: 503 });
      const { client, sleeps, inMs } = harness({ maxAttempts: 2, holdAfterFailureMs: 2_000, maxGateWaitMs: 1_000 });
      const first = await client.send(trigger(), { deadline: inMs(30_000) });
      expect(first).toMatchObject({ outcome: "retry_later", reason: "503 from PagerDuty", attempts: 2 });
      const requests = fake.requests.length;
      const sleptBefore = sleeps.length;
      const next = await client.send(trigger(), { deadline: inMs(30_000) });
      // No request, no sleep: back at once, with how long the key is held and why.
      expect(next).toMatchObject({
        outcome: "retry_later",
        attempts: 0,
        reason: expect.stringMatching(/^503 from PagerDuty: routing key R0…7f \(32 chars\) is held back/),
      });
      expect(next.outcome === "retry_later" && next.retryAfterMs).toBeGreaterThan(1_500);
      expect(fake.requests.length).toBe(requests);
      expect(sleeps.length).toBe(sleptBefore);
      // Other keys are not held; a success opens the key again.
      expect(await client.send(trigger(OTHER_ROUTING_KEY), { deadline: inMs(30_000) })).toMatchObject({
        outcome: "retry_later",
        attempts: 2,
      });
      fake.recover();
      const { client: waiting, inMs: later } = harness({ holdAfterFailureMs: 2_000 });
      expect(await waiting.send(trigger(), { deadline: later(30_000) })).toMatchObject({ outcome: "accepted" });
    },
  );

  it("lets only maxInFlightPerKey requests to one key await PagerDuty; another send gives up after maxGateWaitMs", async () => {
    fake.failWhile(() => true, { kind: "slow", ms: 300 });
    const { client, inMs } = harness({ maxInFlightPerKey: 2, maxGateWaitMs: 100 });
    const results = await Promise.all([1, 2, 3].map(() => client.send(trigger(), { deadline: inMs(10_000) })));
    fake.recover();
    expect(results.filter((result) => result.outcome === "accepted")).toHaveLength(2);
    expect(results.find((result) => result.outcome === "retry_later")).toMatchObject({
      attempts: 0,
      reason: expect.stringMatching(/has 2 requests awaiting PagerDuty's answer/),
    });
    // Other keys have places of their own.
    expect(await client.send(trigger(OTHER_ROUTING_KEY), { deadline: inMs(10_000) })).toMatchObject({ outcome: "accepted" });
  });

  it("holds the key longer after each further 429", async () => {
    fake.failNext(2, { status: 429 });
    const { client, inMs } = harness({ maxAttempts: 1, rateLimitBaseMs: 1000 });
    const holds: number[] = [];
    for (let i = 0; i < 2; i += 1) {
      const result = await client.send(trigger(), { deadline: inMs(10_000) });
      if (result.outcome === "retry_later") holds.push(result.retryAfterMs ?? 0);
    }
    expect(holds).toHaveLength(2);
    expect(holds[0]).toBeGreaterThan(900);
    expect(holds[1]).toBeGreaterThan(1900);
    expect(holds[1]).toBeLessThanOrEqual(2000);
  });

  it("holds the key for Retry-After when PagerDuty asks for longer than the backoff", async () => {
    fake.failNext(1, { status: 429, retryAfter: 3 });
    const { client, sleeps, inMs } = harness({ rateLimitBaseMs: 1000 });
    expect(await client.send(trigger(), { deadline: inMs(10_000) })).toMatchObject({ outcome: "accepted", attempts: 2 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(2900);
    expect(sleeps[0]).toBeLessThanOrEqual(3000);
  });

  it("keeps gates per client instance", async () => {
    fake.failNext(1, { status: 429 });
    const first = harness({ maxAttempts: 1 });
    await first.client.send(trigger(), { deadline: first.inMs(10_000) });
    const second = harness({ maxAttempts: 1 });
    expect(await second.client.send(trigger(), { deadline: second.inMs(500) })).toMatchObject({ outcome: "accepted" });
  });
});

describe("PagerDuty client response parsing", () => {
  function stubbed(responses: (Response | Error)[], options: Partial<PagerDutyClientOptions> = {}) {
    const calls: string[] = [];
    const fetch = async (url: string | URL | Request) => {
      calls.push(String(url));
      const next = responses.shift();
      if (!next) throw new Error("no more stub responses");
      if (next instanceof Error) throw next;
      return next;
    };
    const { client, inMs } = harness({ baseUrl: "https://events.example.com/", fetch: fetch as typeof globalThis.fetch, ...options });
    return { client, calls, deadline: inMs(60_000) };
  }

  it("copes with a non-JSON 429 and a non-JSON 202, keeping the dedup key it sent", async () => {
    const { client, calls, deadline } = stubbed([
      new Response("<html>slow down</html>", { status: 429, headers: { "content-type": "text/html" } }),
      new Response("ok", { status: 202 }),
    ]);
    expect(await client.send(trigger(), { deadline })).toMatchObject({ outcome: "accepted", dedupKey: DEDUP_KEY, attempts: 2 });
    expect(calls).toEqual(["https://events.example.com/v2/enqueue", "https://events.example.com/v2/enqueue"]);
  });

  it("takes the dedup key PagerDuty answers with", async () => {
    const { client, deadline } = stubbed([
      Response.json({ status: "success", message: "Event processed", dedup_key: "pd-key" }, { status: 202 }),
    ]);
    expect(await client.send(trigger(), { deadline })).toMatchObject({ outcome: "accepted", dedupKey: "pd-key" });
  });

  it("rejects other 4xx without retrying, using the text body when it is not JSON", async () => {
    const { client, calls, deadline } = stubbed([new Response("  forbidden\n  here ", { status: 403 })]);
    expect(await client.send(trigger(), { deadline })).toEqual({
      outcome: "rejected",
      status: 403,
      message: "forbidden here",
      errors: [],
      attempts: 1,
    });
    expect(calls).toHaveLength(1);
  });

  it("keeps non-string errors readable", async () => {
    const { client, deadline } = stubbed([
      Response.json({ message: "Event object is invalid", errors: ["a", { field: "b" }] }, { status: 400 }),
    ]);
    expect(await client.send(trigger(), { deadline })).toMatchObject({ errors: ["a", '{"field":"b"}'] });
  });

  it("names the system error of a failed connection", async () => {
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" }),
    });
    const { client, deadline } = stubbed([refused], { maxAttempts: 1 });
    expect(await client.send(trigger(), { deadline })).toMatchObject({ outcome: "retry_later", reason: "ECONNREFUSED" });
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-26T18:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Thu, 26 Nov 2026 18:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Thu, 26 Nov 2026 17:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("refuses a maxAttempts below 1", () => {
    expect(() => createPagerDutyClient({ baseUrl: "https://events.example.com", maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});
