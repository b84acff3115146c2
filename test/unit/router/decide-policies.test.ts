/**
 * decide with its clock and flapping policy (HoldContext): held resolves for flapping problems,
 * and the rate-limited updates a group or storm incident sends PagerDuty as members join.
 */
import { describe, expect, it } from "vitest";
import { decide } from "../../../lib/router/decide.ts";
import { AGGREGATE_UPDATE_MS, type ProblemState, type ToldRecord } from "../../../lib/router/state.ts";
import { buildAlert } from "../../../lib/alert/build.ts";
import type { FlappingPolicy } from "../../../lib/routes/policies.ts";
import { stateSeenOnce } from "../../support/alerts.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 1, 9, 0);
const iso = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();
const at = (minutes: number) => new Date(T0 + minutes * MINUTE);

const route = { route: "default", routingKeyRef: "default" };
const openIn = { routingKeyRef: "payments", route: "payments" };
const window = { id: "maint-1", reason: "drill", endsAt: iso(120) };
const policy: FlappingPolicy = { changes: 3, withinMs: 10 * MINUTE, stableMs: 5 * MINUTE };

function state(overrides: Partial<ProblemState>): ProblemState {
  const status = overrides.status ?? "firing";
  const alert = buildAlert(
    { source: "echo", identity: "k", status, severity: "warning", occurredAt: overrides.transitionAt ?? iso(0), summary: ["s"] },
    { receivedAt: iso(0) },
  );
  return stateSeenOnce(alert, { dedupKey: "k", ...overrides });
}
const told = (action: "trigger" | "resolve", overrides: Partial<ToldRecord> = {}): ToldRecord => ({
  action,
  severity: "warning",
  routingKeyRef: "payments",
  route: "payments",
  alertId: "a",
  at: iso(0),
  ...overrides,
});

