/**
 * The policy sections of the routes config (groups, flapping, storm, heartbeats), read through
 * parseRoutesConfig as the router reads them: defaults, duration parsing, and problems that name
 * the field an operator has to fix.
 */
import { describe, expect, it } from "vitest";
import { problemsOf } from "./problems-of.ts";
import { parseRoutesConfig } from "../../../lib/routes/routes-config.ts";
import { DEFAULT_FLAPPING, DEFAULT_POLICIES, DEFAULT_STORM } from "../../../lib/routes/policies.ts";
import { matches } from "../../../lib/matchers/matcher.ts";

const base = { routes: [], defaultRoute: { routingKey: "default" } };
const withPolicies = (policies: Record<string, unknown>) => ({ ...base, ...policies });
const policiesOf = (policies: Record<string, unknown>) => parseRoutesConfig(withPolicies(policies)).policies;

const group = (overrides: Record<string, unknown> = {}) => ({ name: "checkout-outage", matchers: ["service=checkout"], ...overrides });
const heartbeat = (overrides: Record<string, unknown> = {}) => ({
  name: "prometheus-watchdog",
  matchers: ["alertname=Watchdog"],
  interval: "5m",
  ...overrides,
});
const flapping = (overrides: Record<string, unknown> = {}) => ({ changes: 3, within: "10m", stableFor: "5m", ...overrides });

const MINUTE = 60_000;

describe("policies in the routes config: defaults", () => {
  it("gives a config without policy sections the default policies: flapping and storm on, no groups or heartbeats", () => {
    const { policies } = parseRoutesConfig(base);
    expect(policies).toEqual(DEFAULT_POLICIES);
    expect(policies.flapping).toEqual({ changes: 3, withinMs: 10 * MINUTE, stableMs: 5 * MINUTE });
    expect(policies.storm).toEqual({ newIncidentsPerMinute: 30 });
    expect(policies.groups).toEqual([]);
    expect(policies.heartbeats).toEqual([]);
  });

  it("keeps the defaults for sections that are absent when others are given", () => {
    const policies = policiesOf({ groups: [group()] });
    expect(policies.flapping).toEqual(DEFAULT_FLAPPING);
    expect(policies.storm).toEqual(DEFAULT_STORM);
    expect(policies.heartbeats).toEqual([]);
    expect(policies.groups).toHaveLength(1);
  });

  it("turns flapping off with false, leaving storm on", () => {
    const policies = policiesOf({ flapping: false });
    expect(policies.flapping).toBeUndefined();
    expect(policies.storm).toEqual(DEFAULT_STORM);
  });

  it("turns storm off with false, leaving flapping on", () => {
    const policies = policiesOf({ storm: false });
    expect(policies.storm).toBeUndefined();
    expect(policies.flapping).toEqual(DEFAULT_FLAPPING);
  });

  it("accepts empty group and heartbeat lists", () => {
    expect(policiesOf({ groups: [], heartbeats: [] })).toEqual(DEFAULT_POLICIES);
  });
});

