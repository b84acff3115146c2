/**
 * Gives back the memory a burst made V8 grow, once the local stack is quiet again.
 *
 * Measured (bench/local-rss.ts): after 20,000 alerts the stack's own data is a few tens of MB, yet
 * RSS stayed ~800 MB above idle. The memory is heap capacity V8 grew for the burst and kept, in
 * each isolate (the handlers' thread and both emulator threads): total heap ≫ used heap. V8's
 * memory reducer would release it once the isolate is idle, but the stack never looks idle to V8
 * (the router's pollers receive every 40 ms, the emulators answer them). So when no request and
 * no message has come for a few seconds and the queue is empty (nothing waiting, nothing in flight:
 * the pause cannot delay a delivery), each thread runs V8's memory-reducing full GC once ("last
 * resort": compacts and unmaps free pages) — only where the unused heap is large.
 */
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Unused heap below this is left alone: a last-resort GC costs tens of milliseconds (seconds on a
 * loaded machine), and an idle stack's threads hold 15–40 MB unused anyway. A 20,000-alert burst
 * leaves 100–200 MB per thread.
 */
export const TRIM_SLACK_BYTES = 64 * 1024 * 1024;

type Gc = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;
let gc: Gc | undefined;

/** V8's gc() without starting Node with --expose-gc: the flag holds for contexts made after it is set. */
function loadGc(): Gc {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (exposed) return exposed;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as Gc;
}

/** Runs the memory-reducing GC on this thread when its unused heap is over `minSlackBytes`; true when it ran. */
export function releaseFreeHeap(minSlackBytes = TRIM_SLACK_BYTES): boolean {
  const { total_heap_size: total, used_heap_size: used } = getHeapStatistics();
  if (total - used < minSlackBytes) return false;
  gc ??= loadGc();
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
  return true;
}

export interface MemoryTrimOptions {
  /** A number that changes whenever the stack does work (requests answered, messages received). */
  activity: () => number;
  /** Trims the other threads (the emulators'). */
  trimOthers: () => void;
  /** Whether there is no work left (the queue empty): asked once activity has stood still; false waits for the next quiet spell check. */
  idle: () => Promise<boolean>;
  /** How long the activity must stand still before trimming. */
  quietMs?: number;
  checkEveryMs?: number;
}

/** Trims every thread once per quiet spell: after activity, when it has stood still for quietMs. */
export function startMemoryTrim(options: MemoryTrimOptions): { stop(): Promise<void> } {
  const quietMs = options.quietMs ?? 10_000;
  let seen = options.activity();
  let since = Date.now();
  let trimmed = false;
  let checking = false;
  const timer = setInterval(() => {
    const now = options.activity();
    if (now !== seen) {
      seen = now;
      since = Date.now();
      trimmed = false;
      return;
    }
    if (trimmed || checking || Date.now() - since < quietMs) return;
    checking = true;
    options
      .idle()
      .catch(() => false)
      .then((idle) => {
        // Still idle and nothing happened while asking: trim once for this quiet spell.
        if (!idle || options.activity() !== seen) return;
        trimmed = true;
        releaseFreeHeap();
        options.trimOthers();
      })
      .finally(() => (checking = false));
  }, options.checkEveryMs ?? 1_000);
  timer.unref();
  return { stop: async () => clearInterval(timer) };
}
