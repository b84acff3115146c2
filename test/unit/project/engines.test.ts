/**
 * package.json's `engines` tells people which Node runs alert-relay: it must not admit a Node a
 * runtime dependency refuses (middy 7 needs 22), and must admit the Node the project pins (the
 * `node` dev dependency every npm script runs on, the Lambda runtime).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface LockEntry {
  dev?: boolean;
  version?: string;
  engines?: { node?: string } | string[];
}

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string }; devDependencies: Record<string, string> };
const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, LockEntry> };

/** The lowest major a `>=N…` range admits; undefined for a range of another form (not compared). */
function minimumMajor(range: string): number | undefined {
  const match = /^\s*>=\s*v?(\d+)(?:\.\d+){0,2}\s*$/.exec(range);
  return match ? Number(match[1]) : undefined;
}

describe("engines", () => {
  const ours = minimumMajor(pkg.engines.node);

  it("is a plain >= range", () => {
    expect(ours, `engines.node ${pkg.engines.node}`).toBeDefined();
  });

  it("admits no Node that a runtime dependency refuses", () => {
    const stricter = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== "" && !entry.dev && !Array.isArray(entry.engines) && entry.engines?.node)
      .map(([path, entry]) => ({ path, required: minimumMajor((entry.engines as { node: string }).node) }))
      .filter(({ required }) => required !== undefined && required > ours!);
    expect(stricter, `engines.node ${pkg.engines.node} admits a Node these refuse`).toEqual([]);
  });

  it("admits the pinned Node that npm scripts run on", () => {
    const pinned = lock.packages["node_modules/node"]?.version;
    expect(pinned).toBeDefined();
    expect(Number(pinned!.split(".")[0])).toBeGreaterThanOrEqual(ours!);
  });
});
