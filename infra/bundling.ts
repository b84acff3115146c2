/**
 * How every function is bundled, in one place: the stack's functions and `npm run bench`
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

/** Each function's memory in MB: the stack sets it, `npm run bench cost` prices Lambda time at it. */
export const FUNCTION_MEMORY_MB: Readonly<Record<FunctionKind, number>> = {
  adapter: 256,
  "pagerduty-events": 256,
  router: 512,
  sweep: 256,
};

/**
 * Imported by the SDK's default credential chain only after the environment has no credentials
 * (instance metadata, IMDS, too: ~7 KB of every bundle).
 */
const ON_DEMAND_CREDENTIAL_PROVIDERS = [
  "@smithy/credential-provider-imds",
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-http",
];

/** The SDK kept outside the bundle when the bench compares against the runtime's copy. */
export const RUNTIME_SDK_EXTERNALS = ["@aws-sdk/*"];

export const BUNDLE = {
  target: "node24",
  format: "esm",
  minify: true,
  // Stack traces in the logs point at the TypeScript sources. The map is read when a stack is
  // first formatted (lib/handlers/source-mapped-stacks.ts), not at every cold start as
  // NODE_OPTIONS=--enable-source-maps reads it (a fifth of the load, issue 15).
  sourceMap: true,
  // Stack traces need the mappings only; without the sources the map is a third of the size.
  sourcesContent: false,
  // The SDK clients are bundled (tree-shaken, minified): loading them from one file costs less
  // CPU at a cold start than resolving the runtime's copy file by file (`npm run bench bundles`
  // measures both). Left out are only the credential providers the SDK imports on demand and a
  // Lambda function never reaches (its credentials are in the environment); were one needed, it
  // would come from the runtime's copy. Keeps every bundle under 500 KB.
  externalModules: ON_DEMAND_CREDENTIAL_PROVIDERS,
  // Dual packages: prefer their ES module build, which tree-shakes.
  mainFields: ["module", "main"],
  // What only some invocations need (Secrets Manager, the router's SQS client, the SDK's
  // user-agent and event-stream helpers) goes into chunks of its own beside the entry, read by the
  // import() that needs it: a cold start neither parses nor evaluates them (a fifth of the router's
  // bytes, issue 15). NodejsFunction writes one file, so the stack runs esbuild itself.
  splitting: true,
} as const;

/** The handler's module in a function's bundle directory: Lambda's handler is `index.handler`. */
const ENTRY_NAME = "index";
export const BUNDLE_ENTRY = `${ENTRY_NAME}.mjs`;
export const HANDLER = `${ENTRY_NAME}.handler`;

/**
 * Lambda's own log records at this level and above. WARN leaves out START and REPORT (about 450
 * bytes an invocation, most of a duplicate's log bytes); Lambda's Duration, Errors and Throttles
 * metrics carry the same figures, and the alarms read those (issue 15).
 */
export const SYSTEM_LOG_LEVEL = "WARN";

/**
 * The esbuild options the deployed bundles are built with (the stack's bundling runs exactly
 * these), for the bench and the tests that build a function outside CDK. `outdir` receives
 * BUNDLE_ENTRY, its chunks and their maps. `external` replaces the deployed list, e.g. to compare
 * against the runtime's copy of the SDK.
 */
export function esbuildOptions(kind: FunctionKind, outdir: string, external: readonly string[] = BUNDLE.externalModules) {
  return {
    entryPoints: { [ENTRY_NAME]: FUNCTION_ENTRIES[kind] },
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "[name]-[hash]",
    splitting: BUNDLE.splitting,
    bundle: true,
    platform: "node" as const,
    target: BUNDLE.target,
    format: BUNDLE.format,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourceMap,
    sourcesContent: BUNDLE.sourcesContent,
    external: [...external],
    mainFields: [...BUNDLE.mainFields],
  };
}
