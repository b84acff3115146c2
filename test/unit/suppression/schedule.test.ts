import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeSchedule, firstInstantReading, parseTimeZone, type WeeklySchedule } from "../../../lib/suppression/schedule.ts";
import {
  currentOccurrence,
  currentOccurrenceEnd,
  findSuppressingWindow,
  nextOccurrence,
  windowState,
} from "../../../lib/suppression/suppress.ts";
import { parseWindowItem, type SuppressionWindow } from "../../../lib/suppression/window-item.ts";
import { alertAt } from "../../support/alerts.ts";

const at = (iso: string) => new Date(iso);

function recurring(schedule: Record<string, unknown>, extra: Record<string, unknown> = {}): SuppressionWindow {
  const result = parseWindowItem({
    id: "weekly",
    enabled: true,
    matchers: ["service=postgres"],
    schedule,
    reason: "vacuum",
    createdBy: "dba@example.com",
    ...extra,
  });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.window;
}

const BERLIN_SUNDAY = { days: ["sun"], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" };
const iso = (date: Date | undefined) => date?.toISOString();
const occurrenceOf = (window: SuppressionWindow, now: string) => {
  const found = currentOccurrence(window, at(now));
  return found && [iso(found.start), iso(found.end)];
};

describe("recurring windows: occurrences", () => {
  const weekly = recurring(BERLIN_SUNDAY);

  it.each([
    ["the Saturday before (CET)", "2026-11-28T12:00:00Z", "pending"],
    ["Sunday 01:59:59 local", "2026-11-29T00:59:59.999Z", "pending"],
    ["Sunday 02:00 local (01:00Z in winter)", "2026-11-29T01:00:00Z", "active"],
    ["Sunday 03:59:59 local", "2026-11-29T02:59:59.999Z", "active"],
    ["Sunday 04:00 local", "2026-11-29T03:00:00Z", "pending"],
    ["a summer Sunday 02:00 local (00:00Z)", "2026-07-05T00:00:00Z", "active"],
    ["a summer Sunday 04:00 local", "2026-07-05T02:00:00Z", "pending"],
  ])("%s is %s", (_what, now, state) => {
    expect(windowState(weekly, at(now))).toBe(state);
  });

  it("names the next occurrence in UTC, and the current one's end", () => {
    expect(nextOccurrence(weekly, at("2026-11-26T18:00:00Z"))).toEqual({
      start: at("2026-11-29T01:00:00Z"),
      end: at("2026-11-29T03:00:00Z"),
    });
    expect(currentOccurrenceEnd(weekly, at("2026-11-29T02:00:00Z"))).toEqual(at("2026-11-29T03:00:00Z"));
    expect(currentOccurrenceEnd(weekly, at("2026-11-29T04:00:00Z"))).toBeUndefined();
  });

  describe("daylight saving (the rule: from the first instant the clock reads start, to the first it reads end)", () => {
    it("Europe/Berlin spring forward: 02:00 does not exist, so it runs 03:00–04:00 local, one hour", () => {
      expect(occurrenceOf(weekly, "2026-03-29T01:30:00Z")).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-29T02:00:00.000Z"]);
      expect(windowState(weekly, at("2026-03-29T00:59:59Z"))).toBe("pending");
    });

    it("Europe/Berlin fall back: 02:00–03:00 happens twice, so it runs from the first 02:00 to 04:00, three hours", () => {
      expect(occurrenceOf(weekly, "2026-10-25T00:00:00Z")).toEqual(["2026-10-25T00:00:00.000Z", "2026-10-25T03:00:00.000Z"]);
    });

    it("an occurrence wholly inside the skipped hour does not happen that night", () => {
      const skipped = recurring({ ...BERLIN_SUNDAY, start: "02:15", end: "02:45" });
      expect(nextOccurrence(skipped, at("2026-03-28T12:00:00Z"))?.start).toEqual(at("2026-04-05T00:15:00Z"));
    });

    it("America/New_York: 01:30–03:00 is 1h on spring forward (02:00→03:00) and 2h30 on fall back", () => {
      const ny = recurring({ days: ["sun"], start: "01:30", end: "03:00", timeZone: "America/New_York" });
      expect(occurrenceOf(ny, "2026-03-08T06:45:00Z")).toEqual(["2026-03-08T06:30:00.000Z", "2026-03-08T07:00:00.000Z"]);
      expect(occurrenceOf(ny, "2026-11-01T05:30:00Z")).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-01T08:00:00.000Z"]);
    });

    it("Australia/Sydney (southern hemisphere): clocks go forward in October and back in April", () => {
      const sydney = recurring({ days: ["sun"], start: "02:00", end: "04:00", timeZone: "Australia/Sydney" });
      // 2026-10-04 02:00 AEST → 03:00 AEDT (16:00Z the day before).
      expect(occurrenceOf(sydney, "2026-10-03T16:30:00Z")).toEqual(["2026-10-03T16:00:00.000Z", "2026-10-03T17:00:00.000Z"]);
      // 2026-04-05 03:00 AEDT → 02:00 AEST: 02:00 AEDT (15:00Z) to 04:00 AEST (18:00Z).
      expect(occurrenceOf(sydney, "2026-04-04T15:00:00Z")).toEqual(["2026-04-04T15:00:00.000Z", "2026-04-04T18:00:00.000Z"]);
    });

    it("firstInstantReading resolves a skipped reading to the end of the gap, a repeated one to its first time", () => {
      const wall = (text: string) => Date.parse(`${text}Z`);
      expect(new Date(firstInstantReading(wall("2026-03-29T02:30:00"), "Europe/Berlin")).toISOString()).toBe("2026-03-29T01:00:00.000Z");
      expect(new Date(firstInstantReading(wall("2026-10-25T02:30:00"), "Europe/Berlin")).toISOString()).toBe("2026-10-25T00:30:00.000Z");
      expect(new Date(firstInstantReading(wall("2026-11-26T05:30:00"), "Asia/Kolkata")).toISOString()).toBe("2026-11-26T00:00:00.000Z");
    });
  });

  it("an end at or before the start crosses midnight: Fri 22:00–02:00 ends on Saturday", () => {
    const overnight = recurring({ days: ["fri"], start: "22:00", end: "02:00", timeZone: "UTC" });
    expect(windowState(overnight, at("2026-11-27T23:00:00Z"))).toBe("active");
    expect(windowState(overnight, at("2026-11-28T01:59:00Z"))).toBe("active");
    expect(windowState(overnight, at("2026-11-28T02:00:00Z"))).toBe("pending");
    // Saturday night is not listed, though its wall-clock time is within 22:00–02:00.
    expect(windowState(overnight, at("2026-11-28T23:00:00Z"))).toBe("pending");
  });

  it("start = end is a whole day; adjacent days join into one stretch for the sweep", () => {
    const weekend = recurring({ days: ["sat", "sun"], start: "00:00", end: "00:00", timeZone: "Asia/Kolkata" });
    // Saturday 2026-11-28 00:00 IST = Friday 18:30Z, to Monday 00:00 IST = Sunday 18:30Z.
    expect(occurrenceOf(weekend, "2026-11-28T12:00:00Z")).toEqual(["2026-11-27T18:30:00.000Z", "2026-11-29T18:30:00.000Z"]);
  });

  it("stays within startsAt/endsAt, and expires when no occurrence is left", () => {
    const bounded = recurring(BERLIN_SUNDAY, { startsAt: "2026-11-29T02:00:00Z", endsAt: "2026-12-06T02:00:00Z" });
    expect(windowState(bounded, at("2026-11-29T01:30:00Z"))).toBe("pending");
    expect(nextOccurrence(bounded, at("2026-11-29T01:30:00Z"))).toEqual({
      start: at("2026-11-29T02:00:00Z"),
      end: at("2026-11-29T03:00:00Z"),
    });
    expect(currentOccurrenceEnd(bounded, at("2026-12-06T01:30:00Z"))).toEqual(at("2026-12-06T02:00:00Z"));
    expect(windowState(bounded, at("2026-12-01T00:00:00Z"))).toBe("pending");
    expect(windowState(bounded, at("2026-12-06T02:00:00Z"))).toBe("expired");
    const noneLeft = recurring(BERLIN_SUNDAY, { endsAt: "2026-11-28T00:00:00Z" });
    expect(windowState(noneLeft, at("2026-11-26T00:00:00Z"))).toBe("expired");
  });

  it("is disabled whatever the time when enabled is false", () => {
    expect(windowState(recurring(BERLIN_SUNDAY, { enabled: false }), at("2026-11-29T02:00:00Z"))).toBe("disabled");
  });

  it("suppresses a matching alert only during an occurrence", () => {
    const alert = alertAt("Bloat", "firing", 0, { labels: { service: "postgres" } });
    expect(findSuppressingWindow([weekly], alert, at("2026-11-29T02:00:00Z"))?.id).toBe("weekly");
    expect(findSuppressingWindow([weekly], alert, at("2026-11-29T03:00:00Z"))).toBeUndefined();
  });

  it.each([
    [BERLIN_SUNDAY, "Sun 02:00–04:00 Europe/Berlin"],
    [{ days: ["Sunday", "sat", "MON"], start: "22:00", end: "2:00", timeZone: "utc" }, "Mon, Sat, Sun 22:00–02:00 (next day) UTC"],
    [
      { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:30", end: "01:00", timeZone: "Asia/Kolkata" },
      "Every day 00:30–01:00 Asia/Kolkata",
    ],
  ])("reads %j as %s", (schedule, words) => {
    expect(describeSchedule(recurring(schedule).schedule!)).toBe(words);
  });

  it("takes zone names case-insensitively but refuses fixed offsets, which ignore daylight saving", () => {
    expect(parseTimeZone("europe/berlin")).toEqual({ timeZone: "Europe/Berlin" });
    expect(parseTimeZone("+01:00")).toEqual({ problem: expect.stringContaining("is a fixed offset, which ignores daylight saving time") });
  });
});

// --- Properties --------------------------------------------------------------------------------

const ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"] as const;
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

/** An independent reading of the local clock (not the code under test's): weekday index, minute of the day, offset. */
const readers = new Map<string, Intl.DateTimeFormat>();
function localClock(instant: number, zone: string) {
  let reader = readers.get(zone);
  if (!reader) {
    reader = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "longOffset",
    });
    readers.set(zone, reader);
  }
  const parts = Object.fromEntries(reader.formatToParts(instant).map((part) => [part.type, part.value]));
  return {
    day: DAY_NAMES.indexOf(parts.weekday!.toLowerCase() as (typeof DAY_NAMES)[number]),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    offset: parts.timeZoneName,
  };
}

