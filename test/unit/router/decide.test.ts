import { describe, expect, it } from "vitest";
import { decide } from "../../../lib/router/decide.ts";
import type { ProblemState } from "../../../lib/router/state.ts";
import { buildAlert } from "../../../lib/alert/build.ts";
import { stateSeenOnce } from "../../support/alerts.ts";

const route = { route: "default", routingKeyRef: "default" };
const otherRoute = { route: "payments", routingKeyRef: "payments" };
const window = { id: "maint-1", reason: "drill", endsAt: "2026-11-27T03:00:00Z" };

function state(overrides: Partial<ProblemState>): ProblemState {
  const alert = buildAlert(
    { source: "echo", identity: "k", status: overrides.status ?? "firing", severity: "warning", summary: ["s"] },
    { receivedAt: "2026-11-26T18:00:00.000Z" },
  );
  return stateSeenOnce(alert, { dedupKey: "k", ...overrides });
}
const told = (action: "trigger" | "resolve", severity: ProblemState["severity"] = "warning") => ({
  action,
  severity,
  routingKeyRef: "payments",
  route: "payments",
  alertId: "a",
  at: "2026-11-26T18:00:01.000Z",
});

describe("decide", () => {
  it("triggers a new firing problem on its route", () => {
    expect(decide(state({}), undefined, route)).toMatchObject({ kind: "deliver", action: "trigger", routingKeyRef: "default" });
  });
  it("does not trigger twice", () => {
    expect(decide(state({ told: told("trigger") }), undefined, route)).toMatchObject({ kind: "none" });
  });
  it("delivers a severity raise to the key of the original trigger, not a lowering", () => {
    expect(decide(state({ severity: "critical", told: told("trigger", "warning") }), undefined, route)).toMatchObject({
      kind: "deliver",
      action: "trigger",
      routingKeyRef: "payments",
      severity: "critical",
    });
    expect(decide(state({ severity: "info", told: told("trigger", "warning") }), undefined, route)).toMatchObject({ kind: "none" });
  });
  it("resolves on the key it triggered on, even when routing changed", () => {
    const resolved = state({ status: "resolved", told: told("trigger"), openIn: { routingKeyRef: "payments", route: "payments" } });
    expect(decide(resolved, undefined, route)).toMatchObject({ kind: "deliver", action: "resolve", routingKeyRef: "payments" });
  });
  it("sends no resolve for a problem PagerDuty never heard of, or already resolved", () => {
    expect(decide(state({ status: "resolved" }), undefined, route)).toMatchObject({
      kind: "none",
      why: "PagerDuty never heard of this problem",
    });
    expect(decide(state({ status: "resolved", told: told("resolve") }), undefined, route)).toMatchObject({ kind: "none" });
  });
  it("resolves after an unconfirmed trigger (a router died after sending it)", () => {
    const resolved = state({ status: "resolved", openIn: { routingKeyRef: "payments", route: "payments" } });
    expect(decide(resolved, undefined, route)).toMatchObject({ kind: "deliver", action: "resolve", routingKeyRef: "payments" });
  });
  it("re-sends an unconfirmed trigger to the same key, window or not", () => {
    const firing = state({ openIn: { routingKeyRef: "payments", route: "payments" } });
    expect(decide(firing, window, otherRoute)).toMatchObject({ kind: "deliver", action: "trigger", routingKeyRef: "payments" });
  });
  it("suppresses a firing problem inside a window, including a severity raise", () => {
    expect(decide(state({}), window, route)).toEqual({ kind: "suppress", window });
    expect(decide(state({ severity: "critical", told: told("trigger") }), window, route)).toEqual({ kind: "suppress", window });
  });
  it("still delivers a resolve inside a window for a problem PagerDuty knew", () => {
    const resolved = state({ status: "resolved", told: told("trigger"), openIn: { routingKeyRef: "payments", route: "payments" } });
    expect(decide(resolved, window, route)).toMatchObject({ kind: "deliver", action: "resolve" });
  });
});
