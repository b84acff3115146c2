/** The sweep's loop over watched problems: bounded concurrency, every key once, failures contained, the deadline kept. */
import { describe, expect, it } from "vitest";
import { sweepWatched } from "../../../lib/router/sweep.ts";
import type { RouteOutcome } from "../../../lib/router/router.ts";

const storeOf = (keys: readonly string[]) => ({
  async *watched() {
    for (const key of keys) yield key;
  },
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("sweepWatched", () => {
  it("reconciles every watched key once, at most `concurrency` at a time, and counts the outcomes", async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const seen: string[] = [];
    let running = 0;
    let most = 0;
    const outcomes: Record<number, RouteOutcome> = {
      0: { outcome: "delivered", actions: ["trigger"], recorded: "repeat" },
      1: { outcome: "suppressed", windowId: "w" },
      2: { outcome: "held", until: "2026-11-27T03:00:00Z", why: "flapping" },
      3: { outcome: "retry", reason: "PagerDuty 503" },
    };
    const router = {
      async reconcileKey(dedupKey: string) {
        seen.push(dedupKey);
        running += 1;
        most = Math.max(most, running);
        await tick();
        running -= 1;
        if (dedupKey === "k7") throw new Error("item unreadable");
        return (
          outcomes[Number(dedupKey.slice(1)) % 5] ?? { outcome: "deduplicated" as const, why: "nothing to do", recorded: "repeat" as const }
        );
      },
    };
    const report = await sweepWatched(storeOf(keys), router, Date.now() + 10_000, Date.now, 4);
    expect(seen.sort()).toEqual([...keys].sort());
    expect(most).toBe(4);
    expect(report).toMatchObject({ checked: 40, delivered: 8, stillSuppressed: 8, stillHeld: 7, unfinished: false });
    expect(report.failed).toContainEqual({ dedupKey: "k7", reason: "item unreadable" });
    expect(report.failed.filter((failure) => failure.reason === "PagerDuty 503")).toHaveLength(8);
  });

  it("stops taking keys at the deadline and says the run is unfinished", async () => {
    let clock = 0;
    const router = {
      async reconcileKey() {
        clock += 10;
        return undefined;
      },
    };
    const report = await sweepWatched(storeOf(Array.from({ length: 100 }, (_, i) => `k${i}`)), router, 50, () => clock, 2);
    expect(report.unfinished).toBe(true);
    expect(report.checked).toBeLessThan(100);
    expect(report.checked).toBeGreaterThanOrEqual(5);
  });
});
