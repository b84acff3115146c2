/** The windows table as the suppress commands present it: every item, valid or not, with its state now. */
import { createDynamoWindowStore, type DynamoWindowStore } from "../suppression/dynamo-window-store.ts";
import { currentOccurrence, nextOccurrence, windowState, type WindowState } from "../suppression/suppress.ts";
import { describeSchedule } from "../suppression/schedule.ts";
import type { TargetWith } from "../ops/target.ts";
import { parseIsoInstant, parseWindowItem, type SuppressionWindow } from "../suppression/window-item.ts";
import { dateOf, isoSeconds, relative, when } from "./format.ts";

export type ListedState = WindowState | "malformed";

export interface ListedWindow {
  /** The item's id, or a placeholder for an item without a usable one. */
  id: string;
  state: ListedState;
  item: Record<string, unknown>;
  window?: SuppressionWindow;
  problems?: string[];
}

/** Malformed first (they need fixing), then what suppresses now, then what will, then history. */
const STATE_ORDER: readonly ListedState[] = ["malformed", "active", "pending", "expired", "disabled"];

export function classifyWindows(items: readonly Record<string, unknown>[], now: Date): ListedWindow[] {
  const listed = items.map((item): ListedWindow => {
    const parsed = parseWindowItem(item);
    const id = typeof item.id === "string" && item.id !== "" ? item.id : `(id ${JSON.stringify(item.id) ?? "missing"})`;
    return parsed.ok
      ? { id, state: windowState(parsed.window, now), item, window: parsed.window }
      : { id, state: "malformed", item, problems: parsed.problems };
  });
  return listed.sort(
    (a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || startOf(a, now) - startOf(b, now) || a.id.localeCompare(b.id),
  );
}

function startOf(listed: ListedWindow, now: Date): number {
  return (occurrenceStart(listed, now) ?? listed.window?.startsAt ?? dateOf(listed.item.startsAt))?.getTime() ?? 0;
}

/** For a recurring window that is active or pending: when its current or next occurrence starts. */
function occurrenceStart(listed: ListedWindow, now: Date): Date | undefined {
  if (!listed.window?.schedule) return undefined;
  if (listed.state === "active") return currentOccurrence(listed.window, now)?.start;
  return listed.state === "pending" ? nextOccurrence(listed.window, now)?.start : undefined;
}

/** `Sun 02:00–04:00 Europe/Berlin` for a recurring window, `once` for the others. */
export function scheduleText(listed: ListedWindow): string {
  if (listed.window?.schedule) return describeSchedule(listed.window.schedule);
  return listed.state === "malformed" && listed.item.schedule !== undefined ? "?" : "once";
}

/** The matchers as the operator wrote them; a malformed list is shown as best it can be. */
export function matchersText(item: Record<string, unknown>): string {
  const matchers = item.matchers instanceof Set ? [...(item.matchers as Set<unknown>)] : item.matchers;
  if (Array.isArray(matchers))
    return matchers.map((matcher) => (typeof matcher === "string" ? matcher : JSON.stringify(matcher))).join(", ");
  return matchers === undefined ? "(none)" : JSON.stringify(matchers);
}

/**
 * `2026-11-27T01:00:00Z (2h ago)`, or what an absent start means; for a recurring window the
 * occurrence that matters: `now, until …` while in one, `next: …` between them.
 */
export function startsText(listed: ListedWindow, now: Date): string {
  const { window, state } = listed;
  if (window?.schedule && state === "active") {
    const end = currentOccurrence(window, now)?.end;
    if (end) return `now, until ${when(end, now)}`;
  }
  if (window?.schedule && state === "pending") {
    const next = nextOccurrence(window, now)?.start;
    if (next) return `next: ${when(next, now)}`;
  }
  if (listed.state === "malformed") return rawTime(listed.item.startsAt, (date) => when(date, now));
  const startsAt = listed.window?.startsAt;
  return startsAt ? when(startsAt, now) : "when written";
}

/** `… (in 1h 20m)` while running, `… (ended 3h ago)` after, `never` for an open end. */
export function endsText(listed: ListedWindow, now: Date): string {
  const show = (endsAt: Date) => (endsAt <= now ? `${isoSeconds(endsAt)} (ended ${relative(endsAt, now)})` : when(endsAt, now));
  if (listed.state === "malformed") return rawTime(listed.item.endsAt, show);
  return listed.window?.endsAt ? show(listed.window.endsAt) : "never (until disabled)";
}

/**
 * A malformed item's time as the router reads it, or else as written: a zone-less
 * "2026-11-27T03:00:00" must not be shown with the Z whose absence is what is wrong with it.
 */
function rawTime(value: unknown, show: (date: Date) => string): string {
  if (typeof value !== "string") return "?";
  const parsed = parseIsoInstant(value);
  return "date" in parsed ? show(parsed.date) : value;
}

/** The windows table of the target the command acts on. */
export function windowStoreOf(target: TargetWith<"windowsTable">): DynamoWindowStore {
  return createDynamoWindowStore({ doc: target.doc, tableName: target.windowsTable });
}

/** Every item of the target's windows table, classified at `now`. */
export async function loadListedWindows(target: TargetWith<"windowsTable">, now: Date): Promise<ListedWindow[]> {
  return classifyWindows(await windowStoreOf(target).loadAll(), now);
}
