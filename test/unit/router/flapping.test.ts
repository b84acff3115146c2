/** Flapping judgement: how many recent changes count, when a problem is flapping, and how long a resolve is held. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_RECORDED_CHANGES, holdUntil, isFlapping, recentChanges } from "../../../lib/router/flapping.ts";
import type { FlappingPolicy } from "../../../lib/routes/policies.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 26, 17, 0);
/** The ISO time `minutes` after T0 (fractions allowed). */
const iso = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();
const at = (minutes: number) => new Date(T0 + minutes * MINUTE);
const policy: FlappingPolicy = { changes: 3, withinMs: 10 * MINUTE, stableMs: 5 * MINUTE };

describe("recentChanges", () => {
  it("counts nothing without recorded changes", () => {
    expect(recentChanges(undefined, at(0), 10 * MINUTE)).toBe(0);
    expect(recentChanges([], at(0), 10 * MINUTE)).toBe(0);
  });

  it("counts the changes within the window ending at `at`, including `at` itself", () => {
    expect(recentChanges([iso(0), iso(5), iso(9), iso(10)], at(10), 10 * MINUTE)).toBe(3);
  });

  it("leaves out a change exactly `withinMs` before `at` and keeps one a millisecond later", () => {
    expect(recentChanges([iso(0)], at(10), 10 * MINUTE)).toBe(0);
    expect(recentChanges([new Date(T0 + 1).toISOString()], at(10), 10 * MINUTE)).toBe(1);
  });

  it("leaves out changes after `at`", () => {
    expect(recentChanges([iso(1), iso(2), new Date(T0 + 2 * MINUTE + 1).toISOString(), iso(3)], at(2), 10 * MINUTE)).toBe(2);
  });

  it("does not depend on the order of the recorded changes", () => {
    expect(recentChanges([iso(9), iso(1), iso(5), iso(-3)], at(9), 10 * MINUTE)).toBe(3);
  });

  it("ignores recorded times it cannot read", () => {
    expect(recentChanges(["not a time", iso(9), ""], at(9), 10 * MINUTE)).toBe(1);
  });

  it("reads times written with an offset as the instant they stand for", () => {
    // 18:05+01:00 is 17:05Z: inside a 10-minute window ending at 17:09Z.
    expect(recentChanges(["2026-11-26T18:05:00+01:00"], at(9), 10 * MINUTE)).toBe(1);
    // 17:05-01:00 is 18:05Z: after `at`.
    expect(recentChanges(["2026-11-26T17:05:00-01:00"], at(9), 10 * MINUTE)).toBe(0);
  });

  it("agrees with a direct count for any set of change times", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -30 * MINUTE, max: 30 * MINUTE }), { maxLength: MAX_RECORDED_CHANGES }),
        fc.integer({ min: 1, max: 20 * MINUTE }),
        (offsets, withinMs) => {
          const changes = offsets.map((offset) => new Date(T0 + offset).toISOString());
          const expected = offsets.filter((offset) => offset > -withinMs && offset <= 0).length;
          expect(recentChanges(changes, new Date(T0), withinMs)).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("isFlapping", () => {
  it("is false at exactly `changes` changes within the window: it takes more than that", () => {
    expect(isFlapping([iso(0), iso(1), iso(2)], at(2), policy)).toBe(false);
  });

  it("is true at `changes` + 1 changes within the window", () => {
    expect(isFlapping([iso(0), iso(1), iso(2), iso(3)], at(3), policy)).toBe(true);
  });

  it("judges the window that ends at the last change, not some later time", () => {
    const changes = [iso(0), iso(1), iso(2), iso(3)];
    expect(isFlapping(changes, at(3), policy)).toBe(true);
    // Judged long after, the same changes fall outside the window.
    expect(isFlapping(changes, at(30), policy)).toBe(false);
  });

  it("is false when the oldest of four changes is exactly `within` before the last", () => {
    expect(isFlapping([iso(0), iso(4), iso(8), iso(10)], at(10), policy)).toBe(false);
  });

  it("is true when the oldest of four changes is a millisecond inside `within`", () => {
    expect(isFlapping([new Date(T0 + 1).toISOString(), iso(4), iso(8), iso(10)], at(10), policy)).toBe(true);
  });

  it("only counts changes inside the window, however many happened before it", () => {
    const old = Array.from({ length: 10 }, (_, i) => iso(i - 30));
    expect(isFlapping([...old, iso(0), iso(1), iso(2)], at(2), policy)).toBe(false);
    expect(isFlapping([...old, iso(-1), iso(0), iso(1), iso(2)], at(2), policy)).toBe(true);
  });

  it("uses the policy's threshold and window", () => {
    const changes = [iso(0), iso(1), iso(2)];
    expect(isFlapping(changes, at(2), { ...policy, changes: 2 })).toBe(true);
    expect(isFlapping(changes, at(2), { ...policy, changes: 2, withinMs: 2 * MINUTE })).toBe(false);
  });

  it("is false without recorded changes", () => {
    expect(isFlapping(undefined, at(0), { ...policy, changes: 0 })).toBe(false);
  });

  it("can judge the largest allowed threshold from the changes a problem keeps", () => {
    const changes = Array.from({ length: MAX_RECORDED_CHANGES }, (_, i) => iso(i / 10));
    expect(isFlapping(changes, at((MAX_RECORDED_CHANGES - 1) / 10), { ...policy, changes: 20 })).toBe(true);
    expect(MAX_RECORDED_CHANGES).toBeGreaterThan(20);
  });
});

describe("holdUntil", () => {
  it("is `stableFor` after the resolve", () => {
    expect(holdUntil(at(10), policy).toISOString()).toBe(iso(15));
    expect(holdUntil(at(10), { ...policy, stableMs: 90_000 }).toISOString()).toBe(iso(11.5));
  });

  it("returns a new date and leaves the resolve time alone", () => {
    const resolvedAt = at(10);
    const until = holdUntil(resolvedAt, policy);
    expect(until).not.toBe(resolvedAt);
    expect(resolvedAt.toISOString()).toBe(iso(10));
  });
});
