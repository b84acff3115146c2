/**
 * The console line for an alert a suppression window held back: without it a held alert is
 * silent, and "did my window work?" needs the CLI. One line per suppressed arrival, in the
 * delivery lines' layout, naming the window.
 */
import type { NormalizedAlert } from "../alert/schema.ts";
import { printable } from "../cli/format.ts";
import type { Router } from "../router/router.ts";

export function describeSuppressed(alert: NormalizedAlert, windowId: string, at: Date = new Date()): string {
  const time = at.toISOString().slice(11, 19);
  return printable(
    `${time}  SUPPRESSED  ${alert.severity.padEnd(8)}  ${alert.summary}  [dedup ${alert.dedupKey}, window ${windowId}]  → held, not sent`,
  );
}

/** Prints each suppressed outcome of handleAlert; every outcome is passed on untouched. */
export function withSuppressionLog<R extends Pick<Router, "handleAlert">>(
  router: R,
  print: (line: string) => void,
  now: () => Date = () => new Date(),
): R {
  return {
    ...router,
    async handleAlert(alert, deadline) {
      const outcome = await router.handleAlert(alert, deadline);
      if (outcome.outcome === "suppressed") print(describeSuppressed(alert, outcome.windowId, now()));
      return outcome;
    },
  };
}
