/**
 * An attempt whose outcome is uncertain (a timeout, a reset after sending) must not leave an
 * incident open: a congested PagerDuty can process an abandoned trigger after the resolve, which
 * reopens the incident. After such a resolve the sweep sends the resolve once more.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { ROUTING_KEYS, startRouterHarness, type RouterHarness } from "../support/router-harness.ts";
import { createPagerDutyClient } from "../../lib/pagerduty/client.ts";
import { createPagerDutyDeliver } from "../../lib/router/deliver.ts";
import { alertAt } from "../support/alerts.ts";
import { sweepWatched } from "../../lib/router/sweep.ts";
import { pagerDutySentences } from "../../lib/cli/problems.ts";

let h: RouterHarness;
let n = 0;
beforeAll(async () => {
  h = await startRouterHarness();
});
afterAll(async () => h.close());
beforeEach(() => h.fake.reset());
const soon = () => Date.now() + 5_000;

describe("a trigger PagerDuty processes after its resolve", () => {
  it("is closed again by a second resolve after the settle delay", async () => {
    const key = `late-trigger-${(n += 1)}`;
    const router = h.router({ reResolveAfterMs: 1_000 });
    // The first attempt is processed 1.5 s later (the client gives up after 400 ms); the retry is answered at once.
    h.fake.failNext(1, { kind: "slow", ms: 1_500 });
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    expect((await h.store.get(key))?.uncertainTriggerAt).toBeDefined();
    expect(await router.handleAlert(alertAt(key, "resolved", 2), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    const resolved = await h.store.get(key);
    expect(resolved).toMatchObject({ watch: "reresolve", reResolveAt: expect.any(String) });
    expect(pagerDutySentences(resolved!, new Date()).join(" ")).toMatch(/resolve is sent once more/);

    await sleep(1_600);
    // The abandoned trigger landed after the resolve: PagerDuty has the incident open again.
    expect(h.fake.openIncidents().map((i) => i.dedupKey)).toEqual([key]);
    const report = await sweepWatched(h.store, router, soon());
    expect(report.delivered).toBe(1);
    expect(h.fake.openIncidents()).toEqual([]);
    const after = await h.store.get(key);
    expect(after?.watch).toBeUndefined();
    expect(after?.reResolveAt).toBeUndefined();
    // Once: the next sweep has nothing to send.
    expect((await sweepWatched(h.store, router, soon())).checked).toBe(0);
  });

  it("sends no second resolve when every trigger attempt was answered", async () => {
    const key = `certain-${(n += 1)}`;
    const router = h.router({ reResolveAfterMs: 0 });
    h.fake.failNext(1, { status: 503 });
    await router.handleAlert(alertAt(key, "firing", 0), soon());
    await router.handleAlert(alertAt(key, "resolved", 2), soon());
    expect((await h.store.get(key))?.watch).toBeUndefined();
    expect(h.fake.events.filter((e) => e.dedupKey === key).map((e) => e.action)).toEqual(["trigger", "resolve"]);
  });

  it("counts a problem that fired and resolved while PagerDuty was unreachable, and pages nobody for it", async () => {
    const key = `unpaged-${(n += 1)}`;
    const router = h.router();
    h.fake.down({ status: 503 });
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "retry" });
    expect(await router.handleAlert(alertAt(key, "resolved", 2), soon())).toMatchObject({ outcome: "retry" });
    h.fake.recover();
    // Whichever message comes back first brings PagerDuty what is owed now: a resolve (in case a trigger reached it), no trigger.
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({
      outcome: "delivered",
      actions: ["resolve"],
      unpaged: true,
    });
    expect(await router.handleAlert(alertAt(key, "resolved", 2), soon())).toMatchObject({ outcome: "deduplicated" });
    expect(h.fake.triggerCount(key)).toBe(0);
    expect(h.fake.incidents().filter((i) => i.dedupKey === key)).toEqual([]);
    const state = await h.store.get(key);
    expect(state?.unpaged).toBe(1);
    expect(pagerDutySentences(state!, new Date()).join(" ")).toMatch(
      /1 firing episode of this problem was over before PagerDuty could be reached: not paged/,
    );
  });

  it("does not send a trigger again once its problem resolved while it was failing", async () => {
    const key = `outdated-${(n += 1)}`;
    let resolveRecorded: Promise<unknown> | undefined;
    // The resolve arrives while the trigger waits to be retried.
    const client = createPagerDutyClient({
      baseUrl: h.fake.url,
      maxAttempts: 3,
      sleep: async () => {
        resolveRecorded ??= h.store.record(alertAt(key, "resolved", 2), new Date());
        await resolveRecorded;
      },
    });
    const router = h.router({ deliver: createPagerDutyDeliver(client, async () => ROUTING_KEYS.default!) });
    h.fake.failNext(1, { status: 503 });
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({
      outcome: "delivered",
      actions: ["resolve"],
      unpaged: true,
    });
    expect(h.fake.triggerCount(key)).toBe(0);
    expect(h.fake.incidents().filter((incident) => incident.dedupKey === key)).toEqual([]);
  });
});
