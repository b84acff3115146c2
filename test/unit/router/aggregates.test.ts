/**
 * The pure parts of group and storm incidents: which aggregate a problem joins, whether it still
 * pages through it, what a member looks like inside it, and the alert PagerDuty gets for the whole.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  MAX_TALLY_KEYS,
  SAMPLE_SLOTS,
  activeMembership,
  aggregateSeverity,
  countChange,
  countOp,
  deriveAggregate,
  groupTargetFor,
  isAggregate,
  isSynced,
  sampleEntry,
  sampleSlot,
  stormTarget,
  tallyKeys,
  topTallies,
  type AggregateRef,
  type SampleEntry,
} from "../../../lib/router/aggregates.ts";
import { SEVERITY_RANK, type ProblemState } from "../../../lib/router/state.ts";
import { buildAlert } from "../../../lib/alert/build.ts";
import { LIMITS } from "../../../lib/alert/limits.ts";
import { SEVERITIES, parseAlert, type AlertStatus, type NormalizedAlert, type Severity } from "../../../lib/alert/schema.ts";
import { parseMatcherList } from "../../../lib/matchers/matcher.ts";
import type { GroupRule } from "../../../lib/routes/policies.ts";
import { stateSeenOnce } from "../../support/alerts.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 26, 17, 0);
const iso = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();
const NOW = new Date(T0 + 30 * MINUTE);

function alert(
  labels: Record<string, string>,
  options: { severity?: Severity; summary?: string; identity?: string; sourceHost?: string } = {},
): NormalizedAlert {
  return buildAlert(
    {
      source: "echo",
      identity: options.identity ?? "k",
      status: "firing",
      severity: options.severity ?? "error",
      occurredAt: iso(0),
      summary: [options.summary ?? "checkout is down"],
      labels,
      sourceHost: options.sourceHost,
    },
    { receivedAt: iso(0) },
  );
}

function problem(overrides: Partial<ProblemState> = {}): ProblemState {
  const lastAlert = overrides.lastAlert ?? alert({ service: "checkout" });
  return stateSeenOnce(lastAlert, overrides);
}

const rule = (name: string, matchers: string[], groupBy: string[] = [], windowMs = 10 * MINUTE): GroupRule => ({
  name,
  matchers: parseMatcherList(matchers).matchers,
  groupBy,
  windowMs,
});

describe("groupTargetFor", () => {
  const checkout = alert({ service: "checkout", env: "prod" });

  it("finds no group when no rule matches, or there are no rules", () => {
    expect(groupTargetFor([], checkout)).toBeUndefined();
    expect(groupTargetFor([rule("payments", ["service=payments"])], checkout)).toBeUndefined();
  });

  it("takes the first rule whose matchers all match", () => {
    const rules = [
      rule("payments", ["service=payments"]),
      rule("checkout-staging", ["service=checkout", "env=staging"]),
      rule("checkout", ["service=checkout"], [], 5 * MINUTE),
      rule("everything", ["env=~.*"]),
    ];
    expect(groupTargetFor(rules, checkout)).toEqual({ key: "group:checkout", kind: "group", rule: "checkout", windowMs: 5 * MINUTE });
  });

  it("puts the group-by label values into the key, in the rule's order", () => {
    expect(groupTargetFor([rule("outage", ["service=checkout"], ["env", "service"])], checkout)?.key).toBe(
      "group:outage:env=prod,service=checkout",
    );
  });

  it("gives different values different groups, and the same values the same group", () => {
    const rules = [rule("outage", ["service=~.+"], ["service"])];
    const payments = groupTargetFor(rules, alert({ service: "payments" }, { identity: "other" }));
    expect(payments?.key).toBe("group:outage:service=payments");
    expect(groupTargetFor(rules, alert({ service: "checkout", pod: "a" }, { identity: "x" }))?.key).toBe(
      groupTargetFor(rules, alert({ service: "checkout", pod: "b" }, { identity: "y" }))?.key,
    );
  });

  it("uses an empty value for a group-by label the alert does not have", () => {
    expect(groupTargetFor([rule("outage", ["service=checkout"], ["service", "region"])], checkout)?.key).toBe(
      "group:outage:service=checkout,region=",
    );
  });

  it("can group by the alert's own fields, as matchers see them", () => {
    expect(groupTargetFor([rule("by-source", ["service=checkout"], ["source", "severity"])], checkout)?.key).toBe(
      "group:by-source:source=echo,severity=error",
    );
  });

  it("bounds a long key to 255 characters, keeping a readable prefix, and keeps long keys distinct", () => {
    const rules = [rule("outage", ["service=checkout"], ["detail"])];
    const long = (end: string) => alert({ service: "checkout", detail: `${"x".repeat(600)}${end}` });
    const a = groupTargetFor(rules, long("a"))!.key;
    const b = groupTargetFor(rules, long("b"))!.key;
    expect(a.length).toBeLessThanOrEqual(LIMITS.dedupKeyChars);
    expect(b.length).toBeLessThanOrEqual(LIMITS.dedupKeyChars);
    expect(a.startsWith("group:outage:detail=xxxx")).toBe(true);
    expect(a).not.toBe(b);
    expect(groupTargetFor(rules, long("a"))!.key).toBe(a);
  });

  it("leaves a key of exactly 255 characters as it is", () => {
    const prefix = "group:outage:detail=";
    const exact = groupTargetFor(
      [rule("outage", ["service=checkout"], ["detail"])],
      alert({ service: "checkout", detail: "y".repeat(LIMITS.dedupKeyChars - prefix.length) }),
    )!.key;
    expect(exact).toBe(`${prefix}${"y".repeat(LIMITS.dedupKeyChars - prefix.length)}`);
  });

  /** The subject is a plain object: an absent label must not be read through its prototype. */
  it("uses an empty value for an absent group-by label named like an Object.prototype member", () => {
    expect(groupTargetFor([rule("outage", ["service=checkout"], ["toString", "constructor"])], checkout)?.key).toBe(
      "group:outage:toString=,constructor=",
    );
  });
});

