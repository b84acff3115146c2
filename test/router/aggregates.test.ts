/**
 * The pure parts of group and storm incidents: which aggregate a problem joins, whether it still
 * pages through it, what a member looks like inside it, and the alert PagerDuty gets for the whole.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  LISTED_MEMBERS,
  activeMembership,
  deriveAggregate,
  groupTargetFor,
  isAggregate,
  isSynced,
  memberEntry,
  stormTarget,
  type AggregateRef,
  type MemberEntry,
} from "../../lib/router/aggregates.ts";
import { SEVERITY_RANK, type ProblemState } from "../../lib/router/state.ts";
import { buildAlert } from "../../lib/alert/build.ts";
import { LIMITS } from "../../lib/alert/limits.ts";
import { SEVERITIES, parseAlert, type AlertStatus, type NormalizedAlert, type Severity } from "../../lib/alert/schema.ts";
import { parseMatcherList } from "../../lib/matchers/matcher.ts";
import type { GroupRule } from "../../lib/routing/policies.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 26, 17, 0);
const iso = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();
const NOW = new Date(T0 + 30 * MINUTE);

function alert(labels: Record<string, string>, options: { severity?: Severity; summary?: string; identity?: string; sourceHost?: string } = {}): NormalizedAlert {
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
  return {
    dedupKey: lastAlert.dedupKey, source: "echo", status: "firing", severity: lastAlert.severity, transitionAt: iso(0), eventAt: iso(0),
    firstSeenAt: iso(0), lastSeenAt: iso(0), lastAlertId: lastAlert.id, lastAlert,
    seen: 1, deduplicated: 0, suppressed: 0, stale: 0, ...overrides,
  };
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
    const rules = [rule("payments", ["service=payments"]), rule("checkout-staging", ["service=checkout", "env=staging"]), rule("checkout", ["service=checkout"], [], 5 * MINUTE), rule("everything", ["env=~.*"])];
    expect(groupTargetFor(rules, checkout)).toEqual({ key: "group:checkout", kind: "group", rule: "checkout", windowMs: 5 * MINUTE });
  });

  it("puts the group-by label values into the key, in the rule's order", () => {
    expect(groupTargetFor([rule("outage", ["service=checkout"], ["env", "service"])], checkout)?.key).toBe("group:outage:env=prod,service=checkout");
  });

  it("gives different values different groups, and the same values the same group", () => {
    const rules = [rule("outage", ["service=~.+"], ["service"])];
    const payments = groupTargetFor(rules, alert({ service: "payments" }, { identity: "other" }));
    expect(payments?.key).toBe("group:outage:service=payments");
    expect(groupTargetFor(rules, alert({ service: "checkout", pod: "a" }, { identity: "x" }))?.key).toBe(groupTargetFor(rules, alert({ service: "checkout", pod: "b" }, { identity: "y" }))?.key);
  });

  it("uses an empty value for a group-by label the alert does not have", () => {
    expect(groupTargetFor([rule("outage", ["service=checkout"], ["service", "region"])], checkout)?.key).toBe("group:outage:service=checkout,region=");
  });

  it("can group by the alert's own fields, as matchers see them", () => {
    expect(groupTargetFor([rule("by-source", ["service=checkout"], ["source", "severity"])], checkout)?.key).toBe("group:by-source:source=echo,severity=error");
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
    const exact = groupTargetFor([rule("outage", ["service=checkout"], ["detail"])], alert({ service: "checkout", detail: "y".repeat(LIMITS.dedupKeyChars - prefix.length) }))!.key;
    expect(exact).toBe(`${prefix}${"y".repeat(LIMITS.dedupKeyChars - prefix.length)}`);
  });

  /** The subject is a plain object: an absent label must not be read through its prototype. */
  it("uses an empty value for an absent group-by label named like an Object.prototype member", () => {
    expect(groupTargetFor([rule("outage", ["service=checkout"], ["toString", "constructor"])], checkout)?.key).toBe("group:outage:toString=,constructor=");
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
  const ref = (synced?: AggregateRef["synced"]): AggregateRef => ({ key: "group:outage", kind: "group", rule: "outage", ...(synced ? { synced } : {}) });

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
    expect(activeMembership(problem({ aggregate: resolved, status: "firing", transitionAt: new Date(T0 + 5 * MINUTE + 1).toISOString() }))).toBeUndefined();
  });

  it("ends for any other state once the resolve was taken in: a later resolve is a new episode too", () => {
    const resolved = ref({ status: "resolved", at: iso(5) });
    expect(activeMembership(problem({ aggregate: resolved, status: "resolved", transitionAt: iso(8) }))).toBeUndefined();
    expect(activeMembership(problem({ aggregate: resolved, status: "firing", transitionAt: iso(5) }))).toBeUndefined();
  });
});

