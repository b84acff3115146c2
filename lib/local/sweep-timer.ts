/**
 * Runs the sweep handler on a schedule, like the EventBridge rule in AWS: every `intervalMs`
 * after the previous run ended, never two at once, with a Lambda-like context.
 */
import type { Context } from "aws-lambda";
import type { SweepRunReport } from "../handlers/sweep.ts";
import { lambdaContext } from "./lambda-context.ts";

export interface SweepTimerOptions {
  handler: (event: unknown, context: Context) => Promise<SweepRunReport>;
  intervalMs: number;
  /** The sweep function's timeout. */
  timeoutMs: number;
  onError?: (error: unknown) => void;
}

export interface SweepTimerStatus {
  running: boolean;
  intervalMs: number;
  runs: number;
  lastRunAt?: string;
  lastReport?: SweepRunReport;
  lastError?: string;
}

export interface SweepTimer {
  status(): SweepTimerStatus;
  /** Runs a sweep now (waiting for one in progress first) and returns its report. */
  runNow(): Promise<SweepRunReport | undefined>;
  stop(): Promise<void>;
}

/** What EventBridge's scheduled event looks like to the handler (it reads none of it). */
function scheduledEvent(now: Date) {
  return { "detail-type": "Scheduled Event", source: "aws.events", time: now.toISOString(), detail: {} };
}

export function startSweepTimer(options: SweepTimerOptions): SweepTimer {
  const state: Omit<SweepTimerStatus, "intervalMs"> = { running: true, runs: 0 };
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<SweepRunReport | undefined> = Promise.resolve(undefined);

  async function runOnce(): Promise<SweepRunReport | undefined> {
    const startedAt = new Date();
    try {
      const report = await options.handler(scheduledEvent(startedAt), lambdaContext("alert-relay-sweep-local", options.timeoutMs));
      state.lastReport = report;
      delete state.lastError;
      return report;
    } catch (error) {
      state.lastError = (error as Error)?.message ?? String(error);
      options.onError?.(error);
      return undefined;
    } finally {
      state.runs += 1;
      state.lastRunAt = startedAt.toISOString();
    }
  }

  function schedule(): void {
    if (!state.running) return;
    timer = setTimeout(() => {
      current = runOnce().finally(schedule);
    }, options.intervalMs);
  }

  schedule();

  return {
    status: () => ({ ...state, intervalMs: options.intervalMs }),
    async runNow() {
      // The timer may start a run while we wait for the one in progress; wait until none is.
      for (let seen = current; ; seen = current) {
        await seen;
        if (seen === current) break;
      }
      clearTimeout(timer);
      current = runOnce().finally(schedule);
      return current;
    },
    async stop() {
      state.running = false;
      clearTimeout(timer);
      await current;
    },
  };
}
