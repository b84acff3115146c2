/**
 * Says each malformed window once per change of its item, not at every re-read: every router
 * instance and the sweep re-read the table every few seconds, and seven broken items used to
 * give 28 identical error lines a minute. The metric still counts every read (its alarm must
 * stay in ALARM while the item is broken); only the log line is deduplicated.
 *
 * One log per process (a Lambda instance, or the whole local stack with its pollers and sweep),
 * so several caches in one process report a change once between them.
 */

/** How many items' last reported form are remembered; beyond it the oldest is forgotten (and may be said again). */
const MAX_REMEMBERED = 1_000;

export interface MalformedWindowLog {
  /** True when this item, in this form, has not been reported yet by this process: report it now. */
  isNew(table: string, id: string | undefined, item: unknown): boolean;
}

export function createMalformedWindowLog(maxRemembered = MAX_REMEMBERED): MalformedWindowLog {
  const reported = new Map<string, string>();
  return {
    isNew(table, id, item) {
      const key = `${table}\u0000${id ?? "(no id)"}`;
      const form = fingerprint(item);
      if (reported.get(key) === form) return false;
      reported.delete(key);
      reported.set(key, form);
      if (reported.size > maxRemembered) reported.delete(reported.keys().next().value!);
      return true;
    },
  };
}

/** The process-wide log the router runtimes share. */
export const processMalformedWindowLog = createMalformedWindowLog();

/** The item's content independent of attribute order and of a String Set's order. */
function fingerprint(value: unknown): string {
  return (
    JSON.stringify(value, (_key, item: unknown) => {
      if (item instanceof Set) return [...(item as Set<unknown>)].map(String).sort();
      if (item && typeof item === "object" && !Array.isArray(item)) {
        return Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }
      return item;
    }) ?? String(value)
  );
}

/** One readable sentence: which window, that it suppresses nothing, each problem, and how to list them all. */
export function describeMalformedWindow(id: string | undefined, problems: readonly string[]): string {
  const which = id === undefined ? "A suppression window item without a usable id" : `Suppression window ${JSON.stringify(id)}`;
  return (
    `${which} is malformed and ignored (it suppresses nothing until fixed): ` +
    `${problems.join("; ")}. List every malformed window with: npx alert-relay suppress validate`
  );
}
