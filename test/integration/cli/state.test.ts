/** `state list|show` on problem state written by the router's own store (createDynamoStateStore) in dynalite. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoStateStore } from "../../../lib/state-table/problem-store.ts";
import { isPlaceholderAlert } from "../../../lib/state-table/table.ts";
import { type StateStore } from "../../../lib/router/stores.ts";
import { alertAt } from "../../support/alerts.ts";
import { startCliHarness, type CliHarness } from "../../support/cli-harness.ts";
import { NOW, parseTable } from "../../support/cli-run.ts";

let h: CliHarness;
let store: StateStore;
/** When the router saw everything: 30 minutes before the CLI looks. */
const SEEN = new Date(NOW.getTime() - 30 * 60_000);
const later = (minutes: number) => new Date(SEEN.getTime() + minutes * 60_000).toISOString();

async function trigger(key: string, route: string, at: string) {
  const state = (await store.get(key))!;
  const claim = { claimId: `c-${key}`, action: "trigger" as const, severity: state.severity, routingKeyRef: route, route, until: later(1) };
  expect(await store.claim(state, claim, SEEN)).toBe(true);
  await store.confirm(key, claim.claimId, {
    action: "trigger",
    routingKeyRef: route,
    route,
    severity: state.severity,
    alertId: state.lastAlertId,
    at,
  });
}

beforeAll(async () => {
  h = await startCliHarness();
  store = createDynamoStateStore({ doc: h.doc, tableName: "cli-state" });
  // Suppressed while firing, after one duplicate.
  await store.record(alertAt("checkout-latency", "firing", 0, { labels: { service: "checkout" } }), SEEN);
  await store.record(alertAt("checkout-latency", "firing", 1, { labels: { service: "checkout" } }), SEEN);
  await store.markSuppressed("checkout-latency", { id: "checkout-db-maintenance", reason: "database failover drill" });
  // Triggered on the payments key.
  await store.record(alertAt("payments-errors", "firing", 2, { severity: "critical" }), SEEN);
  await trigger("payments-errors", "payments", later(0));
  // Triggered, resolved, and the resolve confirmed: forgotten after the retention.
  await store.record(alertAt("disk-full", "firing", 3), SEEN);
  await trigger("disk-full", "default", later(0));
  await store.record(alertAt("disk-full", "resolved", 10), SEEN);
  const resolved = (await store.get("disk-full"))!;
  await store.claim(
    resolved,
    { claimId: "r1", action: "resolve", severity: "error", routingKeyRef: "default", route: "default", until: later(1) },
    SEEN,
  );
  await store.confirm("disk-full", "r1", {
    action: "resolve",
    routingKeyRef: "default",
    route: "default",
    severity: "error",
    alertId: resolved.lastAlertId,
    at: later(0),
  });
  // A delivery in flight past NOW, and one that failed.
  await store.record(alertAt("db-down", "firing", 4), SEEN);
  await store.claim(
    (await store.get("db-down"))!,
    { claimId: "d1", action: "trigger", severity: "error", routingKeyRef: "default", route: "default", until: "2026-11-26T18:05:00.000Z" },
    SEEN,
  );
  await store.record(alertAt("queue-lag", "firing", 5), SEEN);
  await store.claim(
    (await store.get("queue-lag"))!,
    { claimId: "q1", action: "trigger", severity: "error", routingKeyRef: "default", route: "default", until: later(1) },
    SEEN,
  );
  await store.release("queue-lag", "q1", "PagerDuty answered 400: Invalid routing key");
  // A late firing after the resolve of the same problem: counted as stale, never applied.
  await store.record(alertAt("flappy", "resolved", 20), SEEN);
  await store.record(alertAt("flappy", "firing", 15), SEEN);
  // Resolved 31 days ago: past the retention, so gone as far as the router is concerned (TTL deletes lazily).
  await store.record(alertAt("ancient", "resolved", 0), new Date(NOW.getTime() - 31 * 86_400_000));
});
afterAll(async () => h.close());

/** The row of one problem in `state list`'s table. */
const rowOf = (output: string, key: string) => parseTable(output, "DEDUP KEY").find((row) => row["DEDUP KEY"] === key);

