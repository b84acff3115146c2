/** `state list|show` explaining group incidents, their members and flapping holds, on state the router itself wrote. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoStateStore } from "../../../lib/state-table/problem-store.ts";
import { createAggregateStore } from "../../../lib/state-table/aggregate-store.ts";
import { createRouter } from "../../../lib/router/router.ts";
import { parseMatcherList } from "../../../lib/matchers/matcher.ts";
import { alertAt } from "../../support/alerts.ts";
import { createPacer } from "../../../lib/state-table/pacer.ts";
import { startCliHarness, type CliHarness } from "../../support/cli-harness.ts";
import { NOW, parseTable } from "../../support/cli-run.ts";

let h: CliHarness;
const MINUTE = 60_000;
/** alertAt's minute 0. */
const T0 = Date.UTC(2026, 10, 26, 17, 0);

beforeAll(async () => {
  h = await startCliHarness();
  let clock = T0;
  const router = createRouter({
    store: createDynamoStateStore({ doc: h.doc, tableName: "cli-state" }),
    aggregates: createAggregateStore({ doc: h.doc, tableName: "cli-state" }),
    policies: {
      groups: [
        { name: "checkout-outage", matchers: parseMatcherList(["service=checkout"]).matchers, groupBy: ["service"], windowMs: 10 * MINUTE },
      ],
      flapping: { changes: 3, withinMs: 10 * MINUTE, stableMs: 120 * MINUTE },
    },
    findWindow: async () => undefined,
    route: () => ({ route: "default", routingKeyRef: "default" }),
    // The CLI only reads state: PagerDuty accepting everything is all these tests need.
    deliver: async () => ({ outcome: "accepted" }),
    now: () => new Date(clock),
  });
  const deadline = Date.now() + 60_000;
  for (const n of [1, 2, 3]) await router.handleAlert(alertAt(`checkout-${n}`, "firing", 0, { labels: { service: "checkout" } }), deadline);
  clock = T0 + 2 * MINUTE;
  await router.handleAlert(alertAt("checkout-1", "resolved", 2, { labels: { service: "checkout" } }), deadline);
  for (const [minute, status] of [
    [3, "firing"],
    [4, "resolved"],
    [5, "firing"],
    [6, "resolved"],
  ] as const) {
    clock = T0 + minute * MINUTE;
    await router.handleAlert(alertAt("bouncy", status, minute), deadline);
    await router.handleAlert(alertAt("bouncy-again", status, minute), deadline);
  }
  clock = T0 + 7 * MINUTE;
  await router.handleAlert(alertAt("bouncy-again", "firing", 7), deadline);
  // A storm on the default key (rate 1 a minute): the first pages on its own, 24 join the storm.
  clock = T0 + 9 * MINUTE;
  const stormy = createRouter({
    store: createDynamoStateStore({ doc: h.doc, tableName: "cli-state" }),
    aggregates: createAggregateStore({ doc: h.doc, tableName: "cli-state" }),
    policies: { storm: { newIncidentsPerMinute: 1 } },
    findWindow: async () => undefined,
    route: () => ({ route: "default", routingKeyRef: "default" }),
    deliver: async () => ({ outcome: "accepted" }),
    now: () => new Date(clock),
  });
  for (let n = 0; n < 25; n += 1)
    await stormy.handleAlert(alertAt(`stormy-${n}`, "firing", 9, { labels: { service: n % 3 ? "search" : "cart" } }), deadline);
  // A pacing record, as the runtime's pacer writes it.
  await createPacer({ doc: h.doc, tableName: "cli-state", now: () => NOW }).admit("default", false);
});
afterAll(async () => h.close());

