import { createDynamoStateStore, isExpired } from "../../router/state-store.ts";
import type { ProblemState } from "../../router/state.ts";
import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { dateOf, isoSeconds, plural, relative, table, toJson } from "../format.ts";
import { EXIT, type Command } from "../io.ts";
import { noteCell, toldCell } from "../problems.ts";
import { createHeartbeatStore } from "../../heartbeat/store.ts";
import { heartbeatListLines } from "../../heartbeat/describe.ts";

const OPTIONS = {
  firing: { type: "boolean" },
  json: { type: "boolean" },
  ...WHERE_OPTIONS,
  ...RESOURCE_OPTIONS.stateTable,
} as const;

export const stateListCommand: Command = {
  name: "state list",
  summary: "list the problems the router knows: status, what PagerDuty was told, windows, groups, flapping, counts",
  usage: "alert-relay state list [--firing] [--json]",
  details: [
    "options:",
    ...optionLines([
      ["--firing", "only problems that are firing now"],
      ["--json", "the stored items, as one JSON array"],
    ]),
    "Firing problems come first, then the most recently seen. `state show <dedupKey>` explains one problem.",
    "",
    whereHelp(["stateTable"]),
  ].join("\n"),

  async run(args, io) {
    const { values } = parseFlags(args, OPTIONS);
    return withTarget(io, values, ["stateTable"], async (target) => {
      const now = io.now();
      const store = createDynamoStateStore({ doc: target.doc, tableName: target.stateTable });
      const problems: ProblemState[] = [];
      // The table's TTL deletes lazily; an expired item is forgotten already as far as the router is concerned.
      for await (const state of store.list({ firing: values.firing ?? false })) if (!isExpired(state, now)) problems.push(state);
      problems.sort((a, b) => Number(b.status === "firing") - Number(a.status === "firing") || (b.lastSeenAt ?? "").localeCompare(a.lastSeenAt ?? ""));
      if (values.json) {
        io.out(toJson(problems));
        return EXIT.ok;
      }
      // Heartbeat trackers share the table but are not problems (store.list skips them): listed after the problems.
      const heartbeats = values.firing ? [] : await createHeartbeatStore({ doc: target.doc, tableName: target.stateTable }).list();
      io.out(`Problems in the ${target.description} (table ${target.stateTable}), at ${isoSeconds(now)}`);
      io.out("");
      if (problems.length === 0) {
        io.out(values.firing ? "No problem is firing." : "No problems recorded.");
        for (const line of heartbeatListLines(heartbeats, now)) io.out(line);
        return EXIT.ok;
      }
      const rows = problems.map((state) => {
        const lastSeen = dateOf(state.lastSeenAt);
        return [
          state.dedupKey,
          state.status,
          state.severity,
          toldCell(state, now),
          noteCell(state, now),
          String(state.seen ?? 0),
          String(state.deduplicated ?? 0),
          String(state.suppressed ?? 0),
          String(state.stale ?? 0),
          lastSeen ? relative(lastSeen, now) : "?",
        ];
      });
      const headers = ["DEDUP KEY", "STATUS", "SEVERITY", "PAGERDUTY", "NOTE", "SEEN", "DEDUPED", "SUPPRESSED", "STALE", "LAST SEEN"];
      for (const line of table(headers, rows, { maxWidths: { "DEDUP KEY": 60, NOTE: 64 } })) io.out(line);
      io.out("");
      const firing = problems.filter((state) => state.status === "firing").length;
      io.out(`${plural(problems.length, "problem")}: ${firing} firing, ${problems.length - firing} resolved.`);
      for (const line of heartbeatListLines(heartbeats, now)) io.out(line);
      return EXIT.ok;
    });
  },
};