describe("policies in the routes config: values", () => {
  it.each([
    ["10m", 10 * MINUTE],
    ["90s", 90_000],
    ["1h30m", 90 * MINUTE],
    ["2h", 120 * MINUTE],
    ["1d", 24 * 60 * MINUTE],
    ["1s", 1_000],
    [" 1h 30m ", 90 * MINUTE],
  ])("reads the duration %j as %i ms", (text, ms) => {
    expect(policiesOf({ groups: [group({ window: text })] }).groups[0]?.windowMs).toBe(ms);
    expect(policiesOf({ heartbeats: [heartbeat({ interval: text })] }).heartbeats[0]?.intervalMs).toBe(ms);
    expect(policiesOf({ flapping: flapping({ within: text, stableFor: text }) }).flapping).toMatchObject({ withinMs: ms, stableMs: ms });
  });

  it("reads a flapping policy into changes, withinMs and stableMs", () => {
    expect(policiesOf({ flapping: { changes: 5, within: "15m", stableFor: "90s" } }).flapping).toEqual({
      changes: 5,
      withinMs: 15 * MINUTE,
      stableMs: 90_000,
    });
  });

  it.each([2, 20])("accepts %i flapping changes (the ends of the range)", (changes) => {
    expect(policiesOf({ flapping: flapping({ changes }) }).flapping?.changes).toBe(changes);
  });

  it.each([1, 10_000])("accepts a storm threshold of %i new incidents a minute (the ends of the range)", (rate) => {
    expect(policiesOf({ storm: { newIncidentsPerMinute: rate } }).storm).toEqual({ newIncidentsPerMinute: rate });
  });

  it("reads a grouping rule: parsed matchers, group-by labels, window in ms, description kept", () => {
    const [rule] = policiesOf({
      groups: [group({ description: "one page per checkout outage", groupBy: ["service", "env"], window: "15m" })],
    }).groups;
    expect(rule).toEqual({
      name: "checkout-outage",
      description: "one page per checkout outage",
      matchers: [{ name: "service", op: "=", value: "checkout" }],
      groupBy: ["service", "env"],
      windowMs: 15 * MINUTE,
    });
  });

  it("defaults a group's window to 10m and its groupBy to none, and leaves out an absent description", () => {
    const [rule] = policiesOf({ groups: [group()] }).groups;
    expect(rule?.windowMs).toBe(10 * MINUTE);
    expect(rule?.groupBy).toEqual([]);
    expect(rule).not.toHaveProperty("description");
    expect(rule).not.toHaveProperty("window");
  });

  it("compiles regex matchers so the rule matches what the operator wrote", () => {
    const [rule] = policiesOf({ groups: [group({ matchers: ["service=~check.*", "env!=staging"] })] }).groups;
    expect(matches(rule!.matchers, { service: "checkout-api", env: "prod" })).toBe(true);
    expect(matches(rule!.matchers, { service: "checkout-api", env: "staging" })).toBe(false);
    expect(matches(rule!.matchers, { service: "payments", env: "prod" })).toBe(false);
  });

  it("keeps grouping rules in the order written", () => {
    const names = policiesOf({ groups: [group({ name: "b" }), group({ name: "a" }), group({ name: "c" })] }).groups.map(
      (rule) => rule.name,
    );
    expect(names).toEqual(["b", "a", "c"]);
  });

  it("reads a heartbeat: severity defaults to critical, labels to none, interval in ms", () => {
    const [beat] = policiesOf({ heartbeats: [heartbeat()] }).heartbeats;
    expect(beat).toEqual({
      name: "prometheus-watchdog",
      matchers: [{ name: "alertname", op: "=", value: "Watchdog" }],
      intervalMs: 5 * MINUTE,
      severity: "critical",
      labels: {},
    });
    expect(beat).not.toHaveProperty("interval");
  });

  it("reads a heartbeat's own severity, labels and description", () => {
    const [beat] = policiesOf({
      heartbeats: [heartbeat({ severity: "warning", labels: { team: "platform" }, description: "Prometheus is alive" })],
    }).heartbeats;
    expect(beat).toMatchObject({ severity: "warning", labels: { team: "platform" }, description: "Prometheus is alive" });
  });

  it("allows the same name in groups and heartbeats: names are unique per section", () => {
    const policies = policiesOf({ groups: [group({ name: "watchdog" })], heartbeats: [heartbeat({ name: "watchdog" })] });
    expect(policies.groups[0]?.name).toBe("watchdog");
    expect(policies.heartbeats[0]?.name).toBe("watchdog");
  });
});