describe("state list and show for groups and flapping", () => {
  it("notes groups, their members and held resolves in the list", async () => {
    const run = await h.run(["state", "list"]);
    expect(run.code).toBe(0);
    const rows = parseTable(run.out, "DEDUP KEY");
    const note = (key: string) => rows.find((row) => row["DEDUP KEY"] === key)?.NOTE;
    expect(note("group:checkout-outage:service=checkout")).toBe("group of 3, 2 firing");
    expect(note("checkout-2")).toBe("via group:checkout-outage:service=checkout");
    expect(note("bouncy")).toMatch(/^flapping: resolve held until in /);
    // The storm gate's per-minute counters live in the same table but are not problems.
    expect(rows.some((row) => row["DEDUP KEY"]!.startsWith("rate:"))).toBe(false);
  });

  it("explains a group incident with its members, and a member with where it pages", async () => {
    const group = await h.run(["state", "show", "group:checkout-outage:service=checkout"]);
    expect(group.code).toBe(0);
    expect(group.out).toContain("This is a group incident of grouping rule 'checkout-outage'");
    expect(group.out).toContain("3 members, 2 firing. It resolves when every member has resolved.");
    // A member's summary is its firing's: the alert kept with the problem.
    expect(group.out).toMatch(/resolved\s+error\s+since .*checkout-1: checkout-1 is firing/);
    const member = await h.run(["state", "show", "checkout-2"]);
    expect(member.out).toContain("It pages through the group incident group:checkout-outage:service=checkout, not on its own");
  });

  it("explains a storm incident by its counts and top services, paging through its members from their items", async () => {
    const storm = await h.run(["state", "show", "storm:default"]);
    expect(storm.code).toBe(0);
    expect(storm.out).toContain("This is the storm incident of routing key 'default'");
    expect(storm.out).toContain("24 members, 24 firing.");
    expect(storm.out).toContain("Firing by service: search 16, cart 8.");
    expect(storm.out).toContain("Members of this episode (24, from their own items; the newest 20 here, --members lists all):");
    const all = await h.run(["state", "show", "storm:default", "--members"]);
    expect(all.out.match(/^ {2}firing {3}error {4}since .* stormy-\d+: stormy-\d+ is firing$/gm)).toHaveLength(24);
  });

  it("shows the storm gate's counter and the pacing record as what they are, never as problems", async () => {
    const gate = await h.run(["state", "show", "rate:default"]);
    expect(gate.code).toBe(0);
    expect(gate.out).toContain("rate:default in the");
    expect(gate.out).toContain("is a storm-gate counter of alert-relay, not a problem.");
    expect(gate.out).toMatch(/Minute 2026-11-26T17:09: 25 new incidents; the minute before: 0\./);
    expect(gate.out).not.toContain("undefined");
    const pace = await h.run(["state", "show", "pace:default"]);
    expect(pace.out).toContain("is a pacing record of alert-relay, not a problem.");
    expect(pace.out).toContain("at most 100 events a minute go to PagerDuty");
    expect(pace.out).toContain("Sent in the last minute: 1.");
    expect(pace.out).not.toContain("undefined");
    const list = await h.run(["state", "list"]);
    expect(list.out).toContain("Not problems: 1 storm-gate counter, 1 pacing record");
    expect(parseTable(list.out, "DEDUP KEY").some((row) => /^(rate|pace):/.test(row["DEDUP KEY"]!))).toBe(false);
  });

  it("marks a flapping problem that fires again while its incident stays open", async () => {
    const run = await h.run(["state", "show", "bouncy-again"]);
    expect(run.out).toMatch(/It started flapping .* and PagerDuty's incident has stayed open since/);
    const rows = parseTable((await h.run(["state", "list"])).out, "DEDUP KEY");
    expect(rows.find((row) => row["DEDUP KEY"] === "bouncy-again")?.NOTE).toBe("flapped: 1 resolve held");
  });

  it("explains a held resolve of a flapping problem", async () => {
    const run = await h.run(["state", "show", "bouncy"]);
    expect(run.out).toMatch(/It is flapping \(4 recent changes\), so its resolve is held until .*2026-11-26T19:06:00Z/);
    expect(run.out).toContain("Resolves held while flapping so far: 1.");
    expect(NOW.getTime()).toBeGreaterThan(T0);
  });
});
