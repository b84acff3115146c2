import { describe, expect, it } from "vitest";
import type { SweepReport } from "../../../lib/router/sweep.ts";
import { startSweepTimer } from "../../../lib/local/sweep-timer.ts";
import { waitFor } from "../../support/wait-for.ts";

const report = (checked: number): SweepReport => ({
  checked,
  delivered: 0,
  recovered: 0,
  stillSuppressed: 0,
  stillHeld: 0,
  failed: [],
  unfinished: false,
});

describe("sweep timer", () => {
  it("runs the handler every interval after the previous run, never two at once, and stop() waits for a run", async () => {
    let running = 0;
    let overlapped = false;
    const remaining: number[] = [];
    const timer = startSweepTimer({
      intervalMs: 10,
      timeoutMs: 5_000,
      handler: async (_event, context) => {
        overlapped ||= running > 0;
        running += 1;
        remaining.push(context.getRemainingTimeInMillis());
        await new Promise((resolve) => setTimeout(resolve, 30));
        running -= 1;
        return report(remaining.length);
      },
    });
    await waitFor(() => timer.status().runs >= 3, 2_000, "three sweeps");
    expect(await timer.runNow()).toEqual(report(remaining.length));
    await timer.stop();
    expect(running).toBe(0);
    expect(overlapped).toBe(false);
    expect(Math.max(...remaining)).toBeLessThanOrEqual(5_000);
    const runs = timer.status().runs;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(timer.status()).toMatchObject({ running: false, runs, intervalMs: 10 });
  });

  it("keeps going after a failed sweep and reports the error", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const timer = startSweepTimer({
      intervalMs: 5,
      timeoutMs: 1_000,
      onError: (error) => errors.push(error),
      handler: async () => {
        calls += 1;
        if (calls === 1) throw new Error("table unreachable");
        return report(0);
      },
    });
    await waitFor(() => calls >= 2, 2_000, "a second sweep");
    await timer.stop();
    expect(errors).toEqual([new Error("table unreachable")]);
    expect(timer.status().lastReport).toEqual(report(0));
    expect(timer.status().lastError).toBeUndefined();
  });
});