describe("state list", () => {
  it("tabulates every problem: status, severity, what PagerDuty was told, suppression, counts, last seen", async () => {
    const run = await h.run(["state", "list"]);
    expect(run.code).toBe(0);
    expect(rowOf(run.out, "checkout-latency")).toEqual({
      "DEDUP KEY": "checkout-latency",
      STATUS: "firing",
      SEVERITY: "error",
      PAGERDUTY: "not told",
      NOTE: "window checkout-db-maintenance",
      SEEN: "2",
      DEDUPED: "1",
      SUPPRESSED: "1",
      STALE: "0",
      "LAST SEEN": "30m ago",
    });
    expect(rowOf(run.out, "payments-errors")).toMatchObject({ STATUS: "firing", SEVERITY: "critical", PAGERDUTY: "trigger 30m ago" });
    expect(rowOf(run.out, "disk-full")).toMatchObject({ STATUS: "resolved", PAGERDUTY: "resolve 30m ago" });
    expect(rowOf(run.out, "db-down")?.PAGERDUTY).toBe("trigger in flight");
    expect(rowOf(run.out, "queue-lag")?.PAGERDUTY).toBe("not told (delivery failed)");
    expect(rowOf(run.out, "flappy")).toMatchObject({ STATUS: "resolved", NOTE: "", SEEN: "2", DEDUPED: "0", STALE: "1" });
    expect(rowOf(run.out, "ancient")).toBeUndefined();
    expect(run.out).toContain("6 problems: 4 firing, 2 resolved.");
  });

  it("lists firing problems first", async () => {
    const statuses = parseTable((await h.run(["state", "list"])).out, "DEDUP KEY").map((row) => row.STATUS);
    expect(statuses).toEqual(["firing", "firing", "firing", "firing", "resolved", "resolved"]);
  });

  it("shows only firing problems with --firing", async () => {
    const run = await h.run(["state", "list", "--firing"]);
    expect(rowOf(run.out, "payments-errors")).toBeDefined();
    expect(rowOf(run.out, "disk-full")).toBeUndefined();
    expect(run.out).toContain("4 problems: 4 firing, 0 resolved.");
  });

  it("prints the stored items with --json", async () => {
    const items = JSON.parse((await h.run(["state", "list", "--json"])).out) as { dedupKey: string }[];
    expect(items.map((item) => item.dedupKey).sort()).toEqual([
      "checkout-latency",
      "db-down",
      "disk-full",
      "flappy",
      "payments-errors",
      "queue-lag",
    ]);
    expect(items.find((item) => item.dedupKey === "payments-errors")).toEqual(await store.get("payments-errors"));
  });
});

describe("state show", () => {
  it("explains what PagerDuty was told, where and when", async () => {
    const run = await h.run(["state", "show", "payments-errors"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("It is firing since 2026-11-26T17:02:00Z (58m ago), severity critical.");
    expect(run.out).toContain(
      "PagerDuty was told: trigger at 2026-11-26T17:30:00Z (30m ago) on routing key ref 'payments' (route payments), severity critical",
    );
    expect(run.out).toContain("So PagerDuty has it open");
    expect(run.out).toContain("Kept while firing");
  });

  it("names the suppressing window and its reason", async () => {
    const run = await h.run(["state", "show", "checkout-latency"]);
    expect(run.out).toContain("PagerDuty has not been told anything about this problem.");
    expect(run.out).toContain("It is held back by suppression window checkout-db-maintenance (database failover drill).");
    expect(run.out).toContain("Labels: alertname=checkout-latency, service=checkout");
    expect(run.out).toContain("Events: 2 recorded; 1 duplicate, 1 suppressed, 0 stale");
  });

  it("says a delivery is in flight, and until when", async () => {
    expect((await h.run(["state", "show", "db-down"])).out).toContain(
      "A delivery is in flight until 2026-11-26T18:05:00Z (in 5m): trigger on routing key ref 'default' (route default)",
    );
  });

  it("shows the last delivery error", async () => {
    expect((await h.run(["state", "show", "queue-lag"])).out).toContain("Last delivery error: PagerDuty answered 400: Invalid routing key");
  });

  it("says when a resolved problem is forgotten", async () => {
    const run = await h.run(["state", "show", "disk-full"]);
    expect(run.out).toContain("PagerDuty was told: resolve at");
    expect(run.out).toContain("So PagerDuty is up to date");
    expect(run.out).toContain("this one at 2026-12-26T17:30:00Z (in 29d 23h)");
  });

  it("prints the stored item with --json", async () => {
    const run = await h.run(["state", "show", "flappy", "--json"]);
    // flappy never fired (its firing came stale): no alert is kept for it, and none is printed.
    const { lastAlert, ...stored } = (await store.get("flappy"))!;
    expect(isPlaceholderAlert(lastAlert)).toBe(true);
    expect(JSON.parse(run.out)).toEqual(stored);
    const fired = await h.run(["state", "show", "db-down", "--json"]);
    expect(JSON.parse(fired.out)).toEqual(await store.get("db-down"));
    expect(JSON.parse(fired.out).lastAlert).toMatchObject({ dedupKey: "db-down", status: "firing" });
  });

  it("fails clearly for an unknown key, and for one past its retention", async () => {
    for (const key of ["no-such-problem", "ancient"]) {
      const run = await h.run(["state", "show", key]);
      expect(run.code).toBe(1);
      expect(run.err).toContain(`no problem with dedupKey "${key}"`);
    }
  });

  it("needs a dedupKey", async () => {
    const run = await h.run(["state", "show"]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("name the problem's dedupKey");
  });
});
