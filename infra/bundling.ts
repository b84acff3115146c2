/**
 * How every function is bundled, in one place: the stack's NodejsFunctions and `npm run bench`
 * (bench/bundles.ts) build from these, so the sizes the bench reports are the sizes deployed.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** One entry serves every adapter (ADAPTER_NAME picks it); the PagerDuty-compatible ingest has its own. */
export const FUNCTION_ENTRIES = {
  adapter: join(PROJECT_ROOT, "functions", "adapter.ts"),
  "pagerduty-events": join(PROJECT_ROOT, "functions", "pagerduty-events.ts"),
  router: join(PROJECT_ROOT, "functions", "router.ts"),
  sweep: join(PROJECT_ROOT, "functions", "sweep.ts"),
} as const;

export type FunctionKind = keyof typeof FUNCTION_ENTRIES;

export const BUNDLE = {
  target: "node24",
  format: "esm",
  minify: true,
  sourceMap: true,
  // Stack traces need the mappings only; without the sources the map is a third of the size.
  sourcesContent: false,
  // The nodejs24.x runtime ships AWS SDK v3. Bundling it would take every function from ~180 KB
  // to 650-800 KB and slow cold starts; the price is running the runtime's SDK version.
  externalModules: ["@aws-sdk/*"],
  // Dual packages: prefer their ES module build, which tree-shakes.
  mainFields: ["module", "main"],
} as const;

/** Stack traces in the logs point at the TypeScript sources. */
export const NODE_OPTIONS = "--enable-source-maps";