describe("stormTarget", () => {
  it("is one storm per routing key, joinable while it is open", () => {
    expect(stormTarget("payments-high")).toEqual({ key: "storm:payments-high", kind: "storm", rule: "payments-high", windowMs: undefined });
    expect(stormTarget("platform").key).not.toBe(stormTarget("payments-high").key);
  });
});

describe("isAggregate", () => {
  it("is true only for items that have a kind", () => {
    expect(isAggregate(problem())).toBe(false);
    expect(isAggregate(problem({ kind: "group" }))).toBe(true);
    expect(isAggregate(problem({ kind: "storm" }))).toBe(true);
  });
});

describe("activeMembership", () => {
  const ref = (synced?: AggregateRef["synced"]): AggregateRef => ({
    key: "group:outage",
    kind: "group",
    rule: "outage",
    ...(synced ? { synced } : {}),
  });

  it("is undefined for a problem that never joined an aggregate", () => {
    expect(activeMembership(problem())).toBeUndefined();
  });

  it("is the membership from joining until the aggregate has taken the member in", () => {
    const membership = ref();
    expect(activeMembership(problem({ aggregate: membership }))).toBe(membership);
  });

  it("stays while the member fires, and while its resolve has not been taken in", () => {
    const firing = ref({ status: "firing", at: iso(0) });
    expect(activeMembership(problem({ aggregate: firing, status: "firing", transitionAt: iso(0) }))).toBe(firing);
    expect(activeMembership(problem({ aggregate: firing, status: "resolved", transitionAt: iso(5) }))).toBe(firing);
  });

  it("stays while the problem is still exactly the resolve the aggregate took in", () => {
    const resolved = ref({ status: "resolved", at: iso(5) });
    expect(activeMembership(problem({ aggregate: resolved, status: "resolved", transitionAt: iso(5) }))).toBe(resolved);
  });

  it("ends when the member fires again after its resolve was taken in", () => {
    const resolved = ref({ status: "resolved", at: iso(5) });
    expect(activeMembership(problem({ aggregate: resolved, status: "firing", transitionAt: iso(6) }))).toBeUndefined();
    expect(
      activeMembership(problem({ aggregate: resolved, status: "firing", transitionAt: new Date(T0 + 5 * MINUTE + 1).toISOString() })),
    ).toBeUndefined();
  });

  it("ends for any other state once the resolve was taken in: a later resolve is a new episode too", () => {
    const resolved = ref({ status: "resolved", at: iso(5) });
    expect(activeMembership(problem({ aggregate: resolved, status: "resolved", transitionAt: iso(8) }))).toBeUndefined();
    expect(activeMembership(problem({ aggregate: resolved, status: "firing", transitionAt: iso(5) }))).toBeUndefined();
  });
});

