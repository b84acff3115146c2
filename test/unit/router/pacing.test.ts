/** Pacing per routing key (issue 11): the pure decision. The shared budget on dynalite: test/integration/router/pacing.test.ts. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PACE_WINDOW_MS, SLOTS, SLOT_MS, decidePace, eventsInWindow, slotOf } from "../../../lib/router/pacing.ts";

const T = Date.UTC(2026, 10, 26, 17, 0);

describe("decidePace", () => {
  /** Counts per slot, keyed by how many slots before the current one (0: the current slot). */
  const slots = (counts: Record<number, number>) =>
    Object.fromEntries(Object.entries(counts).map(([back, n]) => [`s${slotOf(T) - Number(back)}`, n]));

  it("admits new pages while the last minute holds no more than the budget less the share kept for resolves and updates", () => {
    expect(decidePace(undefined, T, 100, false)).toEqual({ admit: true });
    expect(decidePace({ w: slots({ 0: 30, 5: 50 }) }, T, 100, false)).toEqual({ admit: true });
    expect(decidePace({ w: slots({ 0: 31, 5: 50 }) }, T, 100, false)).toMatchObject({
      admit: false,
      why: "80 events in the last minute, the budget for new pages is 80 (of 100)",
    });
  });

  it("admits resolves and aggregate updates up to the whole budget", () => {
    expect(decidePace({ w: slots({ 0: 100 }) }, T, 100, true)).toEqual({ admit: true });
    expect(decidePace({ w: slots({ 0: 101 }) }, T, 100, true)).toMatchObject({ admit: false });
  });

  it(`counts ${SLOTS} slots of ${SLOT_MS / 1000} s, so any 60 seconds ending now are covered, and forgets older ones`, () => {
    expect(eventsInWindow(slots({ 0: 1, [SLOTS - 1]: 2, [SLOTS]: 4 }), T)).toBe(3);
    expect(decidePace({ w: slots({ [SLOTS]: 500, 0: 1 }) }, T, 100, false)).toEqual({ admit: true });
  });

  it("says how long to wait: until enough of the oldest slots have aged out", () => {
    const now = slotOf(T) * SLOT_MS + 1_000;
    // 81 of 80: the oldest slot (12 back) must age out, at the end of the current slot.
    expect(decidePace({ w: slots({ 12: 1, 3: 80 }) }, now, 100, false)).toMatchObject({ admit: false, waitMs: SLOT_MS - 1_000 });
    // Only the slot 3 back frees enough: it ages out 10 slots after the current one ends.
    expect(decidePace({ w: slots({ 12: 1, 3: 80, 0: 5 }) }, now, 100, false)).toMatchObject({ admit: false, waitMs: 10 * SLOT_MS - 1_000 });
  });

  it("waits out a 429 pause whatever the budget says", () => {
    expect(decidePace({ pausedUntil: T + 7_000 }, T, 100, true)).toMatchObject({
      admit: false,
      waitMs: 7_000,
      why: expect.stringContaining("429"),
    });
    expect(decidePace({ pausedUntil: T - 1 }, T, 100, true)).toEqual({ admit: true });
  });

  it("never admits more than the budget within any 60 seconds, for any arrival pattern (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.boolean()), { minLength: 1, maxLength: 2_000 }), (arrivals) => {
        const w: Record<string, number> = {};
        const admitted: number[] = [];
        let now = T;
        for (const [gap, priority] of arrivals) {
          now += gap;
          const slot = `s${slotOf(now)}`;
          w[slot] = (w[slot] ?? 0) + 1;
          if (decidePace({ w }, now, 100, priority).admit) admitted.push(now);
          else w[slot] -= 1;
        }
        for (const at of admitted) expect(admitted.filter((t) => t > at - PACE_WINDOW_MS && t <= at).length).toBeLessThanOrEqual(100);
      }),
      { numRuns: 50 },
    );
  });
});
