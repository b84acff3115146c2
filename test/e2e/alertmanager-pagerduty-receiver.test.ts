/**
 * The docs' example of Alertmanager's own PagerDuty receiver pointed at alert-relay's
 * /v2/enqueue (docs/pagerduty-senders.md): its `details:` lines must give windows and routes
 * the alerts' real labels. The block is read from the doc, so the doc cannot drift from what
 * was tested. With a real Alertmanager (skipped when none is installed) the config runs against
 * the local stack: a route on `team` and a window on `service` both take effect.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { ALERTMANAGER_WAIT_MS, findAlertmanager, startAlertmanager, type RunningAlertmanager } from "../support/alertmanager-process.ts";
import { startTestStack, type TestStack } from "../support/test-stack.ts";
import { waitFor } from "../support/wait-for.ts";
import { alertItemKey } from "../../lib/state-table/table.ts";

const DOC = "docs/pagerduty-senders.md";
const MARKER = "<!-- tested by test/e2e/alertmanager-pagerduty-receiver.test.ts";

/** The yaml block right after the marker comment. */
function exampleConfig(): string {
  const text = readFileSync(DOC, "utf8");
  const block = /```yaml\n([\s\S]*?)```/.exec(text.slice(text.indexOf(MARKER)));
  if (text.indexOf(MARKER) < 0 || !block) throw new Error(`${DOC} has no yaml block after ${MARKER}`);
  return block[1]!;
}

describe("docs: Alertmanager's PagerDuty receiver pointed at alert-relay", () => {
  it("copies each label it names from the group's common labels into a top-level detail of the same name", () => {
    const lines = exampleConfig().split("\n");
    expect(lines.some((line) => /^\s+(- )?url: <base>\/v2\/enqueue\b/.test(line))).toBe(true);
    expect(lines.some((line) => /^\s+routing_key: <webhook token>$/.test(line))).toBe(true);
    const details = lines.slice(lines.findIndex((line) => line.trim() === "details:") + 1).filter((line) => line.trim() !== "");
    expect(details.map((line) => line.trim().split(":")[0])).toEqual(["alertname", "service", "team", "env", "region", "account"]);
    for (const line of details) {
      const [, name, label] = /^\s+(\w+): '\{\{ \.CommonLabels\.(\w+) \}\}'$/.exec(line) ?? [];
      expect(name, line).toBeDefined();
      expect(label).toBe(name);
    }
  });

  const binary = findAlertmanager();
  const TOKEN = "Xk7pQ2vN9rT4wY6zB1cD3fG5hJ8mL0sA";
  const KEYS = { default: "D".repeat(32), payments: "P".repeat(32) };
  let t: TestStack;
  let alertmanager: RunningAlertmanager | undefined;

  beforeAll(async () => {
    if (!binary) return;
    t = await startTestStack({
      routingKey: KEYS.default,
      env: {
        WEBHOOK_TOKEN: TOKEN,
        PAGERDUTY_ROUTING_KEY_PAYMENTS: KEYS.payments,
        ROUTES_JSON: JSON.stringify({
          routes: [{ name: "payments", matchers: ["team=payments"], routingKey: "payments" }],
          defaultRoute: { routingKey: "default" },
        }),
      },
    });
    // The doc's config as written, with its placeholders filled and Alertmanager's waits shortened for a test.
    const config = exampleConfig()
      .replace("<base>", t.stack.url)
      .replace("<webhook token>", TOKEN)
      .replace(
        /^(\s*)group_by: .*$/m,
        (line, indent: string) => `${line}\n${indent}group_wait: 100ms\n${indent}group_interval: 1s\n${indent}repeat_interval: 1h`,
      );
    alertmanager = await startAlertmanager(binary, config);
  }, ALERTMANAGER_WAIT_MS * 2);

  afterAll(async () => {
    await alertmanager?.stop();
    await t?.close();
  });

  it.skipIf(!binary)(
    "gives routes and windows the alert's labels: team routes to its key, service is held by a window, the resolve follows",
    async () => {
      await t.doc.send(
        new PutCommand({
          TableName: t.stack.tables.windows,
          Item: { id: "checkout-drill", enabled: true, matchers: ["service=checkout"], reason: "drill", createdBy: "e2e@example.com" },
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // the router re-reads windows every 200 ms here
      const startsAt = new Date(Date.now() - 60_000).toISOString();
      const routed = { alertname: "AmReceiverRouted", service: "billing", team: "payments", env: "prod", severity: "critical" };
      const onWindow = { alertname: "AmReceiverHeld", service: "checkout", team: "web", env: "prod", severity: "warning" };
      await alertmanager!.postAlerts([
        { labels: routed, annotations: { summary: "billing is down" }, startsAt },
        { labels: onWindow, annotations: { summary: "checkout is slow" }, startsAt },
      ]);

      const trigger = await waitFor(() => t.fake.events.find((event) => event.action === "trigger"), 10_000, "the routed trigger");
      expect(trigger.routingKey).toBe(KEYS.payments);
      expect(trigger.event).toMatchObject({
        payload: { severity: "critical", custom_details: expect.objectContaining({ team: "payments", service: "billing" }) },
      });

      // The other alert's problem is recorded as held by the window, and PagerDuty heard nothing of it.
      const held = await waitFor(
        async () => (await problems()).find((item) => item.suppressedBy === "checkout-drill"),
        10_000,
        "the held alert's state",
      );
      // The problem's alert is kept in its own item beside the state.
      const alertItem = (await problems()).find((item) => item.dedupKey === alertItemKey(held.dedupKey as string));
      expect(JSON.parse(alertItem!.alert as string)).toMatchObject({
        labels: expect.objectContaining({ service: "checkout", team: "web" }),
      });
      expect(
        t.fake.requests.filter((request) => (request.body as { dedup_key?: string } | undefined)?.dedup_key === held.dedupKey),
      ).toEqual([]);
      expect(t.fake.events.filter((event) => event.action === "trigger")).toHaveLength(1);

      await alertmanager!.postAlerts([
        { labels: routed, annotations: { summary: "billing is down" }, startsAt, endsAt: new Date(Date.now() - 1000).toISOString() },
      ]);
      const resolve = await waitFor(() => t.fake.events.find((event) => event.action === "resolve"), 10_000, "the resolve");
      expect(resolve).toMatchObject({ routingKey: KEYS.payments, dedupKey: trigger.dedupKey });
    },
    ALERTMANAGER_WAIT_MS * 3,
  );

  async function problems(): Promise<Record<string, unknown>[]> {
    const { Items = [] } = await t.doc.send(new ScanCommand({ TableName: t.stack.tables.state, ConsistentRead: true }));
    return Items;
  }
});