describe("isSynced", () => {
  const synced = (status: AlertStatus, at: string): AggregateRef => ({ key: "storm:default", kind: "storm", rule: "default", synced: { status, at } });

  it("is true when the aggregate has taken in this very state", () => {
    expect(isSynced(problem({ status: "firing", transitionAt: iso(1) }), synced("firing", iso(1)))).toBe(true);
    expect(isSynced(problem({ status: "resolved", transitionAt: iso(2) }), synced("resolved", iso(2)))).toBe(true);
  });

  it("is false for another status, another transition, or nothing taken in yet", () => {
    expect(isSynced(problem({ status: "resolved", transitionAt: iso(1) }), synced("firing", iso(1)))).toBe(false);
    expect(isSynced(problem({ status: "firing", transitionAt: iso(3) }), synced("firing", iso(1)))).toBe(false);
    expect(isSynced(problem({ status: "firing", transitionAt: iso(1) }), { key: "storm:default", kind: "storm", rule: "default" })).toBe(false);
  });
});

describe("memberEntry", () => {
  it("keeps status, severity, transition time, summary and source", () => {
    const state = problem({ status: "resolved", severity: "critical", transitionAt: iso(7), source: "cloudwatch", lastAlert: alert({}, { summary: "disk full" }) });
    expect(memberEntry(state)).toEqual({ s: "resolved", v: "critical", t: iso(7), m: "disk full", k: "cloudwatch" });
  });

  it("keeps a summary of 160 characters whole", () => {
    const summary = "s".repeat(160);
    expect(memberEntry(problem({ lastAlert: alert({}, { summary }) })).m).toBe(summary);
  });

  it("shortens a longer summary to 160 characters ending in an ellipsis", () => {
    const summary = `${"a".repeat(159)}bcdef`;
    const m = memberEntry(problem({ lastAlert: alert({}, { summary }) })).m;
    expect(m).toHaveLength(160);
    expect(m).toBe(`${"a".repeat(159)}…`);
  });

  /** A lone surrogate in the member summary would go to PagerDuty. */
  it("does not split a character outside the BMP when shortening", () => {
    const summary = `${"a".repeat(158)}😀tail`;
    expect(memberEntry(problem({ lastAlert: alert({}, { summary }) })).m.isWellFormed()).toBe(true);
  });
});

