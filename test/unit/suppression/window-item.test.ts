import { describe, expect, it } from "vitest";
import { parseIsoInstant, parseWindowItem, type WindowParseResult } from "../../../lib/suppression/window-item.ts";

/** The example from DESIGN.md, the public contract. */
const DESIGN_EXAMPLE = {
  id: "checkout-db-maintenance",
  enabled: true,
  matchers: ["service=checkout", "env=~prod|staging", "alertname!=Watchdog"],
  startsAt: "2026-11-27T01:00:00Z",
  endsAt: "2026-11-27T03:00:00Z",
  reason: "database failover drill",
  createdBy: "ops@example.com",
};

function problemsOf(item: unknown): string[] {
  const result = parseWindowItem(item);
  if (result.ok) throw new Error(`expected ${JSON.stringify(item)} to be malformed`);
  return result.problems;
}

function windowOf(item: unknown) {
  const result: WindowParseResult = parseWindowItem(item);
  if (!result.ok) throw new Error(`expected a valid window, got: ${result.problems.join("; ")}`);
  return result.window;
}

describe("parseWindowItem", () => {
  it("reads the DESIGN.md example", () => {
    const window = windowOf(DESIGN_EXAMPLE);
    expect(window).toMatchObject({
      id: "checkout-db-maintenance",
      enabled: true,
      reason: "database failover drill",
      createdBy: "ops@example.com",
    });
    expect(window.matchers.map(({ name, op, value }) => `${name}${op}${value}`)).toEqual(DESIGN_EXAMPLE.matchers);
    expect(window.startsAt?.toISOString()).toBe("2026-11-27T01:00:00.000Z");
    expect(window.endsAt?.toISOString()).toBe("2026-11-27T03:00:00.000Z");
  });

  it("leaves out absent times rather than inventing them", () => {
    const { startsAt: _s, endsAt: _e, ...open } = DESIGN_EXAMPLE;
    const window = windowOf(open);
    expect(window.startsAt).toBeUndefined();
    expect(window.endsAt).toBeUndefined();
    expect("endsAt" in window).toBe(false);
  });

  it("reads createdAt and updatedAt", () => {
    const window = windowOf({ ...DESIGN_EXAMPLE, createdAt: "2026-11-26T10:00:00Z", updatedAt: "2026-11-26T11:00:00+01:00" });
    expect(window.createdAt?.toISOString()).toBe("2026-11-26T10:00:00.000Z");
    expect(window.updatedAt?.toISOString()).toBe("2026-11-26T10:00:00.000Z");
  });

  describe("what a person types in the console", () => {
    it("accepts a String Set of matchers (DocumentClient returns a Set)", () => {
      const window = windowOf({ ...DESIGN_EXAMPLE, matchers: new Set(["service=checkout"]) });
      expect(window.matchers).toHaveLength(1);
    });

    it.each([
      ["true", true],
      [" TRUE ", true],
      ["false", false],
      ["False", false],
    ])("accepts enabled %j as %s", (text, expected) => {
      expect(windowOf({ ...DESIGN_EXAMPLE, enabled: text }).enabled).toBe(expected);
    });

    it("treats null times (a NULL attribute) as absent", () => {
      const window = windowOf({ ...DESIGN_EXAMPLE, startsAt: null, endsAt: null, createdAt: null });
      expect(window.startsAt).toBeUndefined();
      expect(window.endsAt).toBeUndefined();
    });

    it("trims reason and createdBy", () => {
      expect(windowOf({ ...DESIGN_EXAMPLE, reason: "  drill  " }).reason).toBe("drill");
    });
  });

  describe("malformed items name the field and say what to write", () => {
    it.each<[string, Record<string, unknown>, string]>([
      [
        "an invalid regex",
        { matchers: ["service=checkout", "env=~(prod"] },
        'matchers[1] "env=~(prod" is not a valid regex: Unterminated group',
      ],
      ["a word for a time", { endsAt: "tomorrow" }, 'endsAt "tomorrow" is not an ISO 8601 time like 2026-11-27T03:00:00Z'],
      ["a time without a zone", { startsAt: "2026-11-27T01:00:00" }, 'startsAt "2026-11-27T01:00:00" has no time zone; add Z for UTC'],
      ["a day that does not exist", { endsAt: "2026-02-30T03:00:00Z" }, 'endsAt "2026-02-30T03:00:00Z" is not an ISO 8601 time'],
      ["an epoch number", { endsAt: 1795748400 }, "endsAt is a number (1795748400); expected an ISO 8601 time"],
      ["an empty time", { endsAt: "" }, "endsAt is empty; remove the attribute, or write a time"],
      [
        "endsAt before startsAt",
        { endsAt: "2026-11-27T00:00:00Z" },
        "endsAt (2026-11-27T00:00:00.000Z) is before startsAt (2026-11-27T01:00:00.000Z)",
      ],
      ["no matchers", { matchers: [] }, "matchers is empty: a window must name what it suppresses"],
      [
        "matchers as one text",
        { matchers: "service=checkout, env=prod" },
        'matchers is a single text "service=checkout, env=prod"; write a list',
      ],
      ["a non-text matcher", { matchers: ["service=checkout", 42] }, "matchers[1] is a number (42); expected text"],
      ["a Number Set of matchers", { matchers: new Set([1]) }, "matchers[0] is a number (1)"],
      ["enabled as a number", { enabled: 1 }, "enabled is a number (1); expected true or false"],
      ["enabled as yes", { enabled: "yes" }, 'enabled is "yes"; expected true or false'],
      ["a blank reason", { reason: "   " }, "reason is empty"],
      ["a misspelt attribute", { endAt: "2026-11-27T03:00:00Z" }, 'the item has unknown attribute "endAt"'],
      ["two matchers in one entry", { matchers: ["alertname!=Watchdog, service=checkout"] }, "looks like several matchers in one entry"],
    ])("%s", (_what, change, problem) => {
      expect(problemsOf({ ...DESIGN_EXAMPLE, ...change }).join("\n")).toContain(problem);
    });

    it("reports a missing enabled instead of guessing either way", () => {
      const { enabled: _enabled, ...item } = DESIGN_EXAMPLE;
      expect(problemsOf(item)).toEqual(["enabled is missing; set it to true to suppress, or false to keep the window without suppressing"]);
    });

    it("lists every problem at once, and keeps the id for the report", () => {
      const result = parseWindowItem({ id: "w1", enabled: "maybe", matchers: ["a=~(", "b"], reason: "" });
      expect(result).toEqual({
        ok: false,
        id: "w1",
        problems: [
          'enabled is "maybe"; expected true or false',
          'matchers[0] "a=~(" is not a valid regex: Unterminated group',
          'matchers[1] "b" has no operator after "b"; use one of = != =~ !~',
          'reason is empty; write e.g. "database failover drill"',
          'createdBy is missing; write e.g. "ops@example.com"',
        ],
      });
    });

    it.each([null, "checkout", 3, ["a=b"]])("refuses a non-object item %j without an id", (item) => {
      const result = parseWindowItem(item);
      expect(result.ok).toBe(false);
      expect(result.ok ? undefined : result.id).toBeUndefined();
      expect(result.ok ? [] : result.problems[0]).toMatch(/^the item is .*; expected an object with id, enabled, matchers/);
    });

    it("refuses an item without an id", () => {
      const { id: _id, ...item } = DESIGN_EXAMPLE;
      expect(problemsOf(item)).toEqual(["id is missing; expected the window's name as text"]);
    });
  });

  describe("never suppress everything", () => {
    it.each([[["alertname!=Watchdog"]], [["team=~.*"]], [["team!=a", "env!~prod"]], [["region="]]])(
      "refuses %j, which matches an alert without labels",
      (matchers) => {
        expect(problemsOf({ ...DESIGN_EXAMPLE, matchers }).join()).toContain("add one that requires a value");
      },
    );

    it("accepts negative matchers next to one that requires a value", () => {
      expect(windowOf({ ...DESIGN_EXAMPLE, matchers: ["alertname!=Watchdog", "service=~.+"] }).matchers).toHaveLength(2);
    });
  });
});

