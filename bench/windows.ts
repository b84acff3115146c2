/**
 * The per-alert cost of suppression windows in the router: matching an alert against every
 * window in the table, plain windows vs recurring ones (whose occurrence needs the time zone's
 * wall clock through Intl). Reported as µs per alert and the ratio to plain windows.
 */
import { findSuppressingWindow } from "../lib/suppression/suppress.ts";
import { parseWindowItem, type SuppressionWindow } from "../lib/suppression/window-item.ts";
import { alertAt } from "../test/support/alerts.ts";
import { fmt, measure, table } from "./harness.ts";

const ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"];

function windows(count: number, recurring: boolean, matchingAll: boolean): SuppressionWindow[] {
  return Array.from({ length: count }, (_, n) => {
    const parsed = parseWindowItem({
      id: `w-${n}`,
      enabled: true,
      matchers: matchingAll ? ["env=prod"] : [`service=svc-${n}`, "env=prod"],
      ...(recurring
        ? { schedule: { days: ["sat", "sun"], start: "02:00", end: "04:00", timeZone: ZONES[n % ZONES.length] } }
        : { startsAt: "2026-11-28T01:00:00Z", endsAt: "2026-11-28T03:00:00Z" }),
      reason: "bench",
      createdBy: "bench@example.com",
    });
    if (!parsed.ok) throw new Error(parsed.problems.join("; "));
    return parsed.window;
  });
}

export function benchWindows(seconds: number): string[] {
  const alerts = Array.from({ length: 64 }, (_, n) =>
    alertAt(`bench-${n}`, "firing", n, { labels: { service: `other-${n}`, env: "prod" } }),
  );
  const now = new Date("2026-11-27T12:00:00Z");
  let i = 0;
  const perAlert = (list: readonly SuppressionWindow[]) =>
    1e6 / measure(() => void findSuppressingWindow(list, alerts[(i += 1) % alerts.length]!, now), seconds).perSecond;
  const cases = [
    ["plain, none matching", windows(20, false, false)],
    ["recurring, none matching", windows(20, true, false)],
    ["plain, all matching", windows(20, false, true)],
    ["recurring, all matching", windows(20, true, true)],
  ] as const;
  for (const [, list] of cases) perAlert(list); // warm every path before timing any
  const costs = cases.map(([name, list]) => [name, perAlert(list)] as const);
  const plain = costs[0]![1];
  const rows: string[][] = [
    ["20 windows in the table", "µs per alert", "÷ plain, none matching"],
    ...costs.map(([name, cost]) => [name, fmt(cost, 2), fmt(cost / plain, 1)]),
  ];
  return ["## Suppression windows (per alert, one core)", "", table(rows), ""];
}
