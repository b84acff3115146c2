/**
 * Bounded trust in source clocks: a firing stamped in the future (10 minutes, or 2099) used to
 * make its real resolve "stale", leaving the incident open at PagerDuty for ever.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRouterHarness, type RouterHarness } from "../support/router-harness.ts";
import { alertAt } from "../support/alerts.ts";
import { boundSourceClock } from "../../lib/alert/clock.ts";
import type { NormalizedAlert } from "../../lib/alert/schema.ts";

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
});
afterAll(async () => h.close());
beforeEach(() => h.fake.reset());

/** An alert received now whose source says it happened `aheadMs` from now. */
function stamped(key: string, status: "firing" | "resolved", receivedAt: Date, aheadMs: number): NormalizedAlert {
  const base = alertAt(key, status, 0);
  return {
    ...base,
    id: `${base.id}-${status}-${aheadMs}`,
    receivedAt: receivedAt.toISOString(),
    occurredAt: new Date(receivedAt.getTime() + aheadMs).toISOString(),
  };
}

describe("a source clock in the future", () => {
  for (const [label, aheadMs] of [
    ["10 minutes ahead", 10 * 60_000],
    ["in 2099", Date.UTC(2099, 0, 1) - Date.now()],
  ] as const) {
    it(`does not lock the problem: a firing stamped ${label} is resolved by its real resolve`, async () => {
      const key = `future-${label.replaceAll(" ", "-")}`;
      const router = h.router();
      const t0 = new Date();
      expect(await router.handleAlert(stamped(key, "firing", t0, aheadMs), Date.now() + 5_000)).toMatchObject({
        outcome: "delivered",
        actions: ["trigger"],
      });
      const state = await h.store.get(key);
      expect(Date.parse(state!.transitionAt)).toBeLessThanOrEqual(Date.now());
      expect(state!.lastAlert.details.sourceOccurredAt).toBe(new Date(t0.getTime() + aheadMs).toISOString());
      // The resolve comes a second later by real clocks.
      const resolve = stamped(key, "resolved", new Date(t0.getTime() + 1_000), 0);
      expect(await router.handleAlert(resolve, Date.now() + 5_000)).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
      expect(h.fake.openIncidents().filter((i) => i.dedupKey === key)).toHaveLength(0);
    });
  }

  it("believes small skews, so events a little ahead keep their order", () => {
    const now = new Date("2026-12-01T10:00:00Z");
    const near = stamped("near", "firing", now, 4 * 60_000);
    expect(boundSourceClock(near, 5 * 60_000, now)).toBe(near);
    const far = stamped("far", "firing", now, 6 * 60_000);
    expect(boundSourceClock(far, 5 * 60_000, now)).toMatchObject({
      occurredAt: now.toISOString(),
      details: { sourceOccurredAt: far.occurredAt },
    });
    // An adapter whose clock runs ahead of the router's: the router's clock bounds it.
    const early = { ...far, receivedAt: "2026-12-01T11:00:00.000Z", occurredAt: "2026-12-01T11:00:00.000Z" };
    expect(boundSourceClock(early, 5 * 60_000, now).occurredAt).toBe(now.toISOString());
  });
});
