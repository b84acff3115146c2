import { randomBytes } from "node:crypto";
import { windowStoreOf } from "../windows.ts";
import { hostname, userInfo } from "node:os";
import { PIPELINE } from "../../handlers/pipeline.ts";
import { EXAMPLE_TIME, parseIsoInstant, parseWindowItem, type SuppressionWindow, type WindowItem } from "../../suppression/window-item.ts";
import { describeSchedule, parseTimeOfDay, parseTimeZone, parseWeekday, type ScheduleItem } from "../../suppression/schedule.ts";
import { currentOccurrence, nextOccurrence } from "../../suppression/suppress.ts";
import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { isoSeconds, localTime, parseDuration, relative, toJson, when } from "../format.ts";
import { EXIT, UsageError, type CliIO, type Command } from "../io.ts";

const OPTIONS = {
  match: { type: "string", multiple: true },
  for: { type: "string" },
  until: { type: "string" },
  weekly: { type: "string" },
  from: { type: "string" },
  reason: { type: "string" },
  id: { type: "string" },
  by: { type: "string" },
  json: { type: "boolean" },
  ...WHERE_OPTIONS,
  ...RESOURCE_OPTIONS.windowsTable,
} as const;

const DURATION_EXAMPLES = "30m, 2h, 1d or 1h30m";

/**
 * A time on the command line: ISO 8601 with a zone (a bare "03:00" is refused, as in the table),
 * `now`, or `+<duration>` from now.
 */
function parseTime(flag: string, text: string, now: Date): Date {
  if (text.trim().toLowerCase() === "now") return now;
  if (text.trim().startsWith("+")) {
    const ms = parseDuration(text.trim().slice(1));
    if (ms === undefined) throw new UsageError(`--${flag} ${JSON.stringify(text)}: after + write a duration like ${DURATION_EXAMPLES}`);
    return new Date(now.getTime() + ms);
  }
  const parsed = parseIsoInstant(text);
  if ("problem" in parsed) throw new UsageError(`--${flag} ${parsed.problem} (or write a time relative to now, like +2h)`);
  return parsed.date;
}

const WEEKLY_EXAMPLE = "'sat,sun 02:00-04:00 Europe/Berlin'";

/**
 * `--weekly '<days> <HH:MM>-<HH:MM> <zone>'`, the way `suppress list` says it back. Each part is
 * checked here so the message names the flag; the item is checked again by the window contract.
 */
export function parseWeekly(text: string): ScheduleItem {
  const parts = /^\s*(\S+)\s+(\S+?)\s*[-–]\s*(\S+)\s+(\S+)\s*$/.exec(text);
  if (!parts)
    throw new UsageError(`--weekly ${JSON.stringify(text)}: write <days> <start>-<end> <time zone>, e.g. --weekly ${WEEKLY_EXAMPLE}`);
  const [, daysText, start, end, zone] = parts as unknown as [string, string, string, string, string];
  const days = daysText.split(",");
  const unknown = days.filter((day) => !parseWeekday(day));
  if (unknown.length > 0) {
    throw new UsageError(
      `--weekly: ${unknown.map((day) => JSON.stringify(day)).join(", ")} is not a day; write days ` +
        `separated by commas (mon,tue,…,sun), e.g. --weekly ${WEEKLY_EXAMPLE}`,
    );
  }
  for (const time of [start, end]) {
    const parsed = parseTimeOfDay(time);
    if ("problem" in parsed) throw new UsageError(`--weekly: ${parsed.problem}`);
  }
  const timeZone = parseTimeZone(zone);
  if ("problem" in timeZone) throw new UsageError(`--weekly: ${timeZone.problem}`);
  return { days, start, end, timeZone: timeZone.timeZone };
}

/** `checkout-prod-3f9a`: the values the window requires, so `suppress list` reads at a glance. */
export function defaultWindowId(matchers: readonly string[]): string {
  const values = matchers.flatMap((text) => {
    const parts = /^\s*([^=!~\s]+)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/.exec(text);
    if (!parts) return [];
    return parts[2] === "=" || parts[2] === "=~" ? [parts[3]!] : [];
  });
  const slug = values
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 40)
    .replace(/^-+|-+$/g, "");
  return `${slug || "window"}-${randomBytes(2).toString("hex")}`;
}