describe("decide: a resolve while flapping", () => {
  /** Fired at 0, resolved at 1, fired at 2, resolved at 3: four changes in ten minutes, one more than allowed. */
  const flapping = state({
    status: "resolved",
    transitionAt: iso(3),
    changes: [iso(0), iso(1), iso(2), iso(3)],
    told: told("trigger"),
    openIn,
  });

  it("is held until it has stayed resolved for stableFor, with the time the sweep looks again", () => {
    const decision = decide(flapping, undefined, route, { now: at(3), flapping: policy });
    expect(decision).toEqual({ kind: "hold", until: iso(8), why: expect.stringContaining("flapping (4 changes in 10m)") });
    expect(decision).toMatchObject({ why: expect.stringContaining("stayed resolved for 5m") });
  });

  it("is still held a millisecond before the hold ends", () => {
    expect(decide(flapping, undefined, route, { now: new Date(T0 + 8 * MINUTE - 1), flapping: policy })).toMatchObject({
      kind: "hold",
      until: iso(8),
    });
  });

  it("goes out to the key it triggered on once the hold ends, and later", () => {
    const resolve = {
      kind: "deliver",
      action: "resolve",
      routingKeyRef: "payments",
      route: "payments",
      severity: "warning",
      why: "resolved",
    };
    expect(decide(flapping, undefined, route, { now: at(8), flapping: policy })).toEqual(resolve);
    expect(decide(flapping, undefined, route, { now: at(60), flapping: policy })).toEqual(resolve);
  });

  it("holds for the policy's stableFor, not a fixed time", () => {
    expect(decide(flapping, undefined, route, { now: at(3), flapping: { ...policy, stableMs: 90_000 } })).toMatchObject({
      kind: "hold",
      until: new Date(T0 + 3 * MINUTE + 90_000).toISOString(),
    });
  });

  it("is held even inside a suppression window: windows never hold back resolves, flapping does", () => {
    expect(decide(flapping, window, route, { now: at(4), flapping: policy })).toMatchObject({ kind: "hold" });
  });

  it("also holds a resolve whose trigger was never confirmed", () => {
    expect(decide({ ...flapping, told: undefined }, undefined, route, { now: at(3), flapping: policy })).toMatchObject({ kind: "hold" });
  });

  it("goes out at once when the problem is not flapping: exactly `changes` changes", () => {
    const calm = { ...flapping, changes: [iso(1), iso(2), iso(3)] };
    expect(decide(calm, undefined, route, { now: at(3), flapping: policy })).toMatchObject({
      kind: "deliver",
      action: "resolve",
      routingKeyRef: "payments",
    });
  });

  it("goes out at once when the earlier changes are outside the window ending at the resolve", () => {
    const spread = { ...flapping, changes: [iso(-7), iso(1), iso(2), iso(3)] };
    expect(decide(spread, undefined, route, { now: at(3), flapping: policy })).toMatchObject({ kind: "deliver", action: "resolve" });
    const justInside = { ...flapping, changes: [new Date(T0 - 7 * MINUTE + 1).toISOString(), iso(1), iso(2), iso(3)] };
    expect(decide(justInside, undefined, route, { now: at(3), flapping: policy })).toMatchObject({ kind: "hold" });
  });

  it("goes out at once without recorded changes", () => {
    expect(decide({ ...flapping, changes: undefined }, undefined, route, { now: at(3), flapping: policy })).toMatchObject({
      kind: "deliver",
      action: "resolve",
    });
  });

  it("goes out at once with flapping turned off or no hold context", () => {
    expect(decide(flapping, undefined, route, { now: at(3) })).toMatchObject({ kind: "deliver", action: "resolve" });
    expect(decide(flapping, undefined, route, { now: at(3), flapping: undefined })).toMatchObject({ kind: "deliver", action: "resolve" });
    expect(decide(flapping, undefined, route)).toMatchObject({ kind: "deliver", action: "resolve" });
  });

  it("sends nothing when there is no open incident to resolve, flapping or not", () => {
    expect(decide({ ...flapping, openIn: undefined }, undefined, route, { now: at(3), flapping: policy })).toEqual({
      kind: "none",
      why: "already resolved in PagerDuty",
    });
    expect(decide({ ...flapping, openIn: undefined, told: undefined }, undefined, route, { now: at(3), flapping: policy })).toEqual({
      kind: "none",
      why: "PagerDuty never heard of this problem",
    });
  });

  it("follows docs/policies.md's worked example: a second resolve while flapping moves the hold to stableFor after it", () => {
    const again = { ...flapping, transitionAt: iso(5), changes: [iso(0), iso(1), iso(2), iso(3), iso(4), iso(5)] };
    expect(decide(again, undefined, route, { now: at(8) })).toMatchObject({ kind: "deliver" }); // no policy: not held
    expect(decide(again, undefined, route, { now: at(8), flapping: policy })).toEqual({
      kind: "hold",
      until: iso(10),
      why: expect.stringContaining("flapping (6 changes in 10m)"),
    });
    expect(decide(again, undefined, route, { now: at(10), flapping: policy })).toMatchObject({ kind: "deliver", action: "resolve" });
  });

  it("does not hold a firing problem: flapping only delays resolves", () => {
    const firing = state({
      status: "firing",
      transitionAt: iso(4),
      changes: [iso(0), iso(1), iso(2), iso(3), iso(4)],
      told: told("resolve"),
    });
    expect(decide(firing, undefined, route, { now: at(4), flapping: policy })).toMatchObject({
      kind: "deliver",
      action: "trigger",
      routingKeyRef: "default",
      why: "firing",
    });
  });
});

