import { getHeapStatistics } from "node:v8";
import { afterEach, describe, expect, it, vi } from "vitest";
import { releaseFreeHeap, startMemoryTrim } from "../../../lib/local/memory-trim.ts";

afterEach(() => vi.useRealTimers());

describe("memory trim", () => {
  it("gives back heap a burst grew and no longer uses", () => {
    let keep: unknown[][] = [];
    // A burst: ~150 MB of objects that live long enough to reach the old generation, then are dropped.
    for (let round = 0; round < 30; round += 1) keep.push(Array.from({ length: 100_000 }, (_, i) => ({ i, s: `x${i}` })));
    keep = [];
    const before = getHeapStatistics().total_heap_size;
    expect(releaseFreeHeap(0)).toBe(true);
    const after = getHeapStatistics().total_heap_size;
    expect(keep).toHaveLength(0);
    expect(after).toBeLessThan(before - 50 * 1024 * 1024);
  });

  it("leaves a heap with little unused space alone", () => {
    expect(releaseFreeHeap(Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it("trims once per quiet spell: after activity stands still for quietMs and the queue is empty, not during it", async () => {
    vi.useFakeTimers();
    let activity = 0;
    const trimOthers = vi.fn();
    let idle = true;
    const trim = startMemoryTrim({ activity: () => activity, trimOthers, idle: async () => idle, quietMs: 3_000, checkEveryMs: 1_000 });
    for (let s = 0; s < 10; s += 1) {
      activity += 1;
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(trimOthers).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(trimOthers).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(trimOthers).toHaveBeenCalledTimes(1);
    activity += 1;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(trimOthers).toHaveBeenCalledTimes(2);
    // Work still queued (a delivery waiting out PagerDuty's outage): no pause, however quiet.
    idle = false;
    activity += 1;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(trimOthers).toHaveBeenCalledTimes(2);
    idle = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(trimOthers).toHaveBeenCalledTimes(3);
    await trim.stop();
  });
});
