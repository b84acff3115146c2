/**
 * The suppression window item: a public contract that people type into the DynamoDB console.
 * Parsing is strict wherever leniency could widen what is suppressed, and forgiving only where
 * the intent is unambiguous (a string "true", a string set of matchers, `null` for "no value").
 * A malformed item never suppresses anything; the problems say, one sentence each, what to fix.
 */
import * as z from "zod/mini";
import { addIssue } from "../alert/schema.ts";
import { matchesEmpty, parseMatcherList, type Matcher } from "../matchers/matcher.ts";
import { describeValue, issueSentences } from "../matchers/problems.ts";
import { scheduleSchema, type ScheduleItem, type WeeklySchedule } from "./schedule.ts";

/** The item as stored (what the CLI writes and docs/windows.md documents). */
export interface WindowItem {
  id: string;
  enabled: boolean;
  matchers: string[];
  startsAt?: string;
  endsAt?: string;
  /** Recurring: suppresses only during the schedule's occurrences (within startsAt/endsAt). */
  schedule?: ScheduleItem;
  reason: string;
  createdBy: string;
  createdAt?: string;
  updatedAt?: string;
}

/** A parsed, valid window. Absent startsAt: active from the moment it is in the table; absent endsAt: until disabled. */
export interface SuppressionWindow {
  readonly id: string;
  readonly enabled: boolean;
  readonly matchers: readonly Matcher[];
  readonly startsAt?: Date;
  readonly endsAt?: Date;
  readonly schedule?: WeeklySchedule;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt?: Date;
  readonly updatedAt?: Date;
}

export type WindowParseResult = { ok: true; window: SuppressionWindow } | { ok: false; id?: string; problems: string[] };

export const WINDOW_ATTRIBUTES = [
  "id",
  "enabled",
  "matchers",
  "startsAt",
  "endsAt",
  "schedule",
  "reason",
  "createdBy",
  "createdAt",
  "updatedAt",
] as const satisfies readonly (keyof WindowItem)[];

export const EXAMPLE_TIME = "2026-11-27T03:00:00Z";

const ISO_INSTANT = new RegExp(
  String.raw`^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})[Tt ](?<h>\d{2}):(?<mi>\d{2})(?::(?<s>\d{2})(?<fraction>\.\d{1,9})?)?` +
    String.raw`(?:(?<zulu>[Zz])|(?<sign>[+-])(?<oh>\d{2}):?(?<om>\d{2}))?$`,
);

/**
 * Reads an ISO 8601 / RFC 3339 instant. A time without a zone is refused rather than guessed:
 * "03:00" in whose time zone decides whether a maintenance window covers the maintenance.
 */
export function parseIsoInstant(text: string): { date: Date } | { problem: string } {
  const invalid = { problem: `${JSON.stringify(text)} is not an ISO 8601 time like ${EXAMPLE_TIME}` };
  const groups = ISO_INSTANT.exec(text.trim())?.groups;
  if (!groups) return invalid;
  if (!groups.zulu && !groups.sign) {
    return { problem: `${JSON.stringify(text)} has no time zone; add Z for UTC, like ${EXAMPLE_TIME}` };
  }
  const part = (name: string) => Number(groups[name] ?? 0);
  const [y, mo, d, h, mi, s, oh, om] = [
    part("y"),
    part("mo"),
    part("d"),
    part("h"),
    part("mi"),
    part("s"),
    part("oh"),
    part("om"),
  ] as const;
  const calendar = new Date(Date.UTC(y, mo - 1, d));
  // Date.UTC rolls 2026-02-30 over to March; a date that does not survive the trip does not exist.
  if (calendar.getUTCFullYear() !== y || calendar.getUTCMonth() !== mo - 1 || calendar.getUTCDate() !== d) return invalid;
  if (h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59) return invalid;
  const millis = Math.floor(Number(groups.fraction ?? 0) * 1000);
  const offset = (groups.sign === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  return { date: new Date(calendar.getTime() + ((h * 60 + mi) * 60 + s) * 1000 + millis - offset) };
}

const TIME_EXPECTED = `expected an ISO 8601 time like ${EXAMPLE_TIME}`;

/** An optional instant; `null` (what the console writes for "no value") counts as absent. */
function toOptionalInstant(value: unknown, ctx: z.core.ParsePayload): Date | undefined {
  if (value === null) return undefined;
  if (typeof value !== "string") {
    addIssue(ctx, { message: `is ${describeValue(value)}; ${TIME_EXPECTED}` });
    return z.NEVER;
  }
  // An empty string could mean "no end" or "I cleared it by mistake"; "no end" suppresses forever, so ask.
  if (value.trim() === "") {
    addIssue(ctx, { message: `is empty; remove the attribute, or write a time like ${EXAMPLE_TIME}` });
    return z.NEVER;
  }
  const parsed = parseIsoInstant(value);
  if ("problem" in parsed) {
    addIssue(ctx, { message: parsed.problem });
    return z.NEVER;
  }
  return parsed.date;
}

const optionalInstant = z.optional(z.pipe(z.unknown(), z.transform(toOptionalInstant)));

function requiredText(example: string) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined ? `is missing; write e.g. ${example}` : `is ${describeValue(issue.input)}; expected text like ${example}`,
    })
    .check(z.trim(), z.minLength(1, { error: `is empty; write e.g. ${example}` }));
}