describe("decide: updates of a group or storm incident", () => {
  /** An aggregate with `count` members, all firing unless `firing` says; PagerDuty last heard `toldMembers` (all firing). */
  const aggregate = (count: number, toldMembers: number | undefined, overrides: Partial<ProblemState> = {}) =>
    state({
      dedupKey: "group:outage",
      source: "alert-relay",
      kind: "group",
      rule: "outage",
      memberCount: count,
      firingCount: count,
      told: told("trigger", toldMembers === undefined ? {} : { members: toldMembers, firing: toldMembers }),
      openIn,
      ...overrides,
    });
  /** `toldFiring` null: PagerDuty's alert gave no firing count. */
  const news = (members: number, firing: number, toldMembers: number, toldFiring: number | null = toldMembers) =>
    `${members} members, ${firing} firing (PagerDuty has ${toldMembers}${toldFiring === null ? "" : `, ${toldFiring} firing`})`;

  it(`sends changed counts as one trigger update once ${AGGREGATE_UPDATE_MS / 1000}s have passed since PagerDuty last heard`, () => {
    const due = new Date(Date.parse(iso(0)) + AGGREGATE_UPDATE_MS);
    expect(decide(aggregate(5, 2), undefined, route, { now: due })).toEqual({
      kind: "deliver",
      action: "trigger",
      routingKeyRef: "payments",
      route: "payments",
      severity: "warning",
      why: news(5, 5, 2),
    });
    expect(decide(aggregate(5, 2), undefined, route, { now: at(30) })).toMatchObject({ kind: "deliver", action: "trigger" });
  });

  it("waits before that, saying what changed and when it goes", () => {
    const due = new Date(Date.parse(iso(0)) + AGGREGATE_UPDATE_MS);
    expect(decide(aggregate(5, 2), undefined, route, { now: new Date(due.getTime() - 1) })).toEqual({
      kind: "none",
      why: `${news(5, 5, 2)}: the update goes to PagerDuty at ${due.toISOString()}`,
    });
  });

  it("counts the wait from when PagerDuty last heard, not from when the incident opened", () => {
    const recent = aggregate(5, 2, { told: told("trigger", { members: 2, firing: 2, at: iso(10) }) });
    expect(decide(recent, undefined, route, { now: at(10.5) })).toMatchObject({ kind: "none", why: expect.stringContaining(iso(11)) });
    expect(decide(recent, undefined, route, { now: at(11) })).toMatchObject({ kind: "deliver", action: "trigger" });
  });

  it("updates when members resolve too: the firing count is what the summary says", () => {
    expect(decide(aggregate(4, 4, { firingCount: 1 }), undefined, route, { now: at(30) })).toMatchObject({
      kind: "deliver",
      why: news(4, 1, 4),
    });
  });

  it("sends nothing when the counts are what PagerDuty last heard", () => {
    expect(decide(aggregate(4, 4), undefined, route, { now: at(30) })).toEqual({ kind: "none", why: "already triggered in PagerDuty" });
  });

  it("counts every member as new when PagerDuty's alert counted none", () => {
    expect(decide(aggregate(2, undefined), undefined, route, { now: at(30) })).toMatchObject({ kind: "deliver", why: news(2, 2, 0, null) });
  });

  it("sends no update for an ordinary problem, or without a clock", () => {
    const plain = state({ told: told("trigger", { members: 0 }), openIn, memberCount: 3, firingCount: 3 });
    expect(decide(plain, undefined, route, { now: at(30) })).toEqual({ kind: "none", why: "already triggered in PagerDuty" });
    expect(decide(aggregate(5, 2), undefined, route)).toEqual({ kind: "none", why: "already triggered in PagerDuty" });
  });

  it("works the same for a storm incident", () => {
    const storm = aggregate(6, 1, { dedupKey: "storm:payments", kind: "storm", rule: "payments" });
    expect(decide(storm, undefined, route, { now: at(1) })).toMatchObject({
      kind: "deliver",
      action: "trigger",
      routingKeyRef: "payments",
      why: news(6, 6, 1),
    });
  });

  it("sends a severity raise at once, without waiting for the update interval", () => {
    const raised = aggregate(5, 2, { severity: "critical" });
    expect(decide(raised, undefined, route, { now: at(0) })).toMatchObject({
      kind: "deliver",
      action: "trigger",
      severity: "critical",
      why: "severity raised from warning to critical",
    });
  });

  it("triggers an aggregate PagerDuty has not heard of yet on its route", () => {
    const fresh = aggregate(3, undefined, { told: undefined, openIn: undefined });
    expect(decide(fresh, undefined, route, { now: at(0) })).toMatchObject({
      kind: "deliver",
      action: "trigger",
      routingKeyRef: "default",
      why: "firing",
    });
  });

  it("resolves an aggregate whose members all resolved on the key it triggered on", () => {
    const resolved = aggregate(3, 3, { status: "resolved", transitionAt: iso(20), firingCount: 0 });
    expect(decide(resolved, undefined, route, { now: at(20) })).toMatchObject({
      kind: "deliver",
      action: "resolve",
      routingKeyRef: "payments",
    });
  });
});