/** The plain wall-clock reading of a schedule: true on a day without a clock change. */
function wallClockActive(schedule: WeeklySchedule, instant: number): boolean {
  const { day, minute } = localClock(instant, schedule.timeZone);
  const listed = (index: number) => schedule.days.includes(DAY_NAMES[(index + 7) % 7]!);
  if (schedule.end > schedule.start) return listed(day) && minute >= schedule.start && minute < schedule.end;
  return (listed(day) && minute >= schedule.start) || (listed(day - 1) && minute < schedule.end);
}

const HOUR = 3_600_000;
/** No clock change within a day and a bit either side, so wall-clock and instants agree. */
const offsetSteady = (instant: number, zone: string) =>
  [instant - 27 * HOUR, instant + 27 * HOUR].every((other) => localClock(other, zone).offset === localClock(instant, zone).offset);

const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
const arbitrarySchedule = fc
  .record({
    days: fc.subarray([...DAY_NAMES], { minLength: 1 }),
    start: fc.integer({ min: 0, max: 1439 }),
    end: fc.integer({ min: 0, max: 1439 }),
    timeZone: fc.constantFrom(...ZONES),
  })
  .map((raw) => recurring({ ...raw, start: hhmm(raw.start), end: hhmm(raw.end) }));
/** 2000–2040, biased to whole minutes where boundaries are. */
const arbitraryInstant = fc.oneof(
  fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
  fc.integer({ min: Date.UTC(2000, 0, 1) / 60_000, max: Date.UTC(2040, 0, 1) / 60_000 }).map((minute) => minute * 60_000),
);
const RUNS = { numRuns: 300 };

