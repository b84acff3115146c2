/**
 * Weekly schedules for recurring windows ("every Sunday 02:00–04:00 Europe/Berlin"): the
 * `schedule` attribute of a window item, and when its occurrences happen.
 *
 * Times are local wall-clock times in the schedule's IANA zone, turned into instants with Intl
 * (no time zone library: the runtime's ICU data is what Lambda and the CLI both have).
 *
 * The daylight-saving rule: an occurrence is one stretch of time, from the first instant at which
 * the local clock reads `start` (or later) to the first instant at which it reads `end` (or later).
 * So on the spring-forward night 02:00–04:00 Europe/Berlin starts at 03:00 local (02:00 does not
 * exist) and lasts one hour; on the fall-back night it starts at the first 02:00 and lasts three
 * hours; an occurrence that lies wholly inside the skipped hour does not happen that night.
 */
import * as z from "zod/mini";
import { addIssue } from "../alert/schema.ts";
import { describeValue } from "../matchers/problems.ts";

/** Indexed like Date#getUTCDay, so a local date's weekday is its index. */
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** How days are listed back to people: the working week first. */
const DISPLAY_ORDER: readonly Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;

/** The schedule as stored in the item. */
export interface ScheduleItem {
  days: string[];
  start: string;
  end: string;
  timeZone: string;
}

/** A parsed schedule: minutes after local midnight; `end <= start` ends on the next day. */
export interface WeeklySchedule {
  readonly days: readonly Weekday[];
  readonly start: number;
  readonly end: number;
  readonly timeZone: string;
}

/** A stretch of time, start inclusive, end exclusive. */
export interface Occurrence {
  readonly start: Date;
  readonly end: Date;
}

export const SCHEDULE_ATTRIBUTES = ["days", "start", "end", "timeZone"] as const satisfies readonly (keyof ScheduleItem)[];
export const SCHEDULE_EXAMPLE = '{"days": ["sun"], "start": "02:00", "end": "04:00", "timeZone": "Europe/Berlin"}';

const MINUTE = 60_000;
const DAY = 86_400_000;
const DAYS_EXAMPLE = '["sat", "sun"]';
const DAY_WORDS = "mon, tue, wed, thu, fri, sat or sun";

/** `mon`, `Monday`, ` SUN ` → the weekday; anything else is not a day. */
export function parseWeekday(text: string): Weekday | undefined {
  const word = text.trim().toLowerCase();
  const index = WEEKDAYS.findIndex((day, i) => word === day || word === FULL_NAMES[i]);
  return index === -1 ? undefined : WEEKDAYS[index];
}

function dayProblem(entry: unknown): string {
  if (typeof entry !== "string") return `is ${describeValue(entry)}; expected a day like "sun"`;
  // A range reads naturally but "mon-fri" vs "fri-mon" is exactly the kind of thing to get wrong at 3 a.m.
  const range = /^\s*(\w+)\s*[-–]\s*(\w+)\s*$/.exec(entry);
  if (range && parseWeekday(range[1]!) && parseWeekday(range[2]!)) {
    return `${JSON.stringify(entry)} is a range; list each day instead, e.g. ["mon", "tue", "wed", "thu", "fri"]`;
  }
  return `${JSON.stringify(entry)} is not a day; write ${DAY_WORDS} (or the full name)`;
}

const dayList = z.pipe(
  // DynamoDBDocumentClient returns a String Set as a Set.
  z.transform((value: unknown) => (value instanceof Set ? [...value] : value)),
  z.pipe(
    z
      .array(z.unknown(), {
        error: (issue) =>
          issue.input === undefined
            ? `is missing; list the days it repeats on, e.g. ${DAYS_EXAMPLE}`
            : typeof issue.input === "string"
              ? `is a single text ${JSON.stringify(issue.input)}; write a list, one day per entry, e.g. ${DAYS_EXAMPLE}`
              : `is ${describeValue(issue.input)}; expected a list of days like ${DAYS_EXAMPLE}`,
      })
      .check(z.minLength(1, { error: `is empty; list the days it repeats on, e.g. ${DAYS_EXAMPLE}` })),
    z.transform((entries: unknown[], ctx): Weekday[] => {
      const days = new Set<Weekday>();
      entries.forEach((entry, index) => {
        const day = typeof entry === "string" ? parseWeekday(entry) : undefined;
        if (day) days.add(day);
        else addIssue(ctx, { path: [index], message: dayProblem(entry) });
      });
      return DISPLAY_ORDER.filter((day) => days.has(day));
    }),
  ),
);

/** `HH:MM` → minutes after midnight, or why not. */
export function parseTimeOfDay(text: string): { minutes: number } | { problem: string } {
  const parts = /^\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  const [hours, minutes] = parts ? [Number(parts[1]), Number(parts[2])] : [NaN, NaN];
  if (hours === 24 && minutes === 0) {
    return {
      problem: `${JSON.stringify(text)} is not a time of day; write "00:00" for midnight (an end at or before the start ends the next day)`,
    };
  }
  if (!(hours <= 23 && minutes <= 59))
    return { problem: `${JSON.stringify(text)} is not a 24-hour time like "02:00" (HH:MM, local time in timeZone)` };
  return { minutes: hours * 60 + minutes };
}