describe("isSynced", () => {
  const synced = (status: AlertStatus, at: string): AggregateRef => ({
    key: "storm:default",
    kind: "storm",
    rule: "default",
    synced: { status, at },
  });

  it("is true when the aggregate has taken in this very state", () => {
    expect(isSynced(problem({ status: "firing", transitionAt: iso(1) }), synced("firing", iso(1)))).toBe(true);
    expect(isSynced(problem({ status: "resolved", transitionAt: iso(2) }), synced("resolved", iso(2)))).toBe(true);
  });

  it("is false for another status, another transition, or nothing taken in yet", () => {
    expect(isSynced(problem({ status: "resolved", transitionAt: iso(1) }), synced("firing", iso(1)))).toBe(false);
    expect(isSynced(problem({ status: "firing", transitionAt: iso(3) }), synced("firing", iso(1)))).toBe(false);
    expect(isSynced(problem({ status: "firing", transitionAt: iso(1) }), { key: "storm:default", kind: "storm", rule: "default" })).toBe(
      false,
    );
  });
});

describe("sampleEntry", () => {
  it("keeps key, status, severity, transition time and summary", () => {
    const state = problem({
      status: "resolved",
      severity: "critical",
      transitionAt: iso(7),
      source: "cloudwatch",
      lastAlert: alert({}, { summary: "disk full" }),
    });
    expect(sampleEntry(state)).toEqual({ dedupKey: "k", status: "resolved", severity: "critical", since: iso(7), summary: "disk full" });
  });

  it("shortens a summary over 160 characters to 160 ending in an ellipsis, never splitting a character", () => {
    expect(sampleEntry(problem({ lastAlert: alert({}, { summary: "s".repeat(160) }) })).summary).toBe("s".repeat(160));
    expect(sampleEntry(problem({ lastAlert: alert({}, { summary: `${"a".repeat(159)}bcdef` }) })).summary).toBe(`${"a".repeat(159)}…`);
    expect(sampleEntry(problem({ lastAlert: alert({}, { summary: `${"a".repeat(158)}😀tail` }) })).summary.isWellFormed()).toBe(true);
  });
});

describe("sampleSlot", () => {
  it("spreads members over a bounded number of slots, the same slot for the same member", () => {
    const slots = new Set(Array.from({ length: 2_000 }, (_, i) => sampleSlot(`member-${i}`)));
    expect(slots.size).toBe(SAMPLE_SLOTS);
    expect(sampleSlot("member-7")).toBe(sampleSlot("member-7"));
  });
});

describe("tallyKeys", () => {
  it("names the service and alert name a storm is summarised by, shortening long values", () => {
    expect(tallyKeys(alert({ service: "checkout", alertname: "TargetDown", env: "prod" }))).toEqual([
      "service=checkout",
      "alertname=TargetDown",
    ]);
    expect(tallyKeys(alert({ env: "prod" }))).toEqual([]);
    expect(tallyKeys(alert({ service: "x".repeat(100) }))[0]).toHaveLength("service=".length + 60);
  });

  it("reads own labels only: a label named like an Object.prototype member is absent unless set", () => {
    expect(tallyKeys(alert({ constructor: "c" } as Record<string, string>))).toEqual([]);
  });
});

describe("countChange", () => {
  const ref = (synced?: AggregateRef["synced"]): AggregateRef => ({
    key: "storm:default",
    kind: "storm",
    rule: "default",
    episode: iso(0),
    ...(synced ? { synced } : {}),
  });
  const member = (status: AlertStatus, minute: number, severity: Severity = "error") =>
    problem({ status, transitionAt: iso(minute), severity, lastAlert: alert({ service: "checkout", alertname: "Down" }, { severity }) });

  it("joins a firing member: one member, one firing, its severity and tally keys", () => {
    expect(countChange(member("firing", 1, "critical"), ref())).toEqual({
      op: `firing@${iso(1)}`,
      members: 1,
      firing: 1,
      severity: "critical",
      tally: ["service=checkout", "alertname=Down"],
      counted: { status: "firing", at: iso(1), v: "critical", tally: ["service=checkout", "alertname=Down"] },
    });
  });

  it("counts a member that resolved before it was counted as a member, not firing", () => {
    expect(countChange(member("resolved", 2), ref())).toEqual({
      op: `resolved@${iso(2)}`,
      members: 1,
      firing: 0,
      counted: { status: "resolved", at: iso(2) },
    });
  });

  it("takes back what the join added when a counted member resolves", () => {
    const counted = { status: "firing" as const, at: iso(1), v: "critical" as const, tally: ["service=checkout"] };
    expect(countChange(member("resolved", 3, "warning"), ref(counted))).toEqual({
      op: `resolved@${iso(3)}`,
      members: 0,
      firing: -1,
      severity: "critical",
      tally: ["service=checkout"],
      counted: { status: "resolved", at: iso(3) },
    });
  });

  it("changes no count when a counted member fires again before its resolve was counted", () => {
    const counted = { status: "firing" as const, at: iso(1), v: "error" as const, tally: [] };
    expect(countChange(member("firing", 4), ref(counted))).toMatchObject({
      members: 0,
      firing: 0,
      counted: { status: "firing", at: iso(4), v: "error" },
    });
  });

  it("is nothing for the very state already counted", () => {
    expect(countChange(member("firing", 1), ref({ status: "firing", at: iso(1) }))).toBeUndefined();
    expect(countChange(member("resolved", 3), ref({ status: "resolved", at: iso(3) }))).toBeUndefined();
  });

  it("is the same change for the same state, however often it is computed (redeliveries, racing instances)", () => {
    const state = member("firing", 1);
    expect(countChange(state, ref())).toEqual(countChange({ ...state }, ref()));
    expect(countOp(state)).toBe(`firing@${iso(1)}`);
  });
});