/** The environment's user, else the OS account running the CLI (cron, containers and sudo often leave $USER unset). */
export function whoAmI(env: CliIO["env"], osUser: () => string | undefined = osUserName): string {
  const user = [env.USER, env.LOGNAME, env.USERNAME].find((name) => name?.trim()) ?? osUser() ?? "unknown";
  return `${user}@${hostname()}`;
}

function osUserName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined; // a uid without a passwd entry (some containers)
  }
}

export const suppressAddCommand: Command = {
  name: "suppress add",
  summary: "open a suppression window: matching alerts do not page until it ends",
  usage:
    "alert-relay suppress add --match <matcher> [--match …] (--for <duration> | --until <time> | --weekly " +
    "<schedule> [--until <time>]) [--from <time>] --reason <text> [--id <id>] [--by <who>] [--json]",
  details: [
    "options:",
    ...optionLines([
      ["--match <matcher>", "name=value, name!=value, name=~regex or name!~regex (Alertmanager's syntax); repeat it: all must match,"],
      ["", "on the alert's labels plus source, severity and dedupKey"],
      ["--for <duration>", `how long: ${DURATION_EXAMPLES} (from --from)`],
      ["--until <time>", "when it ends, instead of --for"],
      ["--weekly <schedule>", `a recurring window: '<days> <HH:MM>-<HH:MM> <IANA zone>', e.g. ${WEEKLY_EXAMPLE};`],
      ["", "local wall-clock times, daylight saving included; an end at or before the start ends the next day;"],
      ["", "with --weekly, --until (optional) ends the series and --for is not used"],
      ["--from <time>", "when it starts (default now)"],
      ["--reason <text>", "why, for whoever wonders why they were not paged (required)"],
      ["--id <id>", "the window's id (default: from the matchers plus a random suffix)"],
      ["--by <who>", "who opened it (default $USER@hostname)"],
      ["--json", "print the stored item as JSON"],
    ]),
    `times: ISO 8601 with a time zone (${EXAMPLE_TIME}, or +01:00), "now", or relative like +2h`,
    "",
    whereHelp(["windowsTable"]),
    "",
    "example:",
    "  alert-relay suppress add --match service=checkout --match 'env=~prod|staging' --for 2h --reason \"database failover drill\"",
    "  alert-relay suppress add --match service=postgres --match env=prod --weekly " +
      "'sun 02:00-04:00 Europe/Berlin' --reason \"weekly vacuum\"",
  ].join("\n"),

  async run(args, io) {
    const { values } = parseFlags(args, OPTIONS);
    const matchers = values.match ?? [];
    if (matchers.length === 0) throw new UsageError("name what to suppress with --match, e.g. --match service=checkout");
    if (values.reason === undefined) throw new UsageError('say why with --reason, e.g. --reason "database failover drill"');
    const now = io.now();
    const base: WindowBase = {
      id: values.id ?? defaultWindowId(matchers),
      enabled: true,
      matchers,
      reason: values.reason,
      createdBy: values.by ?? whoAmI(io.env),
    };
    const item = values.weekly === undefined ? oneOffItem(values, base, now) : recurringItem(values, base, now);
    if ("notWritten" in item) {
      io.err(`the window was not written: ${item.notWritten}`);
      return EXIT.failed;
    }
    const parsed = parseWindowItem(item);
    if (!parsed.ok) {
      io.err(`the window was not written; fix ${parsed.problems.length === 1 ? "this" : "these"}:`);
      for (const problem of parsed.problems) io.err(`  - ${problem}`);
      return EXIT.failed;
    }

    return withTarget(io, values, ["windowsTable"], async (target) => {
      const store = windowStoreOf(target);
      let stored: WindowItem;
      try {
        stored = await store.put(item, { now });
      } catch (error) {
        if ((error as Error).name === "WindowExistsError" || (error as Error).name === "InvalidWindowError") {
          io.err((error as Error).message);
          return EXIT.failed;
        }
        throw error;
      }
      if (values.json) {
        io.out(toJson(stored));
        return EXIT.ok;
      }
      io.out(`Created suppression window ${stored.id} in the ${target.description} (table ${target.windowsTable})`);
      io.out(`  matchers    ${matchers.join(", ")}`);
      const { fields, takesEffect } = whenLines(parsed.window, now);
      for (const line of fields) io.out(line);
      io.out(`  reason      ${stored.reason}`);
      io.out(`  created by  ${stored.createdBy}`);
      io.out(takesEffect);
      io.out(`End it early with: alert-relay suppress end ${stored.id}`);
      return EXIT.ok;
    });
  },
};