/** Only an exact true/false (a string "true" typed as String in the console is the same intent). */
const enabledFlag = z.pipe(
  z.transform((value: unknown) =>
    typeof value === "string" && /^\s*(true|false)\s*$/i.test(value) ? value.trim().toLowerCase() === "true" : value,
  ),
  z.boolean({
    error: (issue) =>
      issue.input === undefined
        ? "is missing; set it to true to suppress, or false to keep the window without suppressing"
        : `is ${describeValue(issue.input)}; expected true or false`,
  }),
);

const MATCHERS_EXAMPLE = '["service=checkout", "env=prod"]';

const matcherList = z.pipe(
  // DynamoDBDocumentClient returns a String Set as a Set; its order does not matter (all must match).
  z.transform((value: unknown) => (value instanceof Set ? [...value] : value)),
  z.pipe(
    z
      .array(z.unknown(), {
        error: (issue) =>
          issue.input === undefined
            ? `is missing; a window must name what it suppresses, e.g. ${MATCHERS_EXAMPLE}`
            : typeof issue.input === "string"
              ? // One text could hold "a!=x, b=y" and silently mean one wide matcher.
                `is a single text ${JSON.stringify(issue.input)}; write a list, one matcher per entry, e.g. ${MATCHERS_EXAMPLE}`
              : `is ${describeValue(issue.input)}; expected a list like ${MATCHERS_EXAMPLE}`,
      })
      .check(z.minLength(1, { error: "is empty: a window must name what it suppresses" })),
    z.transform((texts: unknown[], ctx): Matcher[] => {
      const { matchers, problems } = parseMatcherList(texts);
      for (const { index, problem } of problems) addIssue(ctx, { path: [index], message: problem });
      if (problems.length > 0) return z.NEVER;
      if (matchers.every(matchesEmpty)) {
        addIssue(ctx, {
          message:
            "all accept an alert that lacks the label, so the window would suppress nearly " +
            "everything; add one that requires a value, like service=checkout",
        });
        return z.NEVER;
      }
      return matchers;
    }),
  ),
);

/**
 * Unknown attributes are refused: `endAt` instead of `endsAt` would otherwise read as
 * "no end" and suppress forever.
 */
export const windowItemSchema = z.strictObject(
  {
    id: z
      .string({ error: (issue) => `is ${describeValue(issue.input)}; expected the window's name as text` })
      .check(z.minLength(1, { error: "is empty" })),
    enabled: enabledFlag,
    matchers: matcherList,
    startsAt: optionalInstant,
    endsAt: optionalInstant,
    schedule: z.optional(scheduleSchema),
    reason: requiredText('"database failover drill"'),
    createdBy: requiredText('"ops@example.com"'),
    createdAt: optionalInstant,
    updatedAt: optionalInstant,
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `has unknown ${issue.keys.length === 1 ? "attribute" : "attributes"} ` +
          `${issue.keys.map((key) => JSON.stringify(key)).join(", ")}: ` +
          `a window has only ${WINDOW_ATTRIBUTES.join(", ")} (a misspelt name must not change what is suppressed)`
        : `is ${describeValue(issue.input)}; expected an object with ${WINDOW_ATTRIBUTES.join(", ")}`,
  },
);

/** Parses an item as read from the table (or typed by a person) into a window, or the list of what is wrong with it. */
export function parseWindowItem(item: unknown): WindowParseResult {
  const id = isRecord(item) && typeof item.id === "string" && item.id !== "" ? item.id : undefined;
  const result = windowItemSchema.safeParse(item);
  if (!result.success) {
    return { ok: false, ...(id === undefined ? {} : { id }), problems: issueSentences(result.error.issues, "the item") };
  }
  const { startsAt, endsAt, schedule, createdAt, updatedAt, ...rest } = result.data;
  if (startsAt && endsAt && endsAt < startsAt) {
    return { ok: false, id: rest.id, problems: [`endsAt (${endsAt.toISOString()}) is before startsAt (${startsAt.toISOString()})`] };
  }
  const window: SuppressionWindow = {
    ...rest,
    ...(startsAt && { startsAt }),
    ...(endsAt && { endsAt }),
    ...(schedule && { schedule }),
    ...(createdAt && { createdAt }),
    ...(updatedAt && { updatedAt }),
  };
  return { ok: true, window };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
