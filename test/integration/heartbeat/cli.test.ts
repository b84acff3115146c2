/** `state list` and `state show` with heartbeat trackers in the state table, written by the router runtime itself. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAlert } from "../../../lib/alert/build.ts";
import type { Deliver } from "../../../lib/router/router.ts";
import { createRouterRuntime } from "../../../lib/handlers/router-runtime.ts";
import { createTelemetry } from "../../../lib/platform/observability.ts";
import { startCliHarness, type CliHarness } from "../../support/cli-harness.ts";
import { NOW, parseTable } from "../../support/cli-run.ts";

let h: CliHarness;
const MINUTE = 60_000;
const delivered: string[] = [];
const deliver: Deliver = async (alert, delivery) => {
  delivered.push(`${delivery.action} ${alert.dedupKey}`);
  return { outcome: "accepted" };
};

beforeAll(async () => {
  h = await startCliHarness();
  let clock = NOW.getTime() - 30 * MINUTE;
  const runtime = createRouterRuntime(
    {
      STATE_TABLE_NAME: h.descriptor.tables.state,
      WINDOWS_TABLE_NAME: h.descriptor.tables.windows,
      ROUTES_JSON: JSON.stringify({
        routes: [],
        defaultRoute: { routingKey: "default" },
        heartbeats: [
          { name: "prometheus-watchdog", matchers: ["alertname=Watchdog"], interval: "5m" },
          { name: "datadog-heartbeat", matchers: ["alertname=DatadogHeartbeat"], interval: "10m" },
        ],
      }),
    },
    { doc: h.doc, deliver, telemetry: createTelemetry("router"), now: () => new Date(clock) },
  );
  const beat = (alertname: string) =>
    runtime.router.handleAlert(
      buildAlert(
        {
          source: "prometheus",
          identity: `prometheus:${alertname}`,
          status: "firing",
          severity: "info",
          occurredAt: "2026-11-20T00:00:00Z",
          summary: [alertname],
          labels: { alertname },
        },
        { receivedAt: new Date(clock).toISOString() },
      ),
      Date.now() + 5_000,
    );
  await runtime.heartbeats.sweep(Date.now() + 5_000);
  await beat("Watchdog");
  await beat("DatadogHeartbeat");
  clock += 2 * MINUTE;
  await beat("DatadogHeartbeat");
  // At 17:50 the Watchdog (last beat 17:30) and Datadog (17:32) are both missing; Datadog beats again at 17:51.
  clock = NOW.getTime() - 10 * MINUTE;
  await runtime.heartbeats.sweep(Date.now() + 5_000);
  expect(delivered).toEqual(["trigger heartbeat-missing:prometheus-watchdog", "trigger heartbeat-missing:datadog-heartbeat"]);
  clock = NOW.getTime() - 9 * MINUTE;
  await beat("DatadogHeartbeat");
  clock = NOW.getTime() - 8 * MINUTE;
  await runtime.heartbeats.sweep(Date.now() + 5_000);
  expect(delivered).toHaveLength(3);
});
afterAll(async () => h.close());

describe("state commands with heartbeats", () => {
  it("state list shows the missing heartbeat's problem, and the heartbeats after the problems", async () => {
    const run = await h.run(["state", "list"]);
    expect(run.code).toBe(0);
    expect(parseTable(run.out, "DEDUP KEY").map((row) => [row["DEDUP KEY"], row.STATUS, row.PAGERDUTY])).toEqual([
      ["heartbeat-missing:prometheus-watchdog", "firing", "trigger 10m ago"],
      ["heartbeat-missing:datadog-heartbeat", "resolved", "resolve 8m ago"],
    ]);
    expect(parseTable(run.out, "HEARTBEAT")).toEqual([
      { HEARTBEAT: "datadog-heartbeat", STATE: "ok", "LAST BEAT": "9m ago", EVERY: "10m", BEATS: "3", CHECKED: "8m ago" },
      { HEARTBEAT: "prometheus-watchdog", STATE: "missing for 25m", "LAST BEAT": "30m ago", EVERY: "5m", BEATS: "1", CHECKED: "8m ago" },
    ]);
    expect(run.out).toContain("2 heartbeats: 1 missing, 1 not missing.");
  });

  it("state list --json and --firing stay about problems", async () => {
    const json = JSON.parse((await h.run(["state", "list", "--json"])).out) as { dedupKey: string }[];
    expect(json.map((item) => item.dedupKey).sort()).toEqual([
      "heartbeat-missing:datadog-heartbeat",
      "heartbeat-missing:prometheus-watchdog",
    ]);
    expect((await h.run(["state", "list", "--firing"])).out).not.toContain("HEARTBEAT");
  });

  it("state show heartbeat:<name> explains the heartbeat and what PagerDuty knows", async () => {
    const run = await h.run(["state", "show", "heartbeat:prometheus-watchdog"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("Heartbeat prometheus-watchdog in the local stack");
    expect(run.out).toContain("1 beat recorded.");
    expect(run.out).toContain("a beat is expected every 5m.");
    expect(run.out).toContain("State: missing for 25m.");
    expect(run.out).toContain("problem heartbeat-missing:prometheus-watchdog is firing");
    const back = await h.run(["state", "show", "heartbeat:datadog-heartbeat"]);
    expect(back.out).toContain("State: ok.");
    expect(back.out).toContain("heartbeat-missing:datadog-heartbeat is resolved.");
  });

  it("state show heartbeat-missing:<name> is an ordinary problem", async () => {
    const run = await h.run(["state", "show", "heartbeat-missing:prometheus-watchdog"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("Problem heartbeat-missing:prometheus-watchdog (source alert-relay)");
    expect(run.out).toContain("Summary: No heartbeat from prometheus-watchdog for");
    expect(run.out).toContain("Labels: heartbeat=prometheus-watchdog");
  });
});