function timeOfDay(example: string) {
  return z.pipe(
    z.unknown(),
    z.transform((value, ctx): number => {
      const parsed =
        value === undefined
          ? { problem: `is missing; write a 24-hour local time like "${example}"` }
          : typeof value !== "string"
            ? { problem: `is ${describeValue(value)}; expected a 24-hour local time like "${example}" (as text)` }
            : parseTimeOfDay(value);
      if ("minutes" in parsed) return parsed.minutes;
      addIssue(ctx, { message: parsed.problem });
      return z.NEVER;
    }),
  );
}

const ZONE_EXAMPLES = '"Europe/Berlin", "America/New_York" or "UTC"';

/** The canonical IANA name of a zone this runtime knows, or why the text is not one. */
export function parseTimeZone(text: string): { timeZone: string } | { problem: string } {
  const name = text.trim();
  // Intl accepts "+01:00" too, but a fixed offset ignores daylight saving: the window would drift by an hour twice a year.
  if (/^[+-]\d/.test(name)) {
    return {
      problem:
        `${JSON.stringify(text)} is a fixed offset, which ignores daylight saving ` +
        `time; write the IANA name of the place, like ${ZONE_EXAMPLES}`,
    };
  }
  try {
    if (name === "") throw new RangeError("empty");
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    // Not resolvedOptions().timeZone: ICU would turn the "Asia/Kolkata" a person wrote into "Asia/Calcutta".
    return { timeZone: knownSpelling(name) ?? name };
  } catch {
    return { problem: `${JSON.stringify(text)} is not a time zone this system knows; write an IANA name like ${ZONE_EXAMPLES}` };
  }
}

let spellings: Map<string, string> | undefined;

/** "europe/berlin" → "Europe/Berlin", for the zones Intl lists. */
function knownSpelling(name: string): string | undefined {
  spellings ??= new Map([...Intl.supportedValuesOf("timeZone"), "UTC"].map((zone) => [zone.toLowerCase(), zone]));
  return spellings.get(name.toLowerCase());
}

const timeZoneName = z.pipe(
  z.unknown(),
  z.transform((value, ctx): string => {
    const parsed =
      value === undefined
        ? { problem: `is missing; write the zone the times are local to, as an IANA name like ${ZONE_EXAMPLES}` }
        : typeof value !== "string"
          ? { problem: `is ${describeValue(value)}; expected an IANA time zone name like ${ZONE_EXAMPLES}` }
          : parseTimeZone(value);
    if ("timeZone" in parsed) return parsed.timeZone;
    addIssue(ctx, { message: parsed.problem });
    return z.NEVER;
  }),
);

/**
 * Unknown keys are refused for the same reason as at the top level: a misspelt `tz` must not
 * quietly turn into some default zone.
 */
export const scheduleSchema = z.strictObject(
  { days: dayList, start: timeOfDay("02:00"), end: timeOfDay("04:00"), timeZone: timeZoneName },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `has unknown ${issue.keys.length === 1 ? "attribute" : "attributes"} ` +
          `${issue.keys.map((key) => JSON.stringify(key)).join(", ")}: ` +
          `a schedule has only ${SCHEDULE_ATTRIBUTES.join(", ")} (a misspelt name must not change when the window suppresses)`
        : issue.input === null
          ? // NULL is the console's "no value"; read as "no schedule" it would suppress around the clock.
            `is null; remove the attribute for a window that is not recurring, or write a schedule like ${SCHEDULE_EXAMPLE}`
          : `is ${describeValue(issue.input)}; expected an object like ${SCHEDULE_EXAMPLE}`,
  },
) satisfies z.ZodMiniType<WeeklySchedule, unknown>;

/** `HH:MM`. */
export function formatTimeOfDay(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

const capitalized = (day: Weekday) => day[0]!.toUpperCase() + day.slice(1);

/** `Sun 02:00–04:00 Europe/Berlin`, `Every day 22:00–02:00 (next day) UTC`. */
export function describeSchedule(schedule: WeeklySchedule): string {
  const days = schedule.days.length === 7 ? "Every day" : schedule.days.map(capitalized).join(", ");
  const overnight = schedule.end <= schedule.start ? " (next day)" : "";
  return `${days} ${formatTimeOfDay(schedule.start)}–${formatTimeOfDay(schedule.end)}${overnight} ${schedule.timeZone}`;
}

/** The item form of a parsed schedule (what the CLI writes). */
export function scheduleItem(schedule: WeeklySchedule): ScheduleItem {
  return {
    days: [...schedule.days],
    start: formatTimeOfDay(schedule.start),
    end: formatTimeOfDay(schedule.end),
    timeZone: schedule.timeZone,
  };
}

// --- From wall-clock time to instants -------------------------------------------------------
// A "wall" value is a local date and time written as milliseconds since the epoch as if it were
// UTC: arithmetic on calendar days is then plain addition.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** What the zone's clocks read at `instant`, as a wall value. */
export function wallClock(instant: number, timeZone: string): number {
  const parts: Record<string, string> = {};
  for (const { type, value } of formatterFor(timeZone).formatToParts(instant)) parts[type] = value;
  const year = parts.era === "BC" ? 1 - Number(parts.year) : Number(parts.year);
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  const wall = new Date(0);
  wall.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
  wall.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), ((instant % 1000) + 1000) % 1000);
  return wall.getTime();
}

