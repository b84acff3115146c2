/**
 * `npm run bench [section...]`: prints figures and ratios against the project's targets.
 * Sections: adapters, router, windows, e2e, bundles, storm, cost, and rss (the local stack's memory
 * around a 20,000-alert run; minutes long, so only when named: `npm run bench rss`). Set BENCH_SECONDS
 * to trade precision for time (default 0.5 s per case).
 */
import { benchAdapters } from "./adapters.ts";
import { benchRouter } from "./router.ts";
import { benchLocalEndToEnd } from "./local-e2e.ts";
import { benchLocalRss } from "./local-rss.ts";
import { benchBundles } from "./bundles.ts";
import { benchStormSections } from "./storm.ts";
import { benchWindows } from "./windows.ts";
import { benchCost } from "./cost.ts";

const seconds = Number(process.env.BENCH_SECONDS ?? 0.5);
const sections: Record<string, () => Promise<string[]> | string[]> = {
  adapters: () => benchAdapters(seconds),
  router: () => benchRouter(),
  windows: () => benchWindows(seconds),
  e2e: () => benchLocalEndToEnd(),
  bundles: () => benchBundles(),
  storm: () => benchStormSections(),
  cost: () => benchCost(),
  rss: () => benchLocalRss(),
};
const ONLY_WHEN_NAMED = new Set(["rss"]);
const wanted = process.argv.slice(2);
console.log(`alert-relay bench — Node ${process.version}, ${process.arch}, one core\n`);
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length > 0 ? !wanted.includes(name) : ONLY_WHEN_NAMED.has(name)) continue;
  for (const line of await run()) console.log(line);
}
