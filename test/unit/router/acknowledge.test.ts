/**
 * Which acknowledges reach PagerDuty (decideAcknowledge, pure) and what the acknowledge router
 * makes of a sender's outcome; the message's schema on both sides of the queue.
 */
import { describe, expect, it, vi } from "vitest";
import { buildAlert } from "../../../lib/alert/build.ts";
import type { AcknowledgeMessage } from "../../../lib/messages/acknowledge-message.ts";
import { parseQueueMessage, queueMessageKind } from "../../../lib/messages/queue-message.ts";
import { createAcknowledgeRouter, decideAcknowledge, type SendAcknowledge } from "../../../lib/router/acknowledge.ts";
import type { ProblemState, ToldRecord } from "../../../lib/router/state.ts";
import { stateSeenOnce } from "../../support/alerts.ts";

const NOW = new Date("2026-11-26T18:05:00.000Z");
const later = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const openIn = { routingKeyRef: "payments", route: "payments-team" };

function state(overrides: Partial<ProblemState> = {}): ProblemState {
  const alert = buildAlert(
    { source: "events-v2", identity: "db-1/disk", status: overrides.status ?? "firing", severity: "critical", summary: ["s"] },
    { receivedAt: "2026-11-26T18:00:00.000Z" },
  );
  return stateSeenOnce(alert, { dedupKey: "db-1/disk", ...overrides });
}
const told = (action: "trigger" | "resolve"): ToldRecord => ({
  action,
  severity: "critical",
  ...openIn,
  alertId: "a",
  at: "2026-11-26T18:00:01.000Z",
});
const triggerClaim = (until: string) => ({ claimId: "c", action: "trigger" as const, severity: "critical" as const, ...openIn, until });

describe("decideAcknowledge", () => {
  it("relays to where the trigger went when PagerDuty has the problem's own incident", () => {
    expect(decideAcknowledge(state({ told: told("trigger"), openIn }), NOW)).toEqual({
      kind: "relay",
      to: openIn,
      why: "PagerDuty has the trigger",
    });
    // A severity raise being delivered does not matter: the incident is there.
    expect(decideAcknowledge(state({ told: told("trigger"), openIn, delivery: triggerClaim(later(5_000)) }), NOW)).toMatchObject({
      kind: "relay",
      to: openIn,
    });
  });

  it(
    "relays after an unconfirmed trigger no one is delivering any more " + "(PagerDuty may have it; an acknowledge for nothing is dropped)",
    () => {
      expect(decideAcknowledge(state({ openIn }), NOW)).toEqual({
        kind: "relay",
        to: openIn,
        why: "PagerDuty may have the trigger (not confirmed)",
      });
      expect(decideAcknowledge(state({ openIn, delivery: triggerClaim(later(-1)) }), NOW)).toMatchObject({ kind: "relay" });
    },
  );

  it("waits while the first trigger is being delivered, so the acknowledge does not overtake it", () => {
    expect(decideAcknowledge(state({ openIn, delivery: triggerClaim(later(5_000)) }), NOW)).toEqual({
      kind: "wait",
      why: "the trigger is being delivered; the acknowledge follows it",
    });
    // Also for a new episode after a resolve.
    expect(decideAcknowledge(state({ told: told("resolve"), openIn, delivery: triggerClaim(later(5_000)) }), NOW)).toMatchObject({
      kind: "wait",
    });
  });

  it("drops an acknowledge for an unknown or resolved problem", () => {
    expect(decideAcknowledge(undefined, NOW)).toMatchObject({ kind: "drop", reason: "unknown" });
    expect(decideAcknowledge(state({ status: "resolved", told: told("resolve") }), NOW)).toEqual({
      kind: "drop",
      reason: "resolved",
      why: "the problem is resolved",
    });
    // Even while its resolve is still to be delivered (or held while flapping): the resolve closes the incident.
    expect(decideAcknowledge(state({ status: "resolved", told: told("trigger"), openIn }), NOW)).toMatchObject({
      kind: "drop",
      reason: "resolved",
    });
  });

  it("waits once for a trigger that may be right behind a young acknowledge, unless a window holds the trigger back", () => {
    expect(decideAcknowledge(undefined, NOW, true)).toMatchObject({
      kind: "wait",
      why: expect.stringContaining("its trigger may still be on its way"),
    });
    expect(decideAcknowledge(state({}), NOW, true)).toMatchObject({ kind: "wait" });
    expect(decideAcknowledge(state({ suppressedBy: "db-maintenance" }), NOW, true)).toMatchObject({ kind: "drop", reason: "not_paged" });
    expect(decideAcknowledge(state({ status: "resolved", told: told("resolve") }), NOW, true)).toMatchObject({
      kind: "drop",
      reason: "resolved",
    });
  });

  it("drops an acknowledge for a problem PagerDuty was never told of, naming the window that held it back", () => {
    expect(decideAcknowledge(state({}), NOW)).toEqual({
      kind: "drop",
      reason: "not_paged",
      why: "PagerDuty was never told of this problem",
    });
    expect(decideAcknowledge(state({ suppressedBy: "db-maintenance" }), NOW)).toEqual({
      kind: "drop",
      reason: "not_paged",
      why: "PagerDuty was never told: suppression window db-maintenance holds the trigger back",
    });
    // A new episode after a confirmed resolve, not sent yet.
    expect(decideAcknowledge(state({ told: told("resolve") }), NOW)).toMatchObject({ kind: "drop", reason: "not_paged" });
  });

  it("drops an acknowledge for a member of a group or storm incident, and for the aggregate itself", () => {
    const member = state({ told: told("trigger"), openIn, aggregate: { key: "group:disks:team=storage", kind: "group", rule: "disks" } });
    expect(decideAcknowledge(member, NOW)).toEqual({
      kind: "drop",
      reason: "aggregate",
      why: "the problem pages through the group incident group:disks:team=storage, which other problems share: acknowledge it in PagerDuty",
    });
    const storm = state({
      openIn,
      aggregate: { key: "storm:default", kind: "storm", rule: "default", synced: { status: "firing", at: "2026-11-26T18:00:00.000Z" } },
    });
    expect(decideAcknowledge(storm, NOW)).toMatchObject({
      kind: "drop",
      reason: "aggregate",
      why: expect.stringContaining("storm incident storm:default"),
    });
    const aggregate = state({ dedupKey: "group:disks:team=storage", kind: "group", rule: "disks", told: told("trigger"), openIn });
    expect(decideAcknowledge(aggregate, NOW)).toMatchObject({ kind: "drop", reason: "aggregate" });
  });

  it("relays for a problem whose group membership has ended and that now pages on its own", () => {
    // The aggregate took in its resolve; this is a new episode with its own incident.
    const ended = state({
      told: told("trigger"),
      openIn,
      aggregate: { key: "group:disks", kind: "group", rule: "disks", synced: { status: "resolved", at: "2026-11-26T17:50:00.000Z" } },
    });
    expect(decideAcknowledge(ended, NOW)).toMatchObject({ kind: "relay", to: openIn });
  });
});

