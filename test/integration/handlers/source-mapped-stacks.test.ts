/**
 * A bundle's stack traces point at the TypeScript sources without --enable-source-maps, written as
 * Node writes them with it: the same text, frame for frame (names from the map, async and
 * constructor frames, Node's ERR_ codes), in the entry and in a chunk it imports on first use.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE, PROJECT_ROOT } from "../../../infra/bundling.ts";

const NODE = join(PROJECT_ROOT, "node_modules", ".bin", "node");
const HELPER = join(PROJECT_ROOT, "lib", "handlers", "source-mapped-stacks.ts");

/** Split into a chunk of its own, as the deployed bundles split what they import on first use. */
const LATER = `
export function refuse(reason: string): never {
  throw new Error(\`refused: \${reason}\`);
}
`;

const ENTRY = `
import { installSourceMappedStacks } from ${JSON.stringify(HELPER)};
installSourceMappedStacks();

class Relay {
  constructor(readonly depth: number) {
    if (depth < 0) throw new RangeError("negative depth");
  }
  forward(payload: string): never {
    throw new TypeError(\`cannot forward \${payload}\`);
  }
}

async function deliverLater(payload: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  new Relay(1).forward(payload);
}

const chunk = await import("./later.ts");

function stackOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).stack ?? "";
  }
  return "";
}

const stacks = [
  stackOf(() => new Relay(1).forward("alert")),
  stackOf(() => new Relay(-1)),
  stackOf(() => Buffer.alloc(-1)),
  await deliverLater("later").catch((error: Error) => error.stack),
  stackOf(() => chunk.refuse("in a chunk")),
];
console.log(JSON.stringify(stacks));
`;

describe("source-mapped stacks in a bundle", () => {
  const dir = mkdtempSync(join(tmpdir(), "alert-relay-stacks-"));
  const bundle = join(dir, "index.mjs");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const entry = join(dir, "entry.ts");
    writeFileSync(entry, ENTRY);
    writeFileSync(join(dir, "later.ts"), LATER);
    await build({
      entryPoints: { index: entry },
      outdir: dir,
      outExtension: { ".js": ".mjs" },
      splitting: BUNDLE.splitting,
      bundle: true,
      platform: "node",
      format: BUNDLE.format,
      target: BUNDLE.target,
      minify: BUNDLE.minify,
      sourcemap: BUNDLE.sourceMap,
      sourcesContent: BUNDLE.sourcesContent,
      logLevel: "error",
    });
  });

  const stacks = (nodeArgs: string[]): string[] => {
    const child = spawnSync(NODE, [...nodeArgs, bundle], { cwd: dir, env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" });
    expect(child.stderr).toBe("");
    return JSON.parse(child.stdout) as string[];
  };

  it("points at the TypeScript sources, as Node's --enable-source-maps writes them, without the flag", () => {
    const lazy = stacks([]);
    expect(lazy).toEqual(stacks(["--enable-source-maps"]));
    const [forward, constructor, nodeError, later, inChunk] = lazy;
    // The receiver's type keeps its minified name (Node's --enable-source-maps writes it so too).
    expect(forward).toMatch(
      /^TypeError: cannot forward alert\n {4}at \w+\.forward \(.*entry\.ts:10:11\)\n {4}at run \(.*entry\.ts:31:30\)/,
    );
    expect(constructor).toMatch(/^RangeError: negative depth\n {4}at new \w+ \(.*entry\.ts:7:26\)/);
    expect(nodeError).toMatch(/^RangeError \[ERR_OUT_OF_RANGE\]: /);
    expect(later).toMatch(/\n {4}at \w+ \(.*entry\.ts:16:16\)\n {4}at async <anonymous> \(.*entry\.ts:34:\d+\)/);
    expect(inChunk).toMatch(/^Error: refused: in a chunk\n {4}at [\w.]+ \(.*later\.ts:3:9\)\n {4}at run \(.*entry\.ts:35:\d+\)/);
  });

  it("leaves stacks unmapped when the map is not beside the bundle", () => {
    rmSync(`${bundle}.map`);
    const [forward] = stacks([]);
    expect(forward).toMatch(/^TypeError: cannot forward alert\n {4}at \S+ \(file:\/\/.*index\.mjs:\d+:\d+\)/);
  });
});