describe("policies in the routes config: problems name the field", () => {
  it.each<[string, Record<string, unknown>, string]>([
    // durations
    [
      "a window in words",
      { groups: [group({ window: "10 minutes" })] },
      'groups[0].window "10 minutes" is not a duration; write it like "10m" (s, m, h, d)',
    ],
    [
      "a window as a number of seconds",
      { groups: [group({ window: 600 })] },
      'groups[0].window is a number (600); expected a duration like "10m"',
    ],
    ["a zero window", { groups: [group({ window: "0m" })] }, 'groups[0].window "0m" is not a duration'],
    [
      "a bad heartbeat interval",
      { heartbeats: [heartbeat({ interval: "5 min" })] },
      'heartbeats[0].interval "5 min" is not a duration; write it like "5m"',
    ],
    ["a zero heartbeat interval", { heartbeats: [heartbeat({ interval: "0s" })] }, 'heartbeats[0].interval "0s" is not a duration'],
    [
      "a missing heartbeat interval",
      { heartbeats: [heartbeat({ interval: undefined })] },
      'heartbeats[0].interval is missing; expected a duration like "5m"',
    ],
    // matchers
    [
      "a group without matchers",
      { groups: [group({ matchers: [] })] },
      'groups[0].matchers is empty: give at least one matcher, e.g. ["service=checkout"]',
    ],
    [
      "a heartbeat without matchers",
      { heartbeats: [heartbeat({ matchers: [] })] },
      'heartbeats[0].matchers is empty: give at least one matcher, e.g. ["alertname=Watchdog"]',
    ],
    [
      "an invalid regex matcher",
      { groups: [group({ matchers: ["service=checkout", "env=~(prod"] })] },
      'groups[0].matchers[1] "env=~(prod" is not a valid regex',
    ],
    [
      "a matcher without an operator",
      { heartbeats: [heartbeat({ matchers: ["Watchdog"] })] },
      'heartbeats[0].matchers[0] "Watchdog" has no operator',
    ],
    ["a matcher that is not text", { groups: [group({ matchers: [3] })] }, "groups[0].matchers[0] is a number (3)"],
    [
      "matchers as one text",
      { groups: [group({ matchers: "service=checkout" })] },
      'groups[0].matchers is "service=checkout"; expected a list like ["service=checkout"]',
    ],
    // unknown keys
    [
      "a misspelt group field",
      { groups: [group({ groupby: ["service"] })] },
      'groups[0] has unknown "groupby": a group has only name, description, matchers, groupBy, window',
    ],
    [
      "a misspelt heartbeat field",
      { heartbeats: [heartbeat({ every: "5m" })] },
      'heartbeats[0] has unknown "every": a heartbeat has only name, description, matchers, interval, severity, labels',
    ],
    [
      "an unknown flapping field",
      { flapping: flapping({ count: 3 }) },
      'flapping has unknown "count": flapping has only changes, within, stableFor (or is false to turn it off)',
    ],
    [
      "an unknown storm field",
      { storm: { newIncidentsPerMinute: 30, perKey: true } },
      'storm has unknown "perKey": storm has only newIncidentsPerMinute',
    ],
    [
      "an unknown top-level section",
      { grouping: [] },
      'the config has unknown "grouping": the config has only routes, defaultRoute, groups, flapping, storm and heartbeats',
    ],
    // ranges
    ["too few flapping changes", { flapping: flapping({ changes: 1 }) }, "flapping.changes must be at least 2"],
    ["too many flapping changes", { flapping: flapping({ changes: 21 }) }, "flapping.changes must be at most 20"],
    ["a zero storm threshold", { storm: { newIncidentsPerMinute: 0 } }, "storm.newIncidentsPerMinute must be at least 1"],
    ["a storm threshold out of range", { storm: { newIncidentsPerMinute: 10_001 } }, "storm.newIncidentsPerMinute must be at most 10000"],
    // types and names
    ["groups as an object", { groups: {} }, "groups is an object; expected a list of grouping rules"],
    ["heartbeats as text", { heartbeats: "watchdog" }, 'heartbeats is "watchdog"; expected a list of heartbeats'],
    ["a group that is null", { groups: [null] }, "groups[0] is null; expected a grouping rule object"],
    ["a heartbeat that is a list", { heartbeats: [[]] }, "heartbeats[0] is a list; expected a heartbeat object"],
    [
      "a group without a name",
      { groups: [{ matchers: ["service=checkout"] }] },
      'groups[0].name is missing; expected a name like "checkout-outage"',
    ],
    [
      "a group name with spaces",
      { groups: [group({ name: "checkout outage" })] },
      "groups[0].name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    ],
    [
      "a heartbeat name that is a number",
      { heartbeats: [heartbeat({ name: 7 })] },
      'heartbeats[0].name is a number (7); expected a name like "prometheus-watchdog"',
    ],
    ["a description that is not text", { groups: [group({ description: 3 })] }, "groups[0].description must be text"],
    [
      "groupBy as one text",
      { groups: [group({ groupBy: "service" })] },
      'groups[0].groupBy expected a list of label names like ["service", "env"]',
    ],
    [
      "a groupBy entry that is not a label name",
      { groups: [group({ groupBy: ["service", "bad-label"] })] },
      'groups[0].groupBy[1] must be a label name like "service"',
    ],
    [
      "an unknown heartbeat severity",
      { heartbeats: [heartbeat({ severity: "high" })] },
      "heartbeats[0].severity must be one of critical, error, warning, info",
    ],
    [
      "heartbeat labels as a list",
      { heartbeats: [heartbeat({ labels: [] })] },
      'heartbeats[0].labels expected labels like {"team": "platform"}',
    ],
    [
      "a heartbeat label value that is not text",
      { heartbeats: [heartbeat({ labels: { team: 3 } })] },
      "heartbeats[0].labels.team must be text",
    ],
    [
      "a heartbeat label name that is not a label name",
      { heartbeats: [heartbeat({ labels: { "bad-key": "x" } })] },
      "heartbeats[0].labels.bad-key",
    ],
  ])("refuses %s", (_what, policies, problem) => {
    expect(problemsOf(withPolicies(policies)).join("\n")).toContain(problem);
  });

  it("names the one entry that is wrong in a list of several", () => {
    const problems = problemsOf(
      withPolicies({ groups: [group({ name: "a" }), group({ name: "b", window: "soon" }), group({ name: "c" })] }),
    );
    expect(problems).toEqual(['groups[1].window "soon" is not a duration; write it like "10m" (s, m, h, d)']);
  });

  it("refuses duplicate group names, naming both places, together with other problems", () => {
    const problems = problemsOf(withPolicies({ groups: [group({ name: "g" }), group({ name: "h" }), group({ name: "g", matchers: [] })] }));
    expect(problems).toEqual([
      'groups[2].matchers is empty: give at least one matcher, e.g. ["service=checkout"]',
      'groups[2].name "g" is already used by groups[0]; names must be unique',
    ]);
  });

  it("refuses duplicate heartbeat names", () => {
    const problems = problemsOf(
      withPolicies({ heartbeats: [heartbeat({ name: "w" }), heartbeat({ name: "x" }), heartbeat({ name: "w" })] }),
    );
    expect(problems).toEqual(['heartbeats[2].name "w" is already used by heartbeats[0]; names must be unique']);
  });

  it("reports a duplicate once per repeat, each pointing at the first use", () => {
    const problems = problemsOf(withPolicies({ groups: [group({ name: "g" }), group({ name: "g" }), group({ name: "g" })] }));
    expect(problems).toEqual([
      'groups[1].name "g" is already used by groups[0]; names must be unique',
      'groups[2].name "g" is already used by groups[0]; names must be unique',
    ]);
  });

  it("lists problems from several sections at once", () => {
    const problems = problemsOf(
      withPolicies({
        groups: [group({ window: "x" })],
        heartbeats: [heartbeat({ severity: "loud" })],
        storm: { newIncidentsPerMinute: 0 },
      }),
    );
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).toMatch(/groups\[0\]\.window/);
    expect(problems.join("\n")).toMatch(/heartbeats\[0\]\.severity/);
    expect(problems.join("\n")).toMatch(/storm\.newIncidentsPerMinute/);
  });

  it("says where the config came from", () => {
    expect(() => parseRoutesConfig(withPolicies({ groups: [group({ window: "x" })] }), "ROUTES_JSON")).toThrow(
      /^ROUTES_JSON is not a valid routes config:\n {2}- groups\[0\]\.window "x" is not a duration/,
    );
  });
});

