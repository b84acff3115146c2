/**
 * What a cold start loads (issue 15). The figures are the bench's (`npm run bench bundles`);
 * these check the two properties they rest on: an entry does not load at import what only some
 * invocations need, and a bundle carries the SDK clients it uses (so it loads with no
 * node_modules beside it) within the size budget.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { bundleLoadEnv } from "../support/bundle-env.ts";
import { BUNDLE_ENTRY, FUNCTION_ENTRIES, PROJECT_ROOT, esbuildOptions, type FunctionKind } from "../../infra/bundling.ts";

const NODE = join(PROJECT_ROOT, "node_modules", ".bin", "node");
const KINDS = Object.keys(FUNCTION_ENTRIES) as FunctionKind[];
const SIZE_BUDGET_BYTES = 500 * 1024;

/** Enough for every entry's start-up code to succeed without AWS (nothing is called at import). */
const ENV = { PATH: process.env.PATH ?? "", ...bundleLoadEnv("cloudwatch") };

/** Imports a module and prints every URL resolved on the way (Node's synchronous module hooks). */
const RECORD_IMPORTS = `
import { registerHooks } from "node:module";
const seen = [];
registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); seen.push(result.url); return result; } });
const module = await import(process.argv[1]);
console.log(JSON.stringify({ handler: typeof module.handler, seen }));
`;

/** The router and the sweep send to SQS only to delay or dead-letter a message; the adapters publish on every request. */
const LOADS_SQS_AT_ONCE: Record<FunctionKind, boolean> = { adapter: true, "pagerduty-events": true, router: false, sweep: false };

/** Imports `url` in a fresh Node from `cwd`; its handler's type and every URL resolved on the way. */
function importRecorded(url: string, cwd: string): { handler: string; seen: string[] } {
  const child = spawnSync(NODE, ["--disable-warning=ExperimentalWarning", "--input-type=module", "-e", RECORD_IMPORTS, url], {
    cwd,
    env: ENV,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(child.stderr).toBe("");
  return JSON.parse(child.stdout) as { handler: string; seen: string[] };
}

describe("cold start: what an entry loads at import", () => {
  it.each(KINDS)(
    "%s loads neither Secrets Manager, Powertools parameters nor CloudFormation (nor SQS, if it rarely sends) until one is needed",
    (kind) => {
      const { handler, seen } = importRecorded(pathToFileURL(FUNCTION_ENTRIES[kind]).href, PROJECT_ROOT);
      expect(handler).toBe("function");
      // Sanity: the recorder sees the SDK clients the entry does need at once.
      expect(seen.some((url) => url.includes("/@aws-sdk/client-sqs/") || url.includes("/@aws-sdk/client-dynamodb/"))).toBe(true);
      // Powertools' error classes (one small file, no imports) are what `instanceof` checks need at once.
      const lazy = seen.filter((url) =>
        /\/@aws-sdk\/client-(secrets-manager|cloudformation)\/|\/@aws-lambda-powertools\/parameters\/(?!lib\/esm\/errors\.js$)/.test(url),
      );
      expect(lazy).toEqual([]);
      expect(seen.some((url) => url.includes("/@aws-sdk/client-sqs/"))).toBe(LOADS_SQS_AT_ONCE[kind]);
    },
    60_000,
  );
});

describe("cold start: the deployed bundles", () => {
  // Outside the project: nothing resolves from node_modules, as in a Lambda without the runtime's SDK.
  const outdir = mkdtempSync(join(tmpdir(), "alert-relay-cold-load-"));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it.each(KINDS)(
    "%s carries its SDK clients, loads with no node_modules beside it, stays within 500 KB, and reads no chunk it imports on first use",
    async (kind) => {
      const dir = join(outdir, kind);
      await build({ ...esbuildOptions(kind, dir), logLevel: "error" });
      const files = readdirSync(dir).filter((name) => name.endsWith(".mjs"));
      expect(files.reduce((bytes, name) => bytes + statSync(join(dir, name)).size, 0)).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
      const { handler, seen } = importRecorded(pathToFileURL(join(dir, BUNDLE_ENTRY)).href, outdir);
      expect(handler).toBe("function");
      const loaded = seen.filter((url) => url.startsWith(pathToFileURL(dir).href)).map((url) => basename(url));
      // Chunks are named after the module an import() reaches first (lib/platform/lazy-*.ts).
      const onFirstUse = files.filter((name) => /^(secrets|sqs-on-demand-exports)-/.test(name));
      expect(onFirstUse.length).toBe(LOADS_SQS_AT_ONCE[kind] ? 1 : 2);
      expect(loaded.length).toBeGreaterThan(0);
      expect(loaded.filter((name) => onFirstUse.includes(name))).toEqual([]);
      // And each of them loads when its import() comes, with no node_modules beside it either.
      const later = spawnSync(
        NODE,
        [
          "--input-type=module",
          "-e",
          "for (const url of process.argv.slice(1)) await import(url);",
          ...onFirstUse.map((name) => pathToFileURL(join(dir, name)).href),
        ],
        { cwd: outdir, env: ENV, encoding: "utf8", timeout: 60_000 },
      );
      expect(later.stderr).toBe("");
      expect(later.status).toBe(0);
    },
    60_000,
  );
});
