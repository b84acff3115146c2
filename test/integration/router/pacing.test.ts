/**
 * Pacing per routing key (issue 11): the shared budget on dynalite with racing instances, 429
 * pauses and the strict fake PagerDuty enforcing PagerDuty's limit. The pure decision:
 * test/unit/router/pacing.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_EVENTS_PER_MINUTE, PACE_WINDOW_MS, SLOT_MS, paced } from "../../../lib/router/pacing.ts";
import { createPacer } from "../../../lib/state-table/pacer.ts";
import { createPagerDutyDeliver } from "../../../lib/router/deliver.ts";
import { createPagerDutyClient } from "../../../lib/pagerduty/client.ts";
import { createAggregateStore } from "../../../lib/state-table/aggregate-store.ts";
import type { Deliver } from "../../../lib/router/router.ts";
import { startRouterHarness, ROUTING_KEYS, type RouterHarness } from "../../support/router-harness.ts";
import { alertAt } from "../../support/alerts.ts";

const T = Date.UTC(2026, 10, 26, 17, 0);

describe("pacing shared by router instances", () => {
  let h: RouterHarness;
  let clock = T;
  beforeAll(async () => {
    h = await startRouterHarness();
  });
  afterAll(async () => h.close());
  beforeEach(() => {
    h.fake.reset();
    clock += 3_600_000;
  });

  it(
    `keeps two instances together within ${DEFAULT_EVENTS_PER_MINUTE} ` + `events a minute on one key, and each waits with a delay`,
    async () => {
      const pacers = [0, 1].map(() => createPacer({ doc: h.doc, tableName: h.tableName, now: () => new Date(clock), random: () => 0 }));
      const results = await Promise.all(Array.from({ length: 150 }, (_, i) => pacers[i % 2]!.admit("racy", i % 5 === 0)));
      const admitted = results.filter((r) => r.admitted).length;
      expect(admitted).toBeGreaterThanOrEqual(80);
      expect(admitted).toBeLessThanOrEqual(DEFAULT_EVENTS_PER_MINUTE);
      for (const result of results) if (!result.admitted) expect(result.retryAfterMs).toBeGreaterThan(0);
      // Once the window has passed there is room again.
      clock += PACE_WINDOW_MS + 2 * SLOT_MS;
      expect(await pacers[0]!.admit("racy", false)).toEqual({ admitted: true });
    },
  );

  it("pauses a routing key for every instance after a 429, for its Retry-After", async () => {
    h.fake.rateLimit({ perMinute: 1, retryAfter: 30 });
    // Two instances: each its own PagerDuty client and pacer, sharing only the state table.
    const delivers: Deliver[] = [0, 1].map(() => {
      const toPagerDuty = createPagerDutyDeliver(
        createPagerDutyClient({ baseUrl: h.fake.url, maxAttempts: 1 }),
        async (ref) => ROUTING_KEYS[ref]!,
      );
      const pacer = createPacer({ doc: h.doc, tableName: h.tableName, now: () => new Date(clock), random: () => 0 });
      return paced(pacer, toPagerDuty, (_alert, delivery) => ({ routingKeyRef: delivery.routingKeyRef, priority: false }));
    });
    const send = (deliver: Deliver, n: number) =>
      deliver(
        alertAt(`p-${n}`, "firing", 0),
        { action: "trigger", routingKeyRef: "payments", route: "payments", severity: "error" },
        Date.now() + 5_000,
      );
    expect(await send(delivers[0]!, 1)).toEqual({ outcome: "accepted" });
    expect(await send(delivers[0]!, 2)).toMatchObject({ outcome: "retry_later", pauseMs: 30_000 });
    // The other instance does not even ask PagerDuty while the key is paused.
    const requests = h.fake.requests.length;
    expect(await send(delivers[1]!, 3)).toMatchObject({
      outcome: "retry_later",
      retryAfterMs: 30_000,
      reason: expect.stringContaining("paused"),
    });
    expect(h.fake.requests.length).toBe(requests);
    clock += 30_001;
    h.fake.rateLimit(null);
    expect(await send(delivers[1]!, 3)).toEqual({ outcome: "accepted" });
  });

  it("makes the router answer retry with the wait when the key is over budget, and keeps nothing claimed", async () => {
    const pacer = createPacer({ doc: h.doc, tableName: h.tableName, now: () => new Date(clock), perMinute: 5, random: () => 0 });
    const deliver = paced(
      pacer,
      createPagerDutyDeliver(createPagerDutyClient({ baseUrl: h.fake.url }), async (ref) => ROUTING_KEYS[ref]!),
      (alert, delivery) => ({
        routingKeyRef: delivery.routingKeyRef,
        priority: delivery.action === "resolve" || alert.dedupKey.startsWith("storm:"),
      }),
    );
    const router = h.router({
      deliver,
      aggregates: createAggregateStore({ doc: h.doc, tableName: h.tableName }),
      now: () => new Date(clock),
    });
    const minute = Math.round((clock - T) / 60_000);
    const outcomes = [];
    for (let n = 0; n < 6; n += 1)
      outcomes.push(await router.handleAlert(alertAt(`budget-${clock}-${n}`, "firing", minute), Date.now() + 5_000));
    // 5 a minute, one place kept for resolves and updates: 4 new pages, then the next waits.
    expect(outcomes.slice(0, 4).map((o) => o.outcome)).toEqual(["delivered", "delivered", "delivered", "delivered"]);
    expect(outcomes.slice(4)).toEqual([
      expect.objectContaining({ outcome: "retry", retryAfterMs: expect.any(Number) }),
      expect.objectContaining({ outcome: "retry" }),
    ]);
    expect((await h.store.get(`budget-${clock}-4`))?.delivery).toBeUndefined();
    // The resolve of a paged problem still gets the place kept for it.
    expect(await router.handleAlert(alertAt(`budget-${clock}-0`, "resolved", minute + 1), Date.now() + 5_000)).toMatchObject({
      outcome: "delivered",
      actions: ["resolve"],
    });
    expect(h.fake.requests.filter((r) => r.status === 429)).toHaveLength(0);
  });
});