/** `flapping` and `storm` are `false` or an object: a problem inside the object is still named precisely. */
describe("policies in the routes config: problems inside flapping and storm", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["a bad flapping duration", { flapping: flapping({ within: "ten minutes" }) }, 'flapping.within "ten minutes" is not a duration'],
    ["a zero flapping duration", { flapping: flapping({ stableFor: "0s" }) }, 'flapping.stableFor "0s" is not a duration'],
    [
      "a missing flapping field",
      { flapping: flapping({ stableFor: undefined }) },
      'flapping.stableFor is missing; expected a duration like "5m"',
    ],
    ["a fractional number of changes", { flapping: flapping({ changes: 2.5 }) }, "flapping.changes must be a whole number from 2 to 20"],
    [
      "flapping: true",
      { flapping: true },
      'flapping is a boolean (true); expected { "changes": 3, "within": "10m", "stableFor": "5m" } or false',
    ],
    ["storm as text", { storm: "off" }, 'storm is "off"; expected { "newIncidentsPerMinute": 30 } or false'],
  ])("names the field for %s", (_what, policies, problem) => {
    expect(problemsOf(withPolicies(policies)).join("\n")).toContain(problem);
  });

  it("gives exactly one problem for each", () => {
    for (const policies of [
      { flapping: flapping({ within: "ten minutes" }) },
      { flapping: true },
      { storm: "off" },
      { flapping: flapping({ changes: 2.5 }) },
    ]) {
      expect(problemsOf(withPolicies(policies))).toHaveLength(1);
    }
  });
});
