import { randomBytes } from "node:crypto";
import { windowStoreOf } from "../windows.ts";
import { hostname } from "node:os";
import { PIPELINE } from "../../runtime/pipeline.ts";
import { EXAMPLE_TIME, parseIsoInstant, parseWindowItem, type WindowItem } from "../../suppression/window-item.ts";
import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { isoSeconds, localTime, parseDuration, relative, toJson, when } from "../format.ts";
import { EXIT, UsageError, type CliIO, type Command } from "../io.ts";

const OPTIONS = {
  match: { type: "string", multiple: true },
  for: { type: "string" },
  until: { type: "string" },
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

function whoAmI(io: CliIO): string {
  const user = io.env.USER ?? io.env.LOGNAME ?? io.env.USERNAME ?? "unknown";
  return `${user}@${hostname()}`;
}

export const suppressAddCommand: Command = {
  name: "suppress add",
  summary: "open a suppression window: matching alerts do not page until it ends",
  usage:
    "alert-relay suppress add --match <matcher> [--match …] (--for <duration> | --until <time>) [--from <time>] --reason <text> [--id <id>] [--by <who>] [--json]",
  details: [
    "options:",
    ...optionLines([
      ["--match <matcher>", "name=value, name!=value, name=~regex or name!~regex (Alertmanager's syntax); repeat it: all must match,"],
      ["", "on the alert's labels plus source, severity and dedupKey"],
      ["--for <duration>", `how long: ${DURATION_EXAMPLES} (from --from)`],
      ["--until <time>", "when it ends, instead of --for"],
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
  ].join("\n"),

  async run(args, io) {
    const { values } = parseFlags(args, OPTIONS);
    const matchers = values.match ?? [];
    if (matchers.length === 0) throw new UsageError("name what to suppress with --match, e.g. --match service=checkout");
    if (values.reason === undefined) throw new UsageError('say why with --reason, e.g. --reason "database failover drill"');
    if ((values.for === undefined) === (values.until === undefined)) {
      throw new UsageError("give exactly one of --for <duration> or --until <time>: a window from the CLI always ends");
    }
    const now = io.now();
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
    if (endsAt <= now) {
      io.err(`the window was not written: it would end at ${when(endsAt, now)}, before it could suppress anything`);
      return EXIT.failed;
    }

    const item: WindowItem = {
      id: values.id ?? defaultWindowId(matchers),
      enabled: true,
      matchers,
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      reason: values.reason,
      createdBy: values.by ?? whoAmI(io),
    };
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
      const pending = startsAt > now;
      io.out(`Created suppression window ${stored.id} in the ${target.description} (table ${target.windowsTable})`);
      io.out(`  matchers    ${matchers.join(", ")}`);
      io.out(`  starts      ${pending ? when(startsAt, now) : `${isoSeconds(startsAt)} (now)`}`);
      io.out(`  ends        ${isoSeconds(endsAt)} (${relative(endsAt, now)}), ${localTime(endsAt)} local time`);
      io.out(`  reason      ${stored.reason}`);
      io.out(`  created by  ${stored.createdBy}`);
      io.out(
        pending
          ? `It takes effect at ${isoSeconds(startsAt)} (${relative(startsAt, now)}).`
          : `It takes effect within ~${PIPELINE.windowRefreshSeconds} s (each router instance re-reads the windows table that often).`,
      );
      io.out(`End it early with: alert-relay suppress end ${stored.id}`);
      return EXIT.ok;
    });
  },
};