describe("the acknowledge router", () => {
  const message: AcknowledgeMessage = {
    kind: "pagerduty-acknowledge",
    schema: 1,
    id: "events-v2-acknowledge:1",
    source: "events-v2",
    dedupKey: "db-1/disk",
    receivedAt: "2026-11-26T18:04:00.000Z",
  };
  const paging = state({ told: told("trigger"), openIn });

  function setup(found: ProblemState | undefined, result: Awaited<ReturnType<SendAcknowledge>> = { outcome: "accepted" }) {
    const send = vi.fn<SendAcknowledge>(async () => result);
    const get = vi.fn(async () => found);
    return { send, get, router: createAcknowledgeRouter({ store: { get }, send, now: () => NOW }) };
  }

  it("reads the problem by the message's dedup key and sends to where its trigger went, within the deadline", async () => {
    const { router, send, get } = setup(paging);
    expect(await router.handleAcknowledge(message, 12_345)).toEqual({ outcome: "relayed", ...openIn });
    expect(get).toHaveBeenCalledWith("db-1/disk");
    expect(send).toHaveBeenCalledWith("db-1/disk", openIn, 12_345);
  });

  it("turns PagerDuty's refusal into rejected and a failure into retry, and sends nothing it should not", async () => {
    expect(
      await setup(paging, { outcome: "rejected", message: "400 Event object is invalid" }).router.handleAcknowledge(message, 1),
    ).toEqual({
      outcome: "rejected",
      reason: "PagerDuty refused the acknowledge: 400 Event object is invalid",
    });
    expect(
      await setup(paging, { outcome: "retry_later", reason: "429 rate limited (after 3 attempts)" }).router.handleAcknowledge(message, 1),
    ).toEqual({
      outcome: "retry",
      reason: "429 rate limited (after 3 attempts)",
    });
    const unknown = setup(undefined);
    expect(await unknown.router.handleAcknowledge(message, 1)).toMatchObject({ outcome: "not_relayed", reason: "unknown" });
    const inFlight = setup(state({ openIn, delivery: triggerClaim(later(5_000)) }));
    expect(await inFlight.router.handleAcknowledge(message, 1)).toMatchObject({ outcome: "in_flight" });
    expect([unknown.send, inFlight.send].map((send) => send.mock.calls.length)).toEqual([0, 0]);
  });
});

describe("the acknowledge message", () => {
  const valid = {
    kind: "pagerduty-acknowledge",
    schema: 1,
    id: "events-v2-acknowledge:1",
    source: "events-v2",
    dedupKey: "db-1/disk",
    receivedAt: "2026-11-26T18:04:00.000Z",
  };

  it("is told apart from alerts and change events by its kind, and parsed by the same schema on both sides", () => {
    expect(queueMessageKind(valid)).toBe("pagerduty-acknowledge");
    expect(queueMessageKind({ kind: "pagerduty-change" })).toBe("pagerduty-change");
    expect(queueMessageKind({ schema: 1, dedupKey: "x" })).toBeUndefined();
    expect(queueMessageKind({ kind: "constructor" })).toBeUndefined();
    expect(parseQueueMessage(valid)).toEqual(valid);
  });

  it("names every failing field", () => {
    expect(() => parseQueueMessage({ ...valid, dedupKey: "k".repeat(256), receivedAt: "yesterday" })).toThrow(
      /^acknowledge message does not match schema v1: receivedAt: .*; dedupKey: .*255/,
    );
    expect(() => parseQueueMessage({ ...valid, schema: 2 })).toThrow(/schema: /);
  });
});
