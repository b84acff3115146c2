import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { isoSeconds, plural, printable, table, toJson } from "../format.ts";
import { EXIT, type Command } from "../io.ts";
import { endsText, loadListedWindows, matchersText, scheduleText, startsText, type ListedState, type ListedWindow } from "../windows.ts";
import { currentOccurrence, nextOccurrence } from "../../suppression/suppress.ts";

const OPTIONS = {
  all: { type: "boolean" },
  json: { type: "boolean" },
  ...WHERE_OPTIONS,
  ...RESOURCE_OPTIONS.windowsTable,
} as const;

/**
 * Without --all: what suppresses now or will, and what is broken (a broken window suppresses nothing, which someone may be counting on).
 */
const DEFAULT_STATES: readonly ListedState[] = ["malformed", "active", "pending"];

export const suppressListCommand: Command = {
  name: "suppress list",
  summary: "list suppression windows: active, pending and malformed ones (--all: every one)",
  usage: "alert-relay suppress list [--all] [--json]",
  details: [
    "options:",
    ...optionLines([
      ["--all", "also expired and disabled windows"],
      [
        "--json",
        "one JSON array: { id, state, item, currentOccurrence?, nextOccurrence?, " +
          "problems? } per window (occurrences of recurring windows, UTC)",
      ],
    ]),
    'recurring windows: SCHEDULE says when they repeat ("Sun 02:00–04:00 Europe/Berlin"), STARTS shows',
    '        "now, until <end of this occurrence>" or "next: <next occurrence>" (UTC), ENDS the end of the series',
    "states: active (suppressing now), pending (starts later; a recurring window between occurrences), expired, disabled (enabled=false),",
    "        MALFORMED (the router ignores it: it suppresses nothing; `suppress validate` says why)",
    "",
    whereHelp(["windowsTable"]),
  ].join("\n"),

  async run(args, io) {
    const { values } = parseFlags(args, OPTIONS);
    return withTarget(io, values, ["windowsTable"], async (target) => {
      const now = io.now();
      const all = await loadListedWindows(target, now);
      const shown = values.all ? all : all.filter((listed) => DEFAULT_STATES.includes(listed.state));
      if (values.json) {
        io.out(
          toJson(
            shown.map((listed) => ({
              id: listed.id,
              state: listed.state,
              item: listed.item,
              ...occurrences(listed, now),
              ...(listed.problems ? { problems: listed.problems } : {}),
            })),
          ),
        );
        return EXIT.ok;
      }
      io.out(`Suppression windows in the ${target.description} (table ${target.windowsTable}), at ${isoSeconds(now)}`);
      io.out("");
      if (shown.length === 0) {
        io.out(all.length === 0 ? "No windows at all." : `No active or pending windows (${summary(all)}; --all shows them).`);
        return EXIT.ok;
      }
      const rows = shown.map((listed) => [
        listed.state === "malformed" ? "MALFORMED" : listed.state,
        listed.id,
        matchersText(listed.item),
        scheduleText(listed),
        startsText(listed, now),
        endsText(listed, now),
        typeof listed.item.reason === "string" ? listed.item.reason : "",
        typeof listed.item.createdBy === "string" ? listed.item.createdBy : "",
      ]);
      for (const line of table(["STATE", "ID", "MATCHERS", "SCHEDULE", "STARTS", "ENDS", "REASON", "CREATED BY"], rows, {
        maxWidths: { MATCHERS: 60, REASON: 50 },
      })) {
        io.out(line);
      }
      io.out("");
      const hidden = all.length - shown.length;
      io.out(`${summary(all)}${hidden > 0 ? `; ${hidden} expired or disabled not shown (--all)` : ""}.`);
      reportMalformed(shown, (line) => io.out(line));
      return EXIT.ok;
    });
  },
};

/** For scripts: a recurring window's current occurrence (while active) and the next one, as UTC instants. */
function occurrences(listed: ListedWindow, now: Date) {
  const window = listed.window;
  if (!window?.schedule || listed.state === "malformed" || listed.state === "disabled") return {};
  const iso = (occurrence: { start?: Date; end?: Date } | undefined) =>
    occurrence && { start: occurrence.start?.toISOString(), ...(occurrence.end ? { end: occurrence.end.toISOString() } : {}) };
  const current = listed.state === "active" ? iso(currentOccurrence(window, now)) : undefined;
  const next = iso(nextOccurrence(window, now));
  return { ...(current ? { currentOccurrence: current } : {}), ...(next ? { nextOccurrence: next } : {}) };
}

function summary(all: readonly ListedWindow[]): string {
  const counts = new Map<ListedState, number>();
  for (const { state } of all) counts.set(state, (counts.get(state) ?? 0) + 1);
  return [...counts].map(([state, count]) => `${count} ${state}`).join(", ") || "0 windows";
}

/** Spelled out under the table: a malformed window is an outage of suppression, not a detail. */
function reportMalformed(listed: readonly ListedWindow[], out: (line: string) => void): void {
  const malformed = listed.filter((window) => window.state === "malformed");
  if (malformed.length === 0) return;
  out("");
  out(
    `!! ${plural(malformed.length, "malformed window")}: the router ignores ` +
      `${malformed.length === 1 ? "it" : "them"}, so ${malformed.length === 1 ? "it suppresses" : "they suppress"} NOTHING:`,
  );
  for (const window of malformed) {
    for (const problem of window.problems ?? []) out(`!!   ${printable(window.id)}: ${printable(problem)}`);
  }
  out("!! fix the item in the table (or remove it); `alert-relay suppress validate` checks them all.");
}
