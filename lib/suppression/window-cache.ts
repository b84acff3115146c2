/**
 * The router's view of the windows table: one Scan every refreshMs per instance, never a read
 * per alert.
 *
 * Bound: a snapshot is used only while it is younger than refreshMs, measured from when its
 * load *started*, so every decision reflects the table as it was at most refreshMs (default
 * 15 s) plus one Scan's duration ago, in every Lambda instance independently. That keeps a
 * console edit well inside DESIGN.md's 30 s target. The exception is a failing table: then
 * the last good set stays in use (stale, and reported through onError at each attempt)
 * because forgetting every window during a DynamoDB outage would page for planned work.
 */
import type { MatchableAlert } from "../matchers/subject.ts";
import { findSuppressingWindow } from "./suppress.ts";
import { parseWindowItem, type SuppressionWindow } from "./window-item.ts";

export interface WindowSource {
  /** Every item in the table, unparsed. */
  loadAll(): Promise<unknown[]>;
}

export interface WindowCacheOptions {
  source: WindowSource;
  /** How old a snapshot may get before the next call reloads it. */
  refreshMs?: number;
  now?: () => Date;
  /** A refresh failed and the previous windows are still in use. */
  onError?: (error: unknown) => void;
  /** An item that is not a valid window, reported at every load it appears in (with the item as read) and otherwise ignored. */
  onMalformed?: (id: string | undefined, problems: readonly string[], item: unknown) => void;
}

export interface WindowCache {
  /**
   * The valid windows, sorted by id, reloaded first when the snapshot is stale. Concurrent calls
   * share one load. Rejects only while no load has ever succeeded: without a first snapshot
   * the router cannot know what is suppressed and must not guess.
   */
  windows(): Promise<readonly SuppressionWindow[]>;
  /** findSuppressingWindow over the current windows at the cache's clock. */
  findSuppressingWindow(alert: MatchableAlert): Promise<SuppressionWindow | undefined>;
}

export const DEFAULT_WINDOW_REFRESH_MS = 15_000;

export function createWindowCache(options: WindowCacheOptions): WindowCache {
  const { source, refreshMs = DEFAULT_WINDOW_REFRESH_MS, now = () => new Date(), onError = () => {}, onMalformed = () => {} } = options;
  let snapshot: { windows: readonly SuppressionWindow[]; loadStartedAt: number } | undefined;
  let retryAfter = 0;
  let inflight: Promise<readonly SuppressionWindow[]> | undefined;

  async function load(startedAt: number): Promise<readonly SuppressionWindow[]> {
    const items = await source.loadAll();
    if (!Array.isArray(items)) throw new TypeError(`the window source returned ${typeof items}, not a list of items`);
    const windows: SuppressionWindow[] = [];
    for (const item of items) {
      const parsed = parseWindowItem(item);
      if (parsed.ok) windows.push(parsed.window);
      else onMalformed(parsed.id, parsed.problems, item);
    }
    windows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    snapshot = { windows, loadStartedAt: startedAt };
    return windows;
  }

  async function refresh(): Promise<readonly SuppressionWindow[]> {
    const startedAt = now().getTime();
    try {
      return await load(startedAt);
    } catch (error) {
      if (!snapshot) throw error;
      onError(error);
      // Retry after another interval, not on the next alert: a struggling table gets one Scan per refreshMs at most.
      retryAfter = startedAt + refreshMs;
      return snapshot.windows;
    } finally {
      inflight = undefined;
    }
  }

  async function windows(): Promise<readonly SuppressionWindow[]> {
    const time = now().getTime();
    if (snapshot && (time - snapshot.loadStartedAt < refreshMs || time < retryAfter)) return snapshot.windows;
    inflight ??= refresh();
    return inflight;
  }

  return {
    windows,
    async findSuppressingWindow(alert) {
      return findSuppressingWindow(await windows(), alert, now());
    },
  };
}