type AddValues = { for?: string; until?: string; from?: string; weekly?: string };
type WindowBase = Pick<WindowItem, "id" | "enabled" | "matchers" | "reason" | "createdBy">;
type Unwritten = { notWritten: string };

function oneOffItem(values: AddValues, base: WindowBase, now: Date): WindowItem | Unwritten {
  if ((values.for === undefined) === (values.until === undefined)) {
    throw new UsageError(
      "give exactly one of --for <duration> or --until <time> (or --weekly for a " +
        "recurring window): a one-off window from the CLI always ends",
    );
  }
  const startsAt = values.from === undefined ? now : parseTime("from", values.from, now);
  let endsAt: Date;
  if (values.for !== undefined) {
    const ms = parseDuration(values.for);
    if (ms === undefined) throw new UsageError(`--for ${JSON.stringify(values.for)} is not a duration like ${DURATION_EXAMPLES}`);
    endsAt = new Date(startsAt.getTime() + ms);
  } else {
    endsAt = parseTime("until", values.until!, now);
  }
  // Checked before the contract, which would only say endsAt is before startsAt (now).
  if (endsAt <= now) return { notWritten: `it would end at ${when(endsAt, now)}, before it could suppress anything` };
  return { ...base, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() };
}

/** Bounds only when asked for: a recurring window usually runs until someone disables it. */
function recurringItem(values: AddValues, base: WindowBase, now: Date): WindowItem | Unwritten {
  if (values.for !== undefined) {
    throw new UsageError(
      "--for sets a one-off window's length; with --weekly each occurrence's times are in the schedule (use --until to end the series)",
    );
  }
  const schedule = parseWeekly(values.weekly!);
  const startsAt = values.from === undefined ? undefined : parseTime("from", values.from, now);
  const endsAt = values.until === undefined ? undefined : parseTime("until", values.until, now);
  if (endsAt && endsAt <= now) return { notWritten: `the series would end at ${when(endsAt, now)}, before it could suppress anything` };
  return {
    ...base,
    schedule,
    ...(startsAt && { startsAt: startsAt.toISOString() }),
    ...(endsAt && { endsAt: endsAt.toISOString() }),
  };
}

/**
 * What the operator needs to check they got the time right: when it suppresses, in UTC and their
 * own zone (field lines), and when it takes effect (a sentence, printed after the fields).
 */
function whenLines(window: SuppressionWindow, now: Date): { fields: string[]; takesEffect: string } {
  const { startsAt, endsAt, schedule } = window;
  const withinRefresh =
    `It takes effect within ~${PIPELINE.windowRefreshSeconds} s (each ` + `router instance re-reads the windows table that often).`;
  if (schedule) {
    const current = currentOccurrence(window, now);
    const next = nextOccurrence(window, now);
    return {
      fields: [
        `  repeats     ${describeSchedule(schedule)}`,
        current?.end
          ? `  now         suppressing until ${when(current.end, now)}`
          : `  next        ` +
            (next?.start ? `${when(next.start, now)}, ${localTime(next.start)} local time` : "none: no occurrence before the series ends"),
        ...(endsAt ? [`  series ends ${when(endsAt, now)}`] : []),
      ],
      takesEffect: withinRefresh,
    };
  }
  const pending = startsAt !== undefined && startsAt > now;
  return {
    fields: [
      `  starts      ${pending ? when(startsAt, now) : `${isoSeconds(startsAt ?? now)} (now)`}`,
      ...(endsAt ? [`  ends        ${isoSeconds(endsAt)} (${relative(endsAt, now)}), ${localTime(endsAt)} local time`] : []),
    ],
    takesEffect: pending ? `It takes effect at ${isoSeconds(startsAt)} (${relative(startsAt, now)}).` : withinRefresh,
  };
}