describe("recurring windows: properties over random instants, schedules and zones", () => {
  it("away from clock changes, an instant is active iff its local time is within [start, end) on a listed day", () => {
    fc.assert(
      fc.property(arbitrarySchedule, arbitraryInstant, (window, instant) => {
        fc.pre(offsetSteady(instant, window.schedule!.timeZone));
        expect(windowState(window, new Date(instant)) === "active").toBe(wallClockActive(window.schedule!, instant));
      }),
      RUNS,
    );
  });

  it("the next occurrence starts after now and is active at its start", () => {
    fc.assert(
      fc.property(arbitrarySchedule, arbitraryInstant, (window, instant) => {
        const next = nextOccurrence(window, new Date(instant));
        expect(next?.start).toBeDefined();
        expect(next!.start!.getTime()).toBeGreaterThan(instant);
        expect(next!.end!.getTime()).toBeGreaterThan(next!.start!.getTime());
        expect(windowState(window, next!.start!)).toBe("active");
      }),
      RUNS,
    );
  });

  it("the occurrence in progress contains now, is active to its last millisecond and not at its end", () => {
    fc.assert(
      fc.property(arbitrarySchedule, arbitraryInstant, (window, instant) => {
        const now = new Date(instant);
        const current = currentOccurrence(window, now);
        expect(current !== undefined).toBe(windowState(window, now) === "active");
        if (!current) return;
        expect(current.start!.getTime()).toBeLessThanOrEqual(instant);
        expect(current.end!.getTime()).toBeGreaterThan(instant);
        expect(windowState(window, new Date(current.end!.getTime() - 1))).toBe("active");
        const { days, start, end } = window.schedule!;
        // Only a schedule with no gap at all is cut at the search horizon.
        if (!(days.length === 7 && start === end)) expect(windowState(window, current.end!)).toBe("pending");
      }),
      RUNS,
    );
  });
});
