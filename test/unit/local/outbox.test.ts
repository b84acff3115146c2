import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alertAt } from "../../support/alerts.ts";
import { createOutboxAcknowledgeSender, createOutboxDeliver, DRY_RUN_ROUTING_KEY } from "../../../lib/local/outbox.ts";

const dir = mkdtempSync(join(tmpdir(), "alert-relay-outbox-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const soon = () => Date.now() + 5_000;

describe("dry-run outbox", () => {
  it("answers accepted, appends the exact event without its key, and prints what would be sent", async () => {
    const path = join(dir, "outbox.jsonl");
    const printed: string[] = [];
    const deliver = createOutboxDeliver({ path, print: (line) => printed.push(line), now: () => new Date("2026-11-26T18:00:05Z") });
    const firing = alertAt("checkout-latency", "firing", 0);
    const decision = { action: "trigger" as const, routingKeyRef: "payments", route: "payments-team", severity: "critical" as const };

    expect(await deliver(firing, decision, soon())).toEqual({ outcome: "accepted" });
    expect(await deliver(alertAt("checkout-latency", "resolved", 5), { ...decision, action: "resolve" }, soon())).toEqual({
      outcome: "accepted",
    });

    const events = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events).toEqual([
      expect.objectContaining({
        routing_key: DRY_RUN_ROUTING_KEY,
        event_action: "trigger",
        dedup_key: firing.dedupKey,
        payload: expect.objectContaining({ summary: firing.summary, severity: "critical", source: firing.sourceHost }),
      }),
      { routing_key: DRY_RUN_ROUTING_KEY, event_action: "resolve", dedup_key: firing.dedupKey },
    ]);
    expect(printed).toHaveLength(2);
    expect(printed[0]).toBe(
      `18:00:05  TRIGGER  critical  ${firing.summary}  [dedup ${firing.dedupKey}, route ` +
        `payments-team (key payments)]  → dry run, not sent (written to outbox.jsonl)`,
    );
    expect(printed[1]).toMatch(/^18:00:05 {2}RESOLVE {2}critical/);
  });

  it("writes an acknowledge the same way: the exact event without its key, and a line", async () => {
    const path = join(dir, "acks.jsonl");
    const printed: string[] = [];
    const send = createOutboxAcknowledgeSender({ path, print: (line) => printed.push(line), now: () => new Date("2026-11-26T18:00:05Z") });
    expect(await send("db-1/disk", { routingKeyRef: "payments", route: "payments-team" }, soon())).toEqual({ outcome: "accepted" });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      routing_key: DRY_RUN_ROUTING_KEY,
      event_action: "acknowledge",
      dedup_key: "db-1/disk",
    });
    expect(printed).toEqual([
      "18:00:05  ACK      [dedup db-1/disk, route payments-team (key payments)]  → dry run, not sent (written to acks.jsonl)",
    ]);
  });

  it("asks for a retry when the outbox cannot be written, like an unreachable PagerDuty", async () => {
    const deliver = createOutboxDeliver({ path: join(dir, "missing", "outbox.jsonl"), print: () => {} });
    const outcome = await deliver(
      alertAt("k", "firing", 0),
      { action: "trigger", routingKeyRef: "default", route: "default", severity: "error" },
      soon(),
    );
    expect(outcome).toEqual({ outcome: "retry_later", reason: expect.stringMatching(/outbox .*missing.* not writable: ENOENT/) });
  });
});