describe("deriveAggregate", () => {
  const entry = (s: AlertStatus, v: Severity, minute: number, m = `member at ${minute}`, k = "echo"): MemberEntry => ({ s, v, t: iso(minute), m, k });
  const opener = { labels: { service: "checkout", env: "prod" }, sourceHost: "checkout-1", summary: "checkout is down" };
  const aggregate = (members: Record<string, MemberEntry>, overrides: Partial<ProblemState> = {}): ProblemState =>
    problem({
      dedupKey: "group:outage:service=checkout",
      source: "alert-relay",
      kind: "group",
      rule: "outage",
      members,
      openedAt: iso(0),
      opener,
      version: 3,
      ...overrides,
    });

  it("is firing while any member fires, with the worst firing member's severity", () => {
    const { status, severity, alert: view } = deriveAggregate(aggregate({ a: entry("resolved", "critical", 0), b: entry("firing", "warning", 1), c: entry("firing", "error", 2) }), NOW);
    expect(status).toBe("firing");
    expect(severity).toBe("error");
    expect(view.status).toBe("firing");
    expect(view.severity).toBe("error");
  });

  it("is resolved once every member has resolved, with the worst severity overall", () => {
    const { status, severity, alert: view } = deriveAggregate(aggregate({ a: entry("resolved", "warning", 0), b: entry("resolved", "critical", 1), c: entry("resolved", "info", 2) }), NOW);
    expect(status).toBe("resolved");
    expect(severity).toBe("critical");
    expect(view).toMatchObject({ status: "resolved", severity: "critical" });
  });

  it("is resolved at info without members", () => {
    const { status, severity, alert: view } = deriveAggregate(aggregate({}), NOW);
    expect([status, severity]).toEqual(["resolved", "info"]);
    expect(view.summary).toBe("outage: 0 of 0 grouped alerts firing, e.g. checkout is down");
  });

  it("summarises a group: how many of its members fire, with a firing member as the example", () => {
    const view = deriveAggregate(aggregate({ a: entry("resolved", "error", 0, "a is down"), b: entry("firing", "error", 1, "b is down"), c: entry("firing", "error", 2, "c is down") }), NOW).alert;
    expect(view.summary).toBe("outage: 2 of 3 grouped alerts firing, e.g. b is down");
    expect(view.class).toBe("alert-group");
  });

  it("uses the opener's summary as the example once nothing fires", () => {
    const view = deriveAggregate(aggregate({ a: entry("resolved", "error", 0, "a is down") }), NOW).alert;
    expect(view.summary).toBe("outage: 0 of 1 grouped alerts firing, e.g. checkout is down");
  });

  it("falls back to the aggregate's key and alert-relay without an opener", () => {
    const view = deriveAggregate(aggregate({}, { opener: undefined }), NOW).alert;
    expect(view.summary).toBe("outage: 0 of 0 grouped alerts firing, e.g. group:outage:service=checkout");
    expect(view.sourceHost).toBe("alert-relay");
    expect(view.labels).toEqual({ alert_relay_group: "outage" });
  });

  it("summarises a storm, with singular and plural", () => {
    const storm = (members: Record<string, MemberEntry>) => deriveAggregate(aggregate(members, { dedupKey: "storm:payments-high", kind: "storm", rule: "payments-high" }), NOW).alert;
    expect(storm({ a: entry("firing", "error", 0, "a is down"), b: entry("resolved", "error", 1) }).summary).toBe(
      "Alert storm on payments-high: 1 problem firing together (2 in this storm), e.g. a is down",
    );
    expect(storm({ a: entry("firing", "error", 0, "a is down"), b: entry("firing", "error", 1), c: entry("firing", "error", 2) }).summary).toBe(
      "Alert storm on payments-high: 3 problems firing together (3 in this storm), e.g. a is down",
    );
    expect(storm({}).class).toBe("alert-storm");
  });

  it("is an alert from alert-relay under the aggregate's key, stamped with the time of deriving", () => {
    const view = deriveAggregate(aggregate({ a: entry("firing", "error", 0) }), NOW).alert;
    expect(view).toMatchObject({
      schema: 1,
      id: "group:outage:service=checkout@3",
      source: "alert-relay",
      dedupKey: "group:outage:service=checkout",
      occurredAt: NOW.toISOString(),
      receivedAt: NOW.toISOString(),
      sourceHost: "checkout-1",
      links: [],
      images: [],
    });
    expect(deriveAggregate(aggregate({}, { version: undefined }), NOW).alert.id).toBe("group:outage:service=checkout@0");
  });

  it("gives each version of the aggregate its own alert id", () => {
    const members = { a: entry("firing", "error", 0) };
    expect(deriveAggregate(aggregate(members, { version: 4 }), NOW).alert.id).not.toBe(deriveAggregate(aggregate(members, { version: 5 }), NOW).alert.id);
  });

  it("details the group: rule, counts, when it opened, and each member newest first", () => {
    const details = deriveAggregate(aggregate({ old: entry("resolved", "warning", 0, "old one", "cloudwatch"), newest: entry("firing", "critical", 9, "newest one"), middle: entry("firing", "error", 4, "middle one") }), NOW).alert.details;
    expect(details).toEqual({
      group: "outage",
      firing: 2,
      members: 3,
      openedAt: iso(0),
      listed: [
        { dedupKey: "newest", status: "firing", severity: "critical", since: iso(9), source: "echo", summary: "newest one" },
        { dedupKey: "middle", status: "firing", severity: "error", since: iso(4), source: "echo", summary: "middle one" },
        { dedupKey: "old", status: "resolved", severity: "warning", since: iso(0), source: "cloudwatch", summary: "old one" },
      ],
    });
  });

  it("names the storm in the details", () => {
    const details = deriveAggregate(aggregate({}, { kind: "storm", rule: "payments-high" }), NOW).alert.details;
    expect(details.storm).toBe("payments-high");
    expect(details).not.toHaveProperty("group");
  });

  const many = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`member-${String(i).padStart(3, "0")}`, entry(i % 2 ? "firing" : "resolved", "error", i)]));

  it(`lists all of ${LISTED_MEMBERS} members without a notListed count`, () => {
    const details = deriveAggregate(aggregate(many(LISTED_MEMBERS)), NOW).alert.details;
    expect(details.listed).toHaveLength(LISTED_MEMBERS);
    expect(details).not.toHaveProperty("notListed");
  });

  it(`lists the newest ${LISTED_MEMBERS} of more members and counts the rest`, () => {
    const details = deriveAggregate(aggregate(many(LISTED_MEMBERS + 7)), NOW).alert.details as { listed: { dedupKey: string }[]; notListed: number; members: number };
    expect(details.members).toBe(LISTED_MEMBERS + 7);
    expect(details.notListed).toBe(7);
    expect(details.listed).toHaveLength(LISTED_MEMBERS);
    expect(details.listed[0]?.dedupKey).toBe(`member-${String(LISTED_MEMBERS + 6).padStart(3, "0")}`);
    expect(details.listed.map((m) => m.dedupKey)).not.toContain("member-006");
    expect(details.listed.at(-1)?.dedupKey).toBe("member-007");
  });

  it("labels the group incident with the opener's labels and the group's name", () => {
    expect(deriveAggregate(aggregate({}), NOW).alert.labels).toEqual({ service: "checkout", env: "prod", alert_relay_group: "outage" });
  });

  it("labels the storm incident with alert_relay_storm", () => {
    expect(deriveAggregate(aggregate({}, { kind: "storm", rule: "payments-high" }), NOW).alert.labels).toEqual({ service: "checkout", env: "prod", alert_relay_storm: "payments-high" });
  });

  it("adds no label when the opener already has as many labels as an alert may", () => {
    const labels = Object.fromEntries(Array.from({ length: LIMITS.labels }, (_, i) => [`l${i}`, "v"]));
    const view = deriveAggregate(aggregate({}, { opener: { ...opener, labels } }), NOW).alert;
    expect(view.labels).toEqual(labels);
    expect(() => parseAlert(view)).not.toThrow();
  });

  it("does not change the opener's labels", () => {
    const item = aggregate({});
    deriveAggregate(item, NOW);
    expect(item.opener?.labels).toEqual({ service: "checkout", env: "prod" });
  });

  it("passes the alert schema with a long summary, 40+ members and 255-character keys", () => {
    const key = (i: number) => `${String(i).padStart(3, "0")}:${"k".repeat(LIMITS.dedupKeyChars - 4)}`;
    const members = Object.fromEntries(Array.from({ length: LISTED_MEMBERS + 5 }, (_, i) => [key(i), entry("firing", "critical", i, `${"m".repeat(159)}…`)]));
    const longKey = `group:${"g".repeat(LIMITS.dedupKeyChars - 6)}`;
    const item = aggregate(members, { dedupKey: longKey, opener: { ...opener, summary: "o".repeat(LIMITS.summaryChars), sourceHost: "h".repeat(LIMITS.fieldChars) } });
    const view = deriveAggregate(item, NOW).alert;
    expect(() => parseAlert(view)).not.toThrow();
    expect(view.id.length).toBeLessThanOrEqual(LIMITS.idChars);
    expect(view.details.notListed).toBe(5);
  });

  it("shortens a summary over 1024 characters to 1024 ending in an ellipsis", () => {
    const view = deriveAggregate(aggregate({ a: entry("resolved", "error", 0) }, { opener: { ...opener, summary: "o".repeat(LIMITS.summaryChars) } }), NOW).alert;
    expect(view.summary).toHaveLength(LIMITS.summaryChars);
    expect(view.summary.endsWith("o…")).toBe(true);
    expect(view.summary.startsWith("outage: 0 of 1 grouped alerts firing, e.g. ooo")).toBe(true);
    expect(() => parseAlert(view)).not.toThrow();
  });

  /** Keys and summaries that JSON-escape to twice their length must not push the details past the contract. */
  it("passes the alert schema when member keys and summaries are full of characters JSON escapes", () => {
    const members = Object.fromEntries(Array.from({ length: LISTED_MEMBERS + 5 }, (_, i) => [`${String(i).padStart(3, "0")}${'"'.repeat(LIMITS.dedupKeyChars - 3)}`, entry("firing", "error", i, "\\".repeat(160))]));
    expect(() => parseAlert(deriveAggregate(aggregate(members), NOW).alert)).not.toThrow();
  });

  describe("for any members (property)", () => {
    const keyChars = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-:._/@".split(""));
    const memberArb = fc.record({
      s: fc.constantFrom<AlertStatus>("firing", "resolved"),
      v: fc.constantFrom<Severity>(...SEVERITIES),
      t: fc.integer({ min: 0, max: 100_000 }).map((seconds) => new Date(T0 + seconds * 1000).toISOString()),
      m: fc.string({ minLength: 1, maxLength: 160 }),
      k: fc.constantFrom("echo", "cloudwatch", "alertmanager", "datadog"),
    });
    const membersArb = fc.dictionary(fc.string({ unit: keyChars, minLength: 1, maxLength: LIMITS.dedupKeyChars }), memberArb, { maxKeys: 60 });

    it("is firing iff a member fires, its severity is the worst of the members that count, and it passes the alert schema", () => {
      fc.assert(
        fc.property(membersArb, fc.constantFrom("group" as const, "storm" as const), (members, kind) => {
          const { status, severity, alert: view } = deriveAggregate(aggregate(members, { kind }), NOW);
          const entries = Object.values(members);
          const firing = entries.filter((member) => member.s === "firing");
          expect(status).toBe(firing.length > 0 ? "firing" : "resolved");
          const counted = firing.length > 0 ? firing : entries;
          const worst = counted.reduce((rank, member) => Math.max(rank, SEVERITY_RANK[member.v]), 0);
          expect(SEVERITY_RANK[severity]).toBe(worst);
          expect(counted.length === 0 || counted.some((member) => member.v === severity)).toBe(true);
          expect(view.status).toBe(status);
          expect(view.severity).toBe(severity);
          const details = view.details as { listed: { since: string }[]; firing: number; members: number; notListed?: number };
          expect(details.firing).toBe(firing.length);
          expect(details.members).toBe(entries.length);
          expect(details.listed).toHaveLength(Math.min(entries.length, LISTED_MEMBERS));
          expect(details.notListed).toBe(entries.length > LISTED_MEMBERS ? entries.length - LISTED_MEMBERS : undefined);
          const since = details.listed.map((member) => member.since);
          expect(since).toEqual([...since].sort().reverse());
          expect(() => parseAlert(view)).not.toThrow();
        }),
        { numRuns: 150 },
      );
    });
  });
});