/**
 * The first instant at which the zone's clocks read `wall` or later: the instant itself when the
 * reading exists (the earlier one when it happens twice), the end of the gap when it was skipped.
 * Assumes at most one offset change within a day either side, as every real zone has.
 */
export function firstInstantReading(wall: number, timeZone: string): number {
  const offsetBefore = wallClock(wall - DAY, timeZone) - (wall - DAY);
  const offsetAfter = wallClock(wall + DAY, timeZone) - (wall + DAY);
  const exact = [wall - offsetBefore, wall - offsetAfter].filter((instant) => wallClock(instant, timeZone) === wall);
  if (exact.length > 0) return Math.min(...exact);
  // Skipped (spring forward): the clocks jump over `wall` at some instant in this range.
  let low = wall - Math.max(offsetBefore, offsetAfter);
  let high = wall - Math.min(offsetBefore, offsetAfter);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (wallClock(middle, timeZone) >= wall) high = middle;
    else low = middle;
  }
  return high;
}

/** The occurrence that starts on the local date `dayWall` (a wall value at midnight), if that is a listed day and it is not empty. */
function occurrenceOn(schedule: WeeklySchedule, dayWall: number): Occurrence | undefined {
  if (!schedule.days.includes(WEEKDAYS[new Date(dayWall).getUTCDay()]!)) return undefined;
  const endDay = schedule.end <= schedule.start ? dayWall + DAY : dayWall;
  const start = firstInstantReading(dayWall + schedule.start * MINUTE, schedule.timeZone);
  const end = firstInstantReading(endDay + schedule.end * MINUTE, schedule.timeZone);
  return end > start ? { start: new Date(start), end: new Date(end) } : undefined;
}

/** Occurrences starting on local dates from `fromDay` to `toDay` days after the local date of `instant`, in order. */
function occurrencesAround(schedule: WeeklySchedule, instant: number, fromDay: number, toDay: number): Occurrence[] {
  const today = Math.floor(wallClock(instant, schedule.timeZone) / DAY) * DAY;
  const found: Occurrence[] = [];
  for (let day = fromDay; day <= toDay; day += 1) {
    const occurrence = occurrenceOn(schedule, today + day * DAY);
    if (occurrence) found.push(occurrence);
  }
  return found;
}

/** How far ahead occurrences are looked for: a week, plus a week for an occurrence lost in a skipped hour. */
const HORIZON_DAYS = 15;

/**
 * The occurrence in progress at `now`, with occurrences that follow on without a gap (Mon
 * 00:00–00:00 and Tue 00:00–00:00) joined into one, up to the search horizon: its end is when the
 * sweep must look again. Undefined between occurrences.
 */
export function scheduleOccurrenceAt(schedule: WeeklySchedule, now: Date): Occurrence | undefined {
  // The router asks for every alert: an answer holds until its occurrence ends or the next one starts.
  const instant = now.getTime();
  const known = answers.get(schedule);
  if (known && known.from <= instant && instant < known.until) return known.occurrence;
  const occurrence = computeOccurrenceAt(schedule, instant);
  const until = occurrence
    ? occurrence.end.getTime()
    : (scheduleNextOccurrence(schedule, now)?.start.getTime() ?? instant + HORIZON_DAYS * DAY);
  answers.set(schedule, { from: instant, until, occurrence });
  return occurrence;
}

/** Per schedule object (re-created on every window refresh), the last answer and how long it holds. */
const answers = new WeakMap<WeeklySchedule, { from: number; until: number; occurrence: Occurrence | undefined }>();

function computeOccurrenceAt(schedule: WeeklySchedule, instant: number): Occurrence | undefined {
  // An occurrence lasts at most a day plus a DST hour, so one that covers now started yesterday at the earliest.
  const nearby = occurrencesAround(schedule, instant, -2, 1);
  const current = nearby.find((occurrence) => occurrence.start.getTime() <= instant && instant < occurrence.end.getTime());
  if (!current) return undefined;
  let end = current.end;
  for (const next of occurrencesAround(schedule, end.getTime(), 0, HORIZON_DAYS)) {
    if (next.start <= end && next.end > end) end = next.end;
  }
  return { start: current.start, end };
}

/** The first occurrence that starts after `now`. Every valid schedule has one within the horizon. */
export function scheduleNextOccurrence(schedule: WeeklySchedule, now: Date): Occurrence | undefined {
  return occurrencesAround(schedule, now.getTime(), -1, HORIZON_DAYS).find((occurrence) => occurrence.start > now);
}
