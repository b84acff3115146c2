/**
 * The state table is the truth; the queue is transport. A change recorded but never told (its
 * message lost, its router killed between steps, the queue purged) is delivered by the sweep
 * once the grace period has passed, and `recovered` says so on the problem.
 */
import { describe, expect, it } from "vitest";
import { useRouterHarness } from "../support/router-harness.ts";
import { alertAt } from "../support/alerts.ts";
import { sweepWatched } from "../../lib/router/sweep.ts";
import { pagerDutySentences } from "../../lib/cli/problems.ts";

let n = 0;
const h = useRouterHarness();
const soon = () => Date.now() + 5_000;
const sweep = (graceMs: number) => sweepWatched(h.store, h.router(), soon(), Date.now, 8, graceMs);

describe("the sweep delivers what the table owes PagerDuty", () => {
  it("pages a firing problem whose router died after recording it, once, after the grace period", async () => {
    const key = `lost-${(n += 1)}`;
    // What a router that was killed right after its first write leaves behind.
    await h.store.record(alertAt(key, "firing", 0), new Date());
    expect((await h.store.get(key))?.watch).toBe("owed");
    expect(pagerDutySentences((await h.store.get(key))!, new Date()).join(" ")).toMatch(
      /is owed to PagerDuty: .* the sweep delivers it from this record after the grace period/,
    );

    const early = await sweep(60_000);
    expect(early.recovered).toBe(0);
    expect(h.fake.triggerCount(key)).toBe(0);

    const late = await sweep(0);
    expect(late).toMatchObject({ recovered: 1, delivered: 1 });
    expect(h.fake.triggerCount(key)).toBe(1);
    const state = await h.store.get(key);
    expect(state).toMatchObject({ told: { action: "trigger" }, recovered: 1 });
    expect(state?.watch).toBeUndefined();
    expect(pagerDutySentences(state!, new Date()).join(" ")).toMatch(
      /The sweep delivered 1 change of this problem that its queue message had not/,
    );

    // Nothing is owed any more: the next sweep and the late message itself change nothing.
    expect((await sweep(0)).recovered).toBe(0);
    expect(await h.router().handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "deduplicated" });
    expect(h.fake.triggerCount(key)).toBe(1);
  });

  it("resolves a problem whose resolve message was lost, where its trigger went", async () => {
    const key = `lost-resolve-${(n += 1)}`;
    expect(await h.router().handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "delivered" });
    await h.store.record(alertAt(key, "resolved", 2), new Date());
    expect(h.fake.openIncidents().map((i) => i.dedupKey)).toContain(key);
    expect(await sweep(0)).toMatchObject({ recovered: 1 });
    expect(h.fake.openIncidents().map((i) => i.dedupKey)).not.toContain(key);
  });

  it("keeps trying an owed change through a PagerDuty outage and delivers it when PagerDuty is back", async () => {
    const key = `outage-${(n += 1)}`;
    h.fake.down({ status: 503 });
    expect(await h.router().handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "retry" });
    const during = await sweep(0);
    expect(during.failed.map((f) => f.dedupKey)).toContain(key);
    h.fake.recover();
    expect(await sweep(0)).toMatchObject({ recovered: 1 });
    expect(h.fake.triggerCount(key)).toBe(1);
  });

  it("settles changes PagerDuty needs not hear: a duplicate state or a problem it never heard of leaves nothing owed", async () => {
    const key = `settled-${(n += 1)}`;
    // A resolve for a problem PagerDuty never heard of: nothing to send, nothing owed.
    expect(await h.router().handleAlert(alertAt(key, "resolved", 0), soon())).toMatchObject({ outcome: "deduplicated" });
    expect((await h.store.get(key))?.watch).toBeUndefined();
    expect((await sweep(0)).checked).toBe(0);
  });

  it("a resolve recorded while its trigger is being delivered stays owed after the trigger is confirmed", async () => {
    const key = `overlap-${(n += 1)}`;
    const actions: string[] = [];
    const router = h.router({
      deliver: async (_alert, delivery) => {
        actions.push(delivery.action);
        // The resolve arrives (and is recorded) while the trigger is at PagerDuty ...
        if (delivery.action === "trigger") {
          await h.store.record(alertAt(key, "resolved", 2), new Date());
          return { outcome: "accepted" };
        }
        // ... and its own delivery fails: only the owed mark can still bring it.
        return { outcome: "retry_later", reason: "503 from PagerDuty" };
      },
    });
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "retry" });
    expect(actions).toEqual(["trigger", "resolve"]);
    const state = await h.store.get(key);
    expect(state).toMatchObject({ status: "resolved", told: { action: "trigger" }, watch: "owed" });
  });
});
