import { paginateScan, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { alertItemKey, isAlertItem, isExpired, problemFromItem } from "../../state-table/table.ts";
import type { ProblemState } from "../../router/state.ts";
import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { dateOf, isoSeconds, plural, relative, table, toJson } from "../format.ts";
import { EXIT, type Command } from "../io.ts";
import { noteCell, toldCell } from "../problems.ts";
import { HEARTBEAT_ITEM_TYPE, type HeartbeatRecord } from "../../heartbeat/heartbeat.ts";
import { heartbeatListLines } from "../heartbeats.ts";
import { internalKind, isInternalRecord } from "../internal-records.ts";

const OPTIONS = {
  firing: { type: "boolean" },
  json: { type: "boolean" },
  ...WHERE_OPTIONS,
  ...RESOURCE_OPTIONS.stateTable,
} as const;

/**
 * The whole state table in one scan, split: the problems (items with a status, as the state store's
 * list() has them) and the heartbeat trackers (`itemType: "heartbeat"`, lib/state-table/heartbeat-store.ts).
 */
async function scanStateTable(
  doc: DynamoDBDocumentClient,
  tableName: string,
): Promise<{ problems: ProblemState[]; heartbeats: HeartbeatRecord[]; internal: Map<string, number> }> {
  const problemItems: Record<string, unknown>[] = [];
  const alertItems = new Map<string, Record<string, unknown>>();
  const heartbeats: HeartbeatRecord[] = [];
  const internal = new Map<string, number>();
  for await (const page of paginateScan({ client: doc }, { TableName: tableName })) {
    for (const item of page.Items ?? []) {
      if (item.status !== undefined) problemItems.push(item);
      // A problem's alert is part of the problem: paired with it below, not counted apart.
      else if (isAlertItem(item)) alertItems.set(item.dedupKey as string, item);
      else if (item.itemType === HEARTBEAT_ITEM_TYPE) heartbeats.push(item as HeartbeatRecord);
      else if (isInternalRecord(item))
        internal.set(internalKind(item as { dedupKey: string }), (internal.get(internalKind(item as { dedupKey: string })) ?? 0) + 1);
    }
  }
  const problems = problemItems.map((item) => problemFromItem(item, alertItems.get(alertItemKey(item.dedupKey as string))));
  return { problems, heartbeats, internal };
}

/** Counters and pacing records share the table: counted, never listed as problems. */
function internalLine(internal: Map<string, number>): string[] {
  if (internal.size === 0) return [];
  return [
    "",
    `Not problems: ${[...internal].map(([kind, n]) => plural(n, kind)).join(", ")} ` +
      `(alert-relay's own records; state show <key> explains one).`,
  ];
}

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
      const scanned = await scanStateTable(target.doc, target.stateTable);
      // The table's TTL deletes lazily; an expired item is forgotten already as far as the router is concerned.
      const problems = scanned.problems.filter((state) => !isExpired(state, now) && (!values.firing || state.status === "firing"));
      // Heartbeat trackers share the table but are not problems: listed after the problems, not with --firing.
      const heartbeats = values.firing ? [] : scanned.heartbeats;
      problems.sort(
        (a, b) => Number(b.status === "firing") - Number(a.status === "firing") || (b.lastSeenAt ?? "").localeCompare(a.lastSeenAt ?? ""),
      );
      if (values.json) {
        io.out(toJson(problems));
        return EXIT.ok;
      }
      io.out(`Problems in the ${target.description} (table ${target.stateTable}), at ${isoSeconds(now)}`);
      io.out("");
      if (problems.length === 0) {
        io.out(values.firing ? "No problem is firing." : "No problems recorded.");
        for (const line of heartbeatListLines(heartbeats, now)) io.out(line);
        if (!values.firing) for (const line of internalLine(scanned.internal)) io.out(line);
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
      if (!values.firing) for (const line of internalLine(scanned.internal)) io.out(line);
      return EXIT.ok;
    });
  },
};