describe("parseWindowItem: schedule (recurring windows)", () => {
  const SCHEDULE = { days: ["sun"], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" };
  const { startsAt: _s, endsAt: _e, ...ONE_OFF } = DESIGN_EXAMPLE;
  const withSchedule = (schedule: unknown) => ({ ...ONE_OFF, schedule });

  it("reads the example of the README and docs/windows.md: days, minutes after local midnight, the zone", () => {
    expect(windowOf(withSchedule(SCHEDULE)).schedule).toEqual({ days: ["sun"], start: 120, end: 240, timeZone: "Europe/Berlin" });
  });

  it("forgives what is unambiguous: day case and full names, a String Set of days, H:MM, zone case", () => {
    const schedule = windowOf(
      withSchedule({ days: new Set(["Sunday", "SAT", " mon "]), start: "2:00", end: "04:00", timeZone: "europe/berlin" }),
    ).schedule;
    expect(schedule).toEqual({ days: ["mon", "sat", "sun"], start: 120, end: 240, timeZone: "Europe/Berlin" });
  });

  it.each<[string, unknown, string]>([
    [
      "a misspelt schedule attribute",
      { ...SCHEDULE, tz: "UTC" },
      'schedule has unknown attribute "tz": a schedule has only days, start, end, timeZone',
    ],
    [
      "null (the console's no value)",
      null,
      "schedule is null; remove the attribute for a window that is not recurring, or write a schedule like",
    ],
    ["a text", "sun 02:00-04:00 Europe/Berlin", 'schedule is "sun 02:00-04:00 Europe/Berlin"; expected an object like {"days": ["sun"]'],
    ["days missing", { ...SCHEDULE, days: undefined }, 'schedule.days is missing; list the days it repeats on, e.g. ["sat", "sun"]'],
    ["days empty", { ...SCHEDULE, days: [] }, "schedule.days is empty; list the days it repeats on"],
    ["days as one text", { ...SCHEDULE, days: "sat,sun" }, 'schedule.days is a single text "sat,sun"; write a list, one day per entry'],
    [
      "an unknown day",
      { ...SCHEDULE, days: ["sun", "funday"] },
      'schedule.days[1] "funday" is not a day; write mon, tue, wed, thu, fri, sat or sun',
    ],
    ["a range of days", { ...SCHEDULE, days: ["mon-fri"] }, 'schedule.days[0] "mon-fri" is a range; list each day instead'],
    ["a day number", { ...SCHEDULE, days: [0] }, 'schedule.days[0] is a number (0); expected a day like "sun"'],
    ["start missing", { ...SCHEDULE, start: undefined }, 'schedule.start is missing; write a 24-hour local time like "02:00"'],
    [
      "a 12-hour time",
      { ...SCHEDULE, start: "2am" },
      'schedule.start "2am" is not a 24-hour time like "02:00" (HH:MM, local time in timeZone)',
    ],
    ["an hour past 23", { ...SCHEDULE, end: "25:00" }, 'schedule.end "25:00" is not a 24-hour time'],
    ["24:00", { ...SCHEDULE, end: "24:00" }, 'schedule.end "24:00" is not a time of day; write "00:00" for midnight'],
    [
      "a number for a time",
      { ...SCHEDULE, end: 400 },
      'schedule.end is a number (400); expected a 24-hour local time like "04:00" (as text)',
    ],
    [
      "timeZone missing",
      { ...SCHEDULE, timeZone: undefined },
      "schedule.timeZone is missing; write the zone the times are local to, as an IANA name",
    ],
    [
      "an unknown zone",
      { ...SCHEDULE, timeZone: "Europe/Berln" },
      'schedule.timeZone "Europe/Berln" is not a time zone this system knows; write an IANA name like "Europe/Berlin"',
    ],
    [
      "a fixed offset",
      { ...SCHEDULE, timeZone: "+01:00" },
      'schedule.timeZone "+01:00" is a fixed offset, which ignores daylight saving time',
    ],
    ["an empty zone", { ...SCHEDULE, timeZone: " " }, 'schedule.timeZone " " is not a time zone this system knows'],
  ])("refuses %s, naming the field and the fix", (_what, schedule, problem) => {
    expect(problemsOf(withSchedule(schedule)).join("\n")).toContain(problem);
  });

  it("lists every schedule problem at once (a malformed schedule never widens into always-on)", () => {
    expect(problemsOf(withSchedule({ days: ["xx"], start: "", end: "4", timeZone: "Mars/Olympus" }))).toHaveLength(4);
  });
});

describe("parseIsoInstant", () => {
  it.each([
    ["2026-11-27T03:00:00Z", "2026-11-27T03:00:00.000Z"],
    ["2026-11-27t03:00:00z", "2026-11-27T03:00:00.000Z"],
    ["2026-11-27 03:00:00Z", "2026-11-27T03:00:00.000Z"],
    ["2026-11-27T03:00Z", "2026-11-27T03:00:00.000Z"],
    ["2026-11-27T03:00:00.250Z", "2026-11-27T03:00:00.250Z"],
    ["2026-11-27T04:30:00+01:30", "2026-11-27T03:00:00.000Z"],
    ["2026-11-26T22:00:00-0500", "2026-11-27T03:00:00.000Z"],
    ["2028-02-29T00:00:00Z", "2028-02-29T00:00:00.000Z"],
  ])("reads %s", (text, iso) => {
    const parsed = parseIsoInstant(text);
    expect("date" in parsed ? parsed.date.toISOString() : parsed.problem).toBe(iso);
  });

  it.each([
    "2026-11-27",
    "27/11/2026 03:00",
    "2027-02-29T00:00:00Z",
    "2026-11-27T24:00:00Z",
    "2026-11-27T03:60:00Z",
    "2026-13-01T00:00:00Z",
  ])("refuses %s", (text) => {
    expect(parseIsoInstant(text)).toEqual({ problem: `${JSON.stringify(text)} is not an ISO 8601 time like 2026-11-27T03:00:00Z` });
  });
});
