import { COPY_REFRESH_MS, createDynamoStateStore } from "../../state-table/problem-store.ts";
import { isExpired, isPlaceholderAlert, withAlerts } from "../../state-table/table.ts";
import type { ProblemState } from "../../router/state.ts";
import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { dateOf, plural, printable, toJson, when } from "../format.ts";
import { EXIT, UsageError, type Command } from "../io.ts";
import { aggregateSentences, memberLines, pagerDutySentences } from "../problems.ts";
import { describeInternalRecord, isInternalRecord } from "../internal-records.ts";
import { createAggregateStore } from "../../state-table/aggregate-store.ts";
import { isHeartbeatItem, missingDedupKey } from "../../heartbeat/heartbeat.ts";
import { describeHeartbeat } from "../heartbeats.ts";

const OPTIONS = { json: { type: "boolean" }, members: { type: "boolean" }, ...WHERE_OPTIONS, ...RESOURCE_OPTIONS.stateTable } as const;

/** Members of a group or storm incident listed without --members. */
const MEMBERS_SHOWN = 20;

/** The store's default; a deployment may set RESOLVED_RETENTION_DAYS, which the stored expiresAt reflects. */
const DEFAULT_RETENTION_DAYS = 30;

export const stateShowCommand: Command = {
  name: "state show",
  summary: "explain one problem: what the source says, what PagerDuty was told and why",
  usage: "alert-relay state show <dedupKey> [--json] [--members]",
  details: [
    "options:",
    ...optionLines([
      ["--json", "the stored item as JSON"],
      ["--members", `for a group or storm incident: every member, not only the newest ${MEMBERS_SHOWN}`],
    ]),
    "",
    whereHelp(["stateTable"]),
  ].join("\n"),

  async run(args, io) {
    const { values, positionals } = parseFlags(args, OPTIONS, true);
    const [dedupKey, ...extra] = positionals;
    if (!dedupKey) throw new UsageError("name the problem's dedupKey (alert-relay state list shows them)");
    if (extra.length > 0)
      throw new UsageError(`show one problem at a time; unexpected ${extra.map((text) => JSON.stringify(text)).join(" ")}`);
    return withTarget(io, values, ["stateTable"], async (target) => {
      const now = io.now();
      const store = createDynamoStateStore({ doc: target.doc, tableName: target.stateTable });
      const state = await store.get(dedupKey);
      // Counters and other records alert-relay keeps in the table are shown as what they are, not as problems.
      if (state && isInternalRecord(state)) {
        if (values.json) io.out(toJson(state));
        else
          for (const line of describeInternalRecord(
            state as unknown as { dedupKey: string } & Record<string, unknown>,
            now,
            target.description,
          ))
            io.out(printable(line));
        return EXIT.ok;
      }
      if (!state || isExpired(state, now)) {
        io.err(
          `no problem with dedupKey ${JSON.stringify(dedupKey)} in the ${target.description}: it never reached the router, ` +
            `or it resolved longer ago than the retention period (${DEFAULT_RETENTION_DAYS} ` +
            `days by default). alert-relay state list shows the known ones.`,
        );
        return EXIT.failed;
      }
      if (values.json) {
        // A problem that never fired has no alert kept: none is shown rather than the stand-in.
        const { lastAlert, ...rest } = state;
        io.out(toJson(isPlaceholderAlert(lastAlert) ? rest : state));
        return EXIT.ok;
      }
      // A heartbeat tracker (heartbeat:<name>) shares the table: shown as a heartbeat, with its "missing" problem.
      const lines = isHeartbeatItem(state)
        ? describeHeartbeat(state, await store.get(missingDedupKey(state.name)), now, target.description)
        : describeProblem(state, now, target.description);
      for (const line of lines) io.out(printable(line));
      if (state.kind) {
        // Membership lives on each member's item: paged through, however many there are.
        const aggregates = createAggregateStore({ doc: target.doc, tableName: target.stateTable });
        const members: ProblemState[] = [];
        for await (const member of aggregates.members(state)) members.push(member);
        const newest = values.members
          ? members
          : members.sort((a, b) => b.transitionAt.localeCompare(a.transitionAt)).slice(0, MEMBERS_SHOWN);
        const shown = await withAlerts(target.doc, target.stateTable, newest);
        io.out("");
        io.out(
          `Members of this episode (${members.length}, from their own ` +
            `items${members.length > shown.length ? `; the newest ${shown.length} here, --members lists all` : ""}):`,
        );
        for (const line of memberLines(shown, now)) io.out(printable(`  ${line}`));
      }
      return EXIT.ok;
    });
  },
};

function describeProblem(state: ProblemState, now: Date, where: string): string[] {
  const at = (value: string | undefined) => {
    const date = dateOf(value);
    return date ? when(date, now) : "an unknown time";
  };
  const alert = isPlaceholderAlert(state.lastAlert) ? undefined : state.lastAlert;
  const labels = alert?.labels ? Object.entries(alert.labels).map(([name, value]) => `${name}=${value}`) : [];
  const expiresAt = state.expiresAt === undefined ? undefined : new Date(state.expiresAt * 1000);
  return [
    `Problem ${state.dedupKey} (source ${state.source}) in the ${where}`,
    "",
    "What the source says:",
    `  It is ${state.status} since ${at(state.transitionAt)}, severity ${state.severity}.`,
    `  Last event: alert ${state.lastAlertId}, which happened at ${at(state.eventAt)}; last ` +
      `seen ${at(state.lastSeenAt)}, first seen ${at(state.firstSeenAt)}.`,
    ...(alert?.summary ? [`  Summary: ${alert.summary}`] : []),
    ...(labels.length > 0 ? [`  Labels: ${labels.join(", ")}`] : []),
    // Only a firing's alert is kept whole: later events are counted, not kept.
    ...(alert && alert.id !== state.lastAlertId
      ? [`  (Summary and labels are those of alert ${alert.id}, the firing PagerDuty hears about.)`]
      : []),
    `  Events: ${state.seen ?? 0} recorded; ${plural(state.deduplicated ?? 0, "duplicate")}, ${state.suppressed ?? 0} suppressed, ` +
      `${state.stale ?? 0} stale (older than the recorded state, so ignored). A copy of the last alert ` +
      `within ${COPY_REFRESH_MS / 60_000} min of the last record is not recorded again.`,
    "",
    "What PagerDuty was told:",
    ...pagerDutySentences(state, now).map((line) => `  ${line}`),
    ...section("Grouping and flapping:", aggregateSentences(state, now)),
    "",
    "Retention:",
    expiresAt
      ? `  Resolved problems are forgotten after the retention period; this one at ${when(expiresAt, now)}.`
      : `  Kept while firing; resolved problems are forgotten after the retention period ` +
        `(${DEFAULT_RETENTION_DAYS} days unless RESOLVED_RETENTION_DAYS says otherwise).`,
  ];
}

const section = (title: string, lines: readonly string[]) => (lines.length > 0 ? ["", title, ...lines.map((line) => `  ${line}`)] : []);
