/**
 * For random interleavings of firing and resolved events, duplicates, redeliveries and PagerDuty
 * outages, PagerDuty's final incident state equals the source's last state for every key, and no
 * incident receives a second trigger. Runs on dynalite and the strict fake PagerDuty.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { startRouterHarness, type RouterHarness } from "../support/router-harness.ts";
import { alertAt } from "../support/alerts.ts";
import type { NormalizedAlert } from "../../lib/alert/schema.ts";

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
});
afterAll(async () => h.close());

const scenario = fc.record({
  /** Per problem, the source's timeline of statuses (one event per minute). */
  timelines: fc.array(fc.array(fc.constantFrom("firing" as const, "resolved" as const), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }),
  /** How many copies of each event reach the queue (source duplicates, SQS redelivery). */
  copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 15, maxLength: 15 }),
  /** Arrival order: messages are sorted by these random weights. */
  order: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 45, maxLength: 45 }),
  /** Steps at which PagerDuty is down for the attempt (the message is redelivered later). */
  outages: fc.array(fc.boolean(), { minLength: 45, maxLength: 45 }),
});

let run = 0;

describe("router property", () => {
  it("ends with PagerDuty matching the source's last state, without a second trigger per incident", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ timelines, copies, order, outages }) => {
        run += 1;
        h.fake.reset();
        const router = h.router();
        const keys = timelines.map((_, i) => `prop-${run}-${i}`);
        const messages: NormalizedAlert[] = [];
        timelines.forEach((timeline, k) =>
          timeline.forEach((status, minute) => {
            for (let c = 0; c < copies[(k * 5 + minute) % copies.length]!; c += 1) messages.push(alertAt(keys[k]!, status, minute));
          }),
        );
        const queue = messages.map((alert, i) => ({ alert, weight: order[i % order.length]! })).sort((a, b) => a.weight - b.weight).map((m) => m.alert);
        let step = 0;
        while (queue.length > 0) {
          const alert = queue.shift()!;
          const outage = step < outages.length && outages[step]!;
          if (outage) h.fake.down();
          const outcome = await router.handleAlert(alert, Date.now() + 5_000);
          if (outage) h.fake.recover();
          if (outcome.outcome === "retry") queue.push(alert); // SQS brings it back later
          step += 1;
          if (step > 500) throw new Error("did not settle");
        }
        timelines.forEach((timeline, k) => {
          const key = keys[k]!;
          const open = h.fake.openIncidents().filter((i) => i.dedupKey === key);
          expect(open.length, `${key} open incidents for last state ${timeline.at(-1)}`).toBe(timeline.at(-1) === "firing" ? 1 : 0);
          for (const incident of h.fake.incidents().filter((i) => i.dedupKey === key)) expect(incident.triggers).toBe(1);
          const episodes = timeline.filter((s, i) => s === "firing" && timeline[i - 1] !== "firing").length;
          expect(h.fake.incidents().filter((i) => i.dedupKey === key).length).toBeLessThanOrEqual(episodes);
        });
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
