/**
 * The router as deployed: wired from its settings (createRouterRuntime) to dynalite tables,
 * a routes config, routing keys from the environment and the fake PagerDuty. Suppression windows
 * are raw items in the windows table, as an operator writes them in the console.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { PutCommand, DeleteCommand } from "@aws-sdk/lib-dynamodb";
import { startDynalite, createTable, dynamoClient, type Dynalite } from "../../support/dynalite.ts";
import { startFakePagerDuty, type FakePagerDuty } from "../../support/fake-pagerduty.ts";
import { windowsTableDefinition } from "../../../lib/suppression/dynamo-window-store.ts";
import { createRouterRuntime, documentClient, type RouterRuntime } from "../../../lib/handlers/router-runtime.ts";
import { createTelemetry } from "../../../lib/platform/observability.ts";
import { sweepWatched } from "../../../lib/router/sweep.ts";
import { alertAt } from "../../support/alerts.ts";
import { stateTableDefinition } from "../../../lib/local/emulators.ts";

const KEYS = { default: "D".repeat(32), payments: "P".repeat(32) };
let db: Dynalite;
let fake: FakePagerDuty;
let runtime: RouterRuntime;
let doc: ReturnType<typeof documentClient>;
const telemetry = createTelemetry("router");
const errorLog = vi.spyOn(telemetry.logger, "error");
const soon = () => Date.now() + 5_000;
const iso = (offsetMinutes: number) => new Date(Date.now() + offsetMinutes * 60_000).toISOString();

beforeAll(async () => {
  [db, fake] = await Promise.all([startDynalite(), startFakePagerDuty()]);
  await createTable(db.endpoint, stateTableDefinition("state"));
  await createTable(db.endpoint, windowsTableDefinition("windows"));
  doc = documentClient(dynamoClient(db.endpoint));
  runtime = createRouterRuntime(
    {
      STATE_TABLE_NAME: "state",
      WINDOWS_TABLE_NAME: "windows",
      DLQ_URL: "http://127.0.0.1:1/unused",
      WINDOW_REFRESH_MS: "0",
      PAGERDUTY_EVENTS_URL: fake.url,
      PAGERDUTY_ROUTING_KEY: KEYS.default,
      PAGERDUTY_ROUTING_KEY_PAYMENTS: KEYS.payments,
      ROUTES_JSON: JSON.stringify({
        routes: [{ name: "payments", matchers: ["team=payments"], routingKey: "payments" }],
        defaultRoute: { routingKey: "default" },
      }),
    },
    { doc, telemetry },
  );
});
afterAll(async () => Promise.all([fake.close(), db.close()]));
beforeEach(() => fake.reset());

const putWindow = (item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: "windows", Item: item }));
const window = (id: string, matcher: string, extra: Record<string, unknown> = {}) => ({
  id,
  enabled: true,
  matchers: [matcher],
  reason: "test",
  createdBy: "ops@example.com",
  ...extra,
});

describe("router runtime: suppression windows from the table", () => {
  it.each([
    ["active", window("w-active", "case=active", { startsAt: iso(-10), endsAt: iso(60) }), "suppressed"],
    ["open-ended (no startsAt, no endsAt)", window("w-open", "case=open"), "suppressed"],
    ["pending", window("w-pending", "case=pending", { startsAt: iso(30), endsAt: iso(60) }), "delivered"],
    ["expired", window("w-expired", "case=expired", { startsAt: iso(-60), endsAt: iso(-1) }), "delivered"],
    ["disabled", window("w-disabled", "case=disabled", { enabled: false }), "delivered"],
  ])("a %s window → %s", async (name, item, expected) => {
    await putWindow(item);
    const caseLabel = (item.matchers[0] as string).split("=")[1]!;
    const outcome = await runtime.router.handleAlert(alertAt(`win-${caseLabel}`, "firing", 0, { labels: { case: caseLabel } }), soon());
    expect(outcome.outcome).toBe(expected);
    expect(fake.triggerCount(`win-${caseLabel}`)).toBe(expected === "delivered" ? 1 : 0);
  });

  it("ignores a malformed window — never 'suppress everything' — and logs it once per change, in a sentence", async () => {
    errorLog.mockClear();
    await putWindow({ id: "w-malformed", enabled: true, matchers: [], reason: "oops", createdBy: "ops@example.com" });
    await putWindow({ id: "w-bad-regex", enabled: true, matchers: ["case=~(malformed"], reason: "oops", createdBy: "ops@example.com" });
    // A second runtime in the same process (another poller, the sweep) shares what was said.
    const other = createRouterRuntime(
      { STATE_TABLE_NAME: "state", WINDOWS_TABLE_NAME: "windows", WINDOW_REFRESH_MS: "0" },
      { doc, telemetry },
    );
    for (let read = 0; read < 3; read += 1) {
      const outcome = await runtime.router.handleAlert(
        alertAt(`win-malformed-${read}`, "firing", 0, { labels: { case: "malformed" } }),
        soon(),
      );
      expect(outcome.outcome).toBe("delivered");
      await other.router.handleAlert(alertAt(`win-malformed-other-${read}`, "firing", 0, { labels: { case: "other" } }), soon());
    }
    const said = () => errorLog.mock.calls.filter(([message]) => String(message).includes("is malformed and ignored"));
    expect(
      said()
        .map(([message]) => String(message))
        .sort(),
    ).toEqual([
      expect.stringMatching(
        new RegExp(
          String.raw`^Suppression window "w-bad-regex" is malformed and ignored \(it suppresses nothing until fixed\): ` +
            String.raw`matchers\[0\] .*not a valid regex.*suppress validate$`,
        ),
      ),
      expect.stringMatching(/^Suppression window "w-malformed" is malformed and ignored .*: matchers is empty/),
    ]);
    expect(said()[0]?.[1]).toMatchObject({ windowId: "w-bad-regex", problems: [expect.stringContaining("not a valid regex")] });
    // A change of the item (still malformed) is said again, once.
    await putWindow({ id: "w-malformed", enabled: true, matchers: [], reason: "oops, again", createdBy: "ops@example.com" });
    await runtime.router.handleAlert(alertAt("win-malformed-changed", "firing", 0, { labels: { case: "malformed" } }), soon());
    await runtime.router.handleAlert(alertAt("win-malformed-changed-2", "firing", 0, { labels: { case: "malformed" } }), soon());
    expect(said()).toHaveLength(3);
    await doc.send(new DeleteCommand({ TableName: "windows", Key: { id: "w-malformed" } }));
    await doc.send(new DeleteCommand({ TableName: "windows", Key: { id: "w-bad-regex" } }));
  });

  it("routes by the routes config, resolves on the same key, and the sweep pages when a window ends", async () => {
    await putWindow(window("w-ends", "case=ends"));
    const alert = alertAt("win-ends", "firing", 0, { labels: { case: "ends", team: "payments" } });
    expect((await runtime.router.handleAlert(alert, soon())).outcome).toBe("suppressed");
    await putWindow(window("w-ends", "case=ends", { endsAt: iso(-0.01) }));
    const report = await sweepWatched(runtime.store, runtime.router, soon());
    expect(report).toMatchObject({ delivered: 1, failed: [] });
    await runtime.router.handleAlert(alertAt("win-ends", "resolved", 5, { labels: { case: "ends", team: "payments" } }), soon());
    expect(fake.events.map((e) => [e.action, e.routingKey])).toEqual([
      ["trigger", KEYS.payments],
      ["resolve", KEYS.payments],
    ]);
  });
});
