/** Heartbeats as the state commands present them: a table for `state list`, sentences for `state show heartbeat:<name>`. */
import { dateOf, plural, relative, table, when } from "./format.ts";
import type { ProblemState } from "../router/state.ts";
import { formatDuration } from "../platform/duration.ts";
import { heartbeatStatus, missingDedupKey, type HeartbeatRecord } from "../heartbeat/heartbeat.ts";

/** `ok`, `missing for 7m`, `waiting for a first beat`, or `unknown` before the sweep has seen it. */
export function heartbeatState(record: HeartbeatRecord, now: Date): { word: "ok" | "missing" | "waiting" | "unknown"; text: string } {
  if (record.intervalMs === undefined) return { word: "unknown", text: "unknown (not checked by the sweep yet)" };
  const status = heartbeatStatus(record, record.intervalMs, now);
  if (status.missing) return { word: "missing", text: `missing for ${formatDuration(now.getTime() - Date.parse(status.since))}` };
  return status.waiting ? { word: "waiting", text: "waiting for a first beat" } : { word: "ok", text: "ok" };
}

const ago = (value: string | undefined, now: Date, never: string) => {
  const date = dateOf(value);
  return date ? relative(date, now) : never;
};

/** The heartbeat section of `state list`; empty when no heartbeat is tracked. */
export function heartbeatListLines(records: readonly HeartbeatRecord[], now: Date): string[] {
  if (records.length === 0) return [];
  const sorted = [...records].sort((a, b) => a.name.localeCompare(b.name));
  const states = sorted.map((record) => heartbeatState(record, now));
  const rows = sorted.map((record, index) => [
    record.name,
    states[index]!.text,
    ago(record.lastBeatAt, now, "never"),
    record.intervalMs === undefined ? "?" : formatDuration(record.intervalMs),
    String(record.beats ?? 0),
    ago(record.checkedAt, now, "never"),
  ]);
  const missing = states.filter((state) => state.word === "missing").length;
  return [
    "",
    "Heartbeats (alert-relay state show heartbeat:<name> explains one):",
    ...table(["HEARTBEAT", "STATE", "LAST BEAT", "EVERY", "BEATS", "CHECKED"], rows, { maxWidths: { HEARTBEAT: 64 } }),
    "",
    `${plural(records.length, "heartbeat")}: ${missing} missing, ${records.length - missing} not missing.`,
  ];
}

/** `state show heartbeat:<name>`: the beats, and what PagerDuty knows about it missing. */
export function describeHeartbeat(record: HeartbeatRecord, problem: ProblemState | undefined, now: Date, where: string): string[] {
  const at = (value: string | undefined) => {
    const date = dateOf(value);
    return date ? when(date, now) : "an unknown time";
  };
  const state = heartbeatState(record, now);
  const every = record.intervalMs === undefined ? undefined : formatDuration(record.intervalMs);
  const lines = [`Heartbeat ${record.name} in the ${where}`, ""];
  lines.push(
    record.lastBeatAt
      ? `  Last beat at ${at(record.lastBeatAt)}: alert ${record.lastBeatAlertId ?? "?"} from ` +
          `${record.lastBeatSource ?? "?"}; ${plural(record.beats ?? 0, "beat")} recorded.`
      : "  No beat recorded yet.",
    `  Watched since ${at(record.watchingSince)}${every ? `; a beat is expected every ${every}` : ""}.`,
    `  State: ${state.text}.`,
    record.checkedAt
      ? `  Last checked by the sweep at ${at(record.checkedAt)} (a heartbeat no longer declared in the routes config stops being checked).`
      : "  Not checked by the sweep yet.",
    "",
    "What PagerDuty knows:",
  );
  const key = missingDedupKey(record.name);
  if (!problem) lines.push(`  Nothing: it has never been missing (its problem would be ${key}).`);
  else if (problem.status === "firing")
    lines.push(`  Missing since ${at(problem.transitionAt)}: problem ${key} is firing (alert-relay state show ${key} explains it).`);
  else if (problem.openIn)
    lines.push(`  Back since ${at(problem.transitionAt)}; the resolve of ${key} is still owed (alert-relay state show ${key}).`);
  else lines.push(`  Back since ${at(problem.transitionAt)}; ${key} is resolved.`);
  return lines;
}
