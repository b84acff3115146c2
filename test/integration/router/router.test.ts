/**
 * The router's guarantees (DESIGN.md "Router guarantees") on dynalite and the strict fake PagerDuty.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRouterHarness, ROUTING_KEYS, type RouterHarness } from "../../support/router-harness.ts";
import { alertAt } from "../../support/alerts.ts";

let h: RouterHarness;
let keyCounter = 0;
const soon = () => Date.now() + 5_000;
/** A fresh dedup key per test: tests share one table. */
const freshKey = (name: string) => `${name}-${(keyCounter += 1)}`;

beforeAll(async () => {
  h = await startRouterHarness();
});
afterAll(async () => h.close());
beforeEach(() => {
  h.fake.reset();
  h.setWindow(() => undefined);
  h.setRoute(() => ({ route: "default", routingKeyRef: "default" }));
});

describe("router on dynalite and the fake PagerDuty", () => {
  it("opens one incident for firing and resolves it once; every message delivered twice changes nothing", async () => {
    const router = h.router();
    const key = freshKey("twice");
    const firing = alertAt(key, "firing", 0);
    const resolved = alertAt(key, "resolved", 5);
    expect(await router.handleAlert(firing, soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    expect(await router.handleAlert(firing, soon())).toMatchObject({ outcome: "deduplicated" });
    expect(await router.handleAlert(resolved, soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    expect(await router.handleAlert(resolved, soon())).toMatchObject({ outcome: "deduplicated" });
    expect(h.fake.events.map((e) => [e.action, e.effect])).toEqual([
      ["trigger", "opened"],
      ["resolve", "resolved"],
    ]);
    expect(h.fake.openIncidents()).toHaveLength(0);
    const state = await h.store.get(key);
    // Each copy of the alert last recorded is confirmed by a read, not recorded again (COPY_REFRESH_MS).
    expect(state).toMatchObject({ seen: 2, deduplicated: 0, told: { action: "resolve" } });
  });

  it("keeps a transition through PagerDuty 5xx and timeouts, then delivers it exactly once", async () => {
    const router = h.router();
    const key = freshKey("flaky");
    h.fake.failNext(2, { status: 503 });
    h.fake.failNext(1, { kind: "timeout" });
    h.fake.failNext(1, { status: 500 });
    // The client gives up within its 4 attempts: the message must come back, nothing recorded as told.
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "retry" });
    expect((await h.store.get(key))?.told).toBeUndefined();
    expect((await h.store.get(key))?.lastDeliveryError).toMatch(/500|503|timeout/);
    h.fake.down();
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "retry" });
    h.fake.recover();
    // SQS redelivers the same message: now it goes through, once.
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    expect(h.fake.triggerCount(key)).toBe(1);
    expect(h.fake.openIncidents().map((i) => i.dedupKey)).toEqual([key]);
  });

  it("re-sends a trigger whose answer was lost without opening a second incident, then resolves it", async () => {
    const router = h.router();
    const key = freshKey("lost-answer");
    // PagerDuty processes the event but the answer never arrives.
    h.fake.failNext(4, { kind: "timeout", afterProcessing: true });
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toMatchObject({ outcome: "retry" });
    expect(await router.handleAlert(alertAt(key, "resolved", 3), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    expect(h.fake.incidents().filter((i) => i.dedupKey === key)).toHaveLength(1);
    expect(h.fake.openIncidents()).toHaveLength(0);
  });

  it("lets only one of two racing router instances trigger", async () => {
    const key = freshKey("race");
    const [a, b] = [h.router(), h.router()];
    const firing = alertAt(key, "firing", 0);
    const outcomes = await Promise.all([
      a.handleAlert(firing, soon()),
      b.handleAlert(firing, soon()),
      a.handleAlert(firing, soon()),
      b.handleAlert(firing, soon()),
    ]);
    expect(outcomes.filter((o) => o.outcome === "delivered")).toHaveLength(1);
    expect(h.fake.triggerCount(key)).toBe(1);
  });

  it("ignores a late firing after a resolve, and a resolve that arrives before its trigger opens nothing", async () => {
    const router = h.router();
    const key = freshKey("order");
    expect(await router.handleAlert(alertAt(key, "resolved", 10), soon())).toMatchObject({
      outcome: "deduplicated",
      why: "PagerDuty never heard of this problem",
    });
    expect(await router.handleAlert(alertAt(key, "firing", 2), soon())).toMatchObject({ outcome: "stale" });
    expect(h.fake.events).toHaveLength(0);
    expect((await h.store.get(key))?.stale).toBe(1);
    // A new episode after the resolve does open an incident.
    expect(await router.handleAlert(alertAt(key, "firing", 20), soon())).toMatchObject({ outcome: "delivered" });
    expect(h.fake.openIncidents().map((i) => i.dedupKey)).toEqual([key]);
  });

  it("does not reopen a resolved incident with a late firing that arrives after the resolve was delivered", async () => {
    const router = h.router();
    const key = freshKey("late");
    await router.handleAlert(alertAt(key, "firing", 0), soon());
    await router.handleAlert(alertAt(key, "resolved", 5), soon());
    expect(await router.handleAlert(alertAt(key, "firing", 1), soon())).toMatchObject({ outcome: "stale" });
    expect(h.fake.openIncidents()).toHaveLength(0);
    expect(h.fake.triggerCount(key)).toBe(1);
  });

  it("delivers a severity raise while firing, to the same key, and not a repeat or a lowering", async () => {
    const router = h.router();
    const key = freshKey("raise");
    await router.handleAlert(alertAt(key, "firing", 0, { severity: "warning" }), soon());
    expect(await router.handleAlert(alertAt(key, "firing", 0, { severity: "critical" }), soon())).toMatchObject({ outcome: "delivered" });
    expect(await router.handleAlert(alertAt(key, "firing", 0, { severity: "warning" }), soon())).toMatchObject({ outcome: "deduplicated" });
    expect(h.fake.events.map((e) => e.event.event_action === "trigger" && e.event.payload.severity)).toEqual(["warning", "critical"]);
    expect(h.fake.incidents().filter((i) => i.dedupKey === key)).toHaveLength(1);
  });

  it("routes by matchers and resolves on the key it triggered on, even after routing changes", async () => {
    const router = h.router();
    const key = freshKey("routing");
    h.setRoute((alert) =>
      alert.labels.team === "payments" ? { route: "payments", routingKeyRef: "payments" } : { route: "default", routingKeyRef: "default" },
    );
    await router.handleAlert(alertAt(key, "firing", 0, { labels: { team: "payments" } }), soon());
    h.setRoute(() => ({ route: "default", routingKeyRef: "default" }));
    await router.handleAlert(alertAt(key, "resolved", 5, { labels: { team: "payments" } }), soon());
    expect(h.fake.events.map((e) => [e.action, e.routingKey])).toEqual([
      ["trigger", ROUTING_KEYS.payments],
      ["resolve", ROUTING_KEYS.payments],
    ]);
    expect(h.fake.openIncidents()).toHaveLength(0);
  });

  it("records a suppressed alert with its window and does not forward it; its resolve is not sent either", async () => {
    const router = h.router();
    const key = freshKey("suppressed");
    h.setWindow(() => ({ id: "maint-1", reason: "failover drill", endsAt: "2026-11-27T03:00:00Z" }));
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toEqual({ outcome: "suppressed", windowId: "maint-1" });
    expect(await router.handleAlert(alertAt(key, "firing", 0), soon())).toEqual({ outcome: "suppressed", windowId: "maint-1" });
    expect(await h.store.get(key)).toMatchObject({
      suppressedBy: "maint-1",
      suppressedReason: "failover drill",
      suppressed: 1,
      watch: "suppressed",
    });
    const watched: string[] = [];
    for await (const k of h.store.watched()) watched.push(k);
    expect(watched).toContain(key);
    expect(await router.handleAlert(alertAt(key, "resolved", 5), soon())).toMatchObject({ outcome: "deduplicated" });
    expect(h.fake.events).toHaveLength(0);
    const after: string[] = [];
    for await (const k of h.store.watched()) after.push(k);
    expect(after).not.toContain(key);
  });

  it("pages for a problem still firing when its window ends (the sweep's reconcile)", async () => {
    const router = h.router();
    const key = freshKey("window-ends");
    h.setWindow(() => ({ id: "maint-2", endsAt: "2026-11-27T03:00:00Z" }));
    await router.handleAlert(alertAt(key, "firing", 0), soon());
    h.setWindow(() => undefined);
    expect(await router.reconcileKey(key, soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    expect(h.fake.openIncidents().map((i) => i.dedupKey)).toEqual([key]);
    expect((await h.store.get(key))?.watch).toBeUndefined();
  });

  it("still delivers a resolve during a window for a problem PagerDuty already knew", async () => {
    const router = h.router();
    const key = freshKey("resolve-in-window");
    await router.handleAlert(alertAt(key, "firing", 0), soon());
    h.setWindow(() => ({ id: "maint-3" }));
    expect(await router.handleAlert(alertAt(key, "resolved", 5), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    expect(h.fake.openIncidents()).toHaveLength(0);
  });

  it("does not retry an event PagerDuty refuses (400) and keeps its reason", async () => {
    const router = h.router();
    const key = freshKey("invalid");
    h.setRoute(() => ({ route: "broken", routingKeyRef: "invalid" }));
    const outcome = await router.handleAlert(alertAt(key, "firing", 0), soon());
    expect(outcome).toMatchObject({
      outcome: "rejected",
      reason: expect.stringMatching(/^PagerDuty rejected the trigger: 400 .*routing_key/),
    });
    expect(h.fake.requests).toHaveLength(1);
    expect((await h.store.get(key))?.lastDeliveryError).toMatch(/routing_key/);
  });
});
