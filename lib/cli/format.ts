/**
 * How the CLI writes for people: one table layout, one way to say a duration and a time, so
 * every command reads the same. Times are UTC ISO plus a relative hint ("in 1h 20m").
 */

export { formatDuration, parseDuration } from "../platform/duration.ts";
import { formatDuration } from "../platform/duration.ts";

/** `in 1h 20m`, `3h ago`, `now` (within a second). */
export function relative(date: Date, now: Date): string {
  const delta = date.getTime() - now.getTime();
  if (Math.abs(delta) < 1000) return "now";
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

/** ISO 8601 in UTC to the second; milliseconds are noise for people. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** `2026-11-27T03:00:00Z (in 1h 20m)`. */
export function when(date: Date, now: Date): string {
  return `${isoSeconds(date)} (${relative(date, now)})`;
}

/** `2026-11-27 04:00 GMT+1` in this machine's zone (or `timeZone`), for "when does my window end, for me". */
export function localTime(date: Date, timeZone?: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      ...(timeZone ? { timeZone } : {}),
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** Reads a stored ISO time; undefined for anything else (a malformed item must not break a listing). */
export function dateOf(value: unknown): Date | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * Items come from a table anyone can write in the console: a control character (an ANSI escape,
 * a newline) must neither restyle the terminal nor break a row.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export interface TableOptions {
  /** Longest cell per column (by header), cut with "…" beyond it. */
  maxWidths?: Readonly<Record<string, number>>;
}

/** Aligned columns separated by two spaces; the last column is not padded, so no line ends in spaces. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string[] {
  const cells = rows.map((row) =>
    headers.map((header, index) => {
      const text = printable(row[index] ?? "");
      const max = options.maxWidths?.[header];
      return max === undefined ? text : clip(text, max);
    }),
  );
  const widths = headers.map((header, index) => Math.max(header.length, ...cells.map((row) => row[index]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...cells.map(line)];
}

/** JSON for machines: a String Set read from DynamoDB becomes a list instead of `{}`. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (item instanceof Set ? [...(item as Set<unknown>)] : item), 2);
}
