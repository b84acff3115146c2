/**
 * Deployed bundles: each function's size (minified, as the stack bundles it: infra/bundling.ts)
 * and its cold module-load time — a fresh Node process importing the bundle with the function's
 * environment, median of several runs. AWS SDK v3 is external (the nodejs24.x runtime provides
 * it), so the load time includes resolving it from node_modules, as Lambda does from the runtime.
 * Targets (issue 5): ≤ 250 KB and ≤ 150 ms per function. A bundle over its size target is
 * explained from esbuild's metafile (largest packages).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Metafile } from "esbuild";
import { adapters } from "../lib/adapters/registry.ts";
import { BUNDLE, FUNCTION_ENTRIES, NODE_OPTIONS, PROJECT_ROOT, type FunctionKind } from "../infra/bundling.ts";
import { fmt, table, verdict } from "./harness.ts";

const SIZE_TARGET_KB = 250;
const LOAD_TARGET_MS = 150;
const RUNS = 7;
/** Inside the project, so the external `@aws-sdk/*` imports resolve from node_modules. */
const OUT_DIR = join(PROJECT_ROOT, "node_modules", ".cache", "alert-relay-bench", "bundles");
const NODE = join(PROJECT_ROOT, "node_modules", ".bin", "node");

/** Enough environment for each entry's module-level setup to succeed; nothing is called over the network at import. */
const BASE_ENV = {
  AWS_REGION: "us-east-1",
  POWERTOOLS_LOG_LEVEL: "SILENT",
  POWERTOOLS_METRICS_DISABLED: "true",
  NODE_OPTIONS,
};
const ROUTER_ENV = {
  STATE_TABLE_NAME: "bench-state",
  WINDOWS_TABLE_NAME: "bench-windows",
  DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq",
  ROUTING_KEYS_SECRET_PREFIX: "alert-relay/bench/routing-keys",
};

interface Bundle {
  file: string;
  bytes: number;
  metafile: Metafile;
}

async function bundle(kind: FunctionKind): Promise<Bundle> {
  const file = join(OUT_DIR, kind, "index.mjs");
  const result = await build({
    entryPoints: [FUNCTION_ENTRIES[kind]],
    outfile: file,
    bundle: true,
    platform: "node",
    target: BUNDLE.target,
    format: BUNDLE.format,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourceMap,
    sourcesContent: BUNDLE.sourcesContent,
    external: [...BUNDLE.externalModules],
    mainFields: [...BUNDLE.mainFields],
    metafile: true,
    logLevel: "warning",
  });
  return { file, bytes: statSync(file).size, metafile: result.metafile };
}

const IMPORT_SCRIPT = `
const start = performance.now();
for (const specifier of process.argv.slice(1)) await import(specifier);
console.log("IMPORT_MS=" + (performance.now() - start));
`;

/** Median import time over fresh processes; throws with the child's output when something does not load. */
function loadTimeMs(specifiers: readonly string[], env: Record<string, string>): number {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const child = spawnSync(NODE, ["--enable-source-maps", "--input-type=module", "-e", IMPORT_SCRIPT, ...specifiers], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? "", ...BASE_ENV, ...env },
      encoding: "utf8",
      timeout: 30_000,
    });
    const match = /IMPORT_MS=([\d.]+)/.exec(child.stdout ?? "");
    if (child.status !== 0 || !match) throw new Error(`${specifiers.join(" ")} did not load:\n${child.stderr || child.stdout}`);
    times.push(Number(match[1]));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** The runtime-provided packages a bundle imports; loading them is part of its cold start but not of its size. */
function externalPackages(metafile: Metafile): string[] {
  const imports = Object.values(metafile.outputs).flatMap((output) => output.imports);
  return [...new Set(imports.filter((entry) => entry.external && !entry.path.startsWith("node:")).map((entry) => entry.path))].sort();
}

/** The largest packages (or project folders) in a bundle, for a size MISS. */
function largestParts(metafile: Metafile, count = 5): string {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint !== undefined);
  const byPart = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split("/").slice(0, 2).join("/");
    byPart.set(pkg, (byPart.get(pkg) ?? 0) + bytesInOutput);
  }
  return [...byPart]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([part, bytes]) => `${part} ${fmt(bytes / 1024, 1)} KB`)
    .join(", ");
}

export async function benchBundles(): Promise<string[]> {
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const bundles = new Map<FunctionKind, Bundle>();
  for (const kind of Object.keys(FUNCTION_ENTRIES) as FunctionKind[]) bundles.set(kind, await bundle(kind));

  // One row per deployed function: every adapter shares one bundle but starts with its own ADAPTER_NAME.
  const ingestEnv = { ALERTS_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/bench", WEBHOOK_TOKEN_SECRET: "bench-token" };
  const functions: { name: string; kind: FunctionKind; env: Record<string, string> }[] = [
    ...adapters.map((adapter) => ({ name: `adapter ${adapter.name}`, kind: "adapter" as const, env: { ADAPTER_NAME: adapter.name, ...ingestEnv } })),
    { name: "pagerduty-events", kind: "pagerduty-events", env: ingestEnv },
    { name: "router", kind: "router", env: ROUTER_ENV },
    { name: "sweep", kind: "sweep", env: ROUTER_ENV },
  ];
  const rows: string[][] = [
    ["function", "bundle KB (minified)", `≤ ${SIZE_TARGET_KB} KB`, `module load ms (median of ${RUNS})`, `≤ ${LOAD_TARGET_MS} ms`, "of which AWS SDK alone ms"],
  ];
  const sdkMs = new Map<FunctionKind, number>();
  for (const [kind, { metafile }] of bundles) sdkMs.set(kind, loadTimeMs(externalPackages(metafile), {}));
  const misses: string[] = [];
  for (const fn of functions) {
    const { file, bytes, metafile } = bundles.get(fn.kind)!;
    const kb = bytes / 1024;
    const ms = loadTimeMs([pathToFileURL(file).href], fn.env);
    rows.push([fn.name, fmt(kb, 1), verdict(kb <= SIZE_TARGET_KB), fmt(ms, 1), verdict(ms <= LOAD_TARGET_MS), fmt(sdkMs.get(fn.kind)!, 1)]);
    if (kb > SIZE_TARGET_KB && fn.kind !== "adapter") misses.push(`  ${fn.kind}: ${largestParts(metafile)}`);
  }
  const adapterBundle = bundles.get("adapter")!;
  if (adapterBundle.bytes / 1024 > SIZE_TARGET_KB) misses.unshift(`  adapter: ${largestParts(adapterBundle.metafile)}`);
  const lines = [
    `Bundles: esbuild ${BUNDLE.format}, ${BUNDLE.target}, minified, source maps, ${BUNDLE.externalModules.join(" ")} external (provided by the Lambda runtime)`,
    table(rows),
    "",
  ];
  if (misses.length > 0) lines.push("Largest parts of the bundles over target (esbuild metafile):", ...misses, "");
  return lines;
}