describe("deriveAggregate", () => {
  const opener = { labels: { service: "checkout", env: "prod" }, sourceHost: "checkout-1", summary: "checkout is down" };
  const entry = (
    dedupKey: string,
    status: AlertStatus,
    severity: Severity,
    minute: number,
    summary = `${dedupKey} at ${minute}`,
  ): SampleEntry => ({
    dedupKey,
    status,
    severity,
    since: iso(minute),
    summary,
  });
  const aggregate = (overrides: Partial<ProblemState> = {}): ProblemState =>
    problem({
      dedupKey: "group:outage:service=checkout",
      source: "alert-relay",
      kind: "group",
      rule: "outage",
      status: "firing",
      openedAt: iso(0),
      opener,
      memberCount: 3,
      firingCount: 2,
      severities: { critical: 0, error: 2, warning: 1, info: 0 },
      sample: {},
      ...overrides,
    });

  it("takes its status from the item and its severity from the worst severity that has a firing member", () => {
    const { status, severity, alert: view } = deriveAggregate(aggregate(), NOW);
    expect([status, severity, view.status, view.severity]).toEqual(["firing", "error", "firing", "error"]);
    expect(
      deriveAggregate(aggregate({ status: "resolved", firingCount: 0, severities: { critical: 0, error: 0, warning: 0, info: 0 } }), NOW)
        .severity,
    ).toBe("info");
  });

  it("summarises a group: how many of its members fire, with the newest firing member as the example", () => {
    const sample = {
      s1: entry("a", "resolved", "error", 9, "a is down"),
      s2: entry("b", "firing", "error", 5, "b is down"),
      s3: entry("c", "firing", "error", 2, "c is down"),
    };
    const view = deriveAggregate(aggregate({ sample }), NOW).alert;
    expect(view.summary).toBe("outage: 2 of 3 grouped alerts firing, e.g. b is down");
    expect(view.class).toBe("alert-group");
  });

  it("uses the opener's summary as the example when no sampled member fires, and the key without an opener", () => {
    expect(deriveAggregate(aggregate({ firingCount: 0 }), NOW).alert.summary).toBe(
      "outage: 0 of 3 grouped alerts firing, e.g. checkout is down",
    );
    const bare = deriveAggregate(aggregate({ opener: undefined, memberCount: 0, firingCount: 0 }), NOW).alert;
    expect(bare.summary).toBe("outage: 0 of 0 grouped alerts firing, e.g. group:outage:service=checkout");
    expect(bare.sourceHost).toBe("alert-relay");
    expect(bare.labels).toEqual({ alert_relay_group: "outage" });
  });

  it("summarises a storm by how many problems fire and the top services and alert names, with singular and plural", () => {
    const storm = (overrides: Partial<ProblemState>) =>
      deriveAggregate(aggregate({ dedupKey: "storm:payments-high", kind: "storm", rule: "payments-high", ...overrides }), NOW).alert;
    const tally = {
      "service=checkout": 7000,
      "service=payments": 2000,
      "service=cart": 5,
      "service=search": 4,
      "service=idle": 0,
      "alertname=TargetDown": 6000,
      "alertname=HighErrorRate": 3009,
    };
    expect(storm({ firingCount: 9009, memberCount: 10_000, tally }).summary).toBe(
      "Alert storm on payments-high: 9009 problems firing (10000 in this storm); top services: checkout " +
        "7000, payments 2000, cart 5; top alertnames: TargetDown 6000, HighErrorRate 3009",
    );
    expect(storm({ firingCount: 1, memberCount: 2, sample: { s1: entry("a", "firing", "error", 0, "a is down") } }).summary).toBe(
      "Alert storm on payments-high: 1 problem firing (2 in this storm), e.g. a is down",
    );
    expect(storm({}).class).toBe("alert-storm");
  });

  it("lists the top tallies of a label, most firing first, ties by name, zero counts left out", () => {
    expect(topTallies({ tally: { "service=b": 2, "service=a": 2, "service=c": 9, "service=z": 0, "alertname=x": 50 } }, "service")).toEqual(
      [
        ["c", 9],
        ["a", 2],
        ["b", 2],
      ],
    );
  });

  it("is an alert from alert-relay under the aggregate's key, stamped with the time of deriving, its id naming the counts", () => {
    const view = deriveAggregate(aggregate(), NOW).alert;
    expect(view).toMatchObject({
      schema: 1,
      id: "group:outage:service=checkout@3/2",
      source: "alert-relay",
      dedupKey: "group:outage:service=checkout",
      occurredAt: NOW.toISOString(),
      sourceHost: "checkout-1",
      links: [],
      images: [],
    });
    expect(deriveAggregate(aggregate({ firingCount: 1 }), NOW).alert.id).not.toBe(view.id);
  });

  it("details the counts, the top tallies and the recent sample, newest first", () => {
    const sample = { s1: entry("old", "resolved", "warning", 0, "old one"), s2: entry("newest", "firing", "critical", 9, "newest one") };
    const details = deriveAggregate(aggregate({ sample, tally: { "service=checkout": 2 }, untallied: 1 }), NOW).alert.details;
    expect(details).toEqual({
      group: "outage",
      firing: 2,
      members: 3,
      openedAt: iso(0),
      topServices: { checkout: 2 },
      topAlertnames: {},
      untallied: 1,
      recent: [
        { dedupKey: "newest", status: "firing", severity: "critical", since: iso(9), summary: "newest one" },
        { dedupKey: "old", status: "resolved", severity: "warning", since: iso(0), summary: "old one" },
      ],
    });
    expect(deriveAggregate(aggregate({ kind: "storm", rule: "payments-high" }), NOW).alert.details).toMatchObject({
      storm: "payments-high",
    });
  });

  it(
    "labels the incident with the opener's labels and the group's or storm's " +
      "name, unless the opener has as many labels as an alert may",
    () => {
      expect(deriveAggregate(aggregate(), NOW).alert.labels).toEqual({ service: "checkout", env: "prod", alert_relay_group: "outage" });
      expect(deriveAggregate(aggregate({ kind: "storm", rule: "payments-high" }), NOW).alert.labels).toEqual({
        service: "checkout",
        env: "prod",
        alert_relay_storm: "payments-high",
      });
      const labels = Object.fromEntries(Array.from({ length: LIMITS.labels }, (_, i) => [`l${i}`, "v"]));
      const view = deriveAggregate(aggregate({ opener: { ...opener, labels } }), NOW).alert;
      expect(view.labels).toEqual(labels);
      expect(() => parseAlert(view)).not.toThrow();
    },
  );

  it("passes the alert schema with a full sample of 255-character keys, a full tally and a long summary", () => {
    const key = (i: number) => `${String(i).padStart(3, "0")}${'"'.repeat(LIMITS.dedupKeyChars - 3)}`;
    const sample = Object.fromEntries(
      Array.from({ length: SAMPLE_SLOTS }, (_, i) => [`s${i}`, entry(key(i), "firing", "critical", i, "\\".repeat(80))]),
    );
    const tally = Object.fromEntries(
      Array.from({ length: MAX_TALLY_KEYS }, (_, i) => [`service=${"x".repeat(58)}${String(i).padStart(2, "0")}`, i + 1]),
    );
    const longKey = `storm:${"g".repeat(LIMITS.dedupKeyChars - 6)}`;
    const view = deriveAggregate(
      aggregate({
        dedupKey: longKey,
        kind: "storm",
        sample,
        tally,
        opener: { ...opener, summary: "o".repeat(LIMITS.summaryChars), sourceHost: "h".repeat(LIMITS.fieldChars) },
      }),
      NOW,
    ).alert;
    expect(() => parseAlert(view)).not.toThrow();
    expect(view.id.length).toBeLessThanOrEqual(LIMITS.idChars);
    expect(view.summary.length).toBeLessThanOrEqual(LIMITS.summaryChars);
  });

  it("names the worst severity with a firing member, for any counts (property)", () => {
    fc.assert(
      fc.property(fc.record({ critical: fc.nat(5), error: fc.nat(5), warning: fc.nat(5), info: fc.nat(5) }), (severities) => {
        const severity = aggregateSeverity({ severities });
        const firing = SEVERITIES.filter((v) => severities[v] > 0);
        expect(SEVERITY_RANK[severity]).toBe(Math.max(0, ...firing.map((v) => SEVERITY_RANK[v])));
      }),
    );
  });
});
