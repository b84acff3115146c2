/**
 * docs/architecture.md draws lib/'s folders as layers; this keeps the drawing true to the code:
 * every folder is in exactly one layer, and every import between folders goes down the layers.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");
const lib = path.join(root, "lib");
/** The one import inside a layer that the document names: the local stack uses the CLI's formatting. */
const SAME_LAYER_ALLOWED = new Set(["local -> cli"]);

function layersFromDiagram(): string[][] {
  const doc = readFileSync(path.join(root, "docs/architecture.md"), "utf8");
  const diagram = /```mermaid\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!diagram) throw new Error("docs/architecture.md has no mermaid diagram");
  const layers: string[][] = [];
  let current: string[] | undefined;
  for (const line of diagram.split("\n").map((l) => l.trim())) {
    if (line.startsWith("subgraph ")) layers.push((current = []));
    else if (line === "end") current = undefined;
    else if (current && /^[a-z-]+$/.test(line)) current.push(line);
  }
  return layers.filter((layer) => layer.length > 0);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "fixtures" ? [] : sourceFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [full] : [];
  });
}

function folderImports(): Set<string> {
  const edges = new Set<string>();
  for (const file of sourceFiles(lib)) {
    const from = path.relative(lib, file).split(path.sep)[0]!;
    for (const match of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = path.relative(lib, path.resolve(path.dirname(file), match[1]!));
      if (target.startsWith("..")) continue;
      const to = target.split(path.sep)[0]!;
      if (to !== from) edges.add(`${from} -> ${to}`);
    }
  }
  return edges;
}

describe("docs/architecture.md", () => {
  const layers = layersFromDiagram();
  const rank = new Map(layers.flatMap((layer, i) => layer.map((folder) => [folder, i] as const)));

  it("draws every folder of lib/ in exactly one layer", () => {
    const folders = readdirSync(lib, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const drawn = layers.flat();
    expect(new Set(drawn).size, "a folder drawn in two layers").toBe(drawn.length);
    expect([...drawn].sort()).toEqual([...folders].sort());
  });

  it("has every import between folders go down the layers", () => {
    const edges = [...folderImports()];
    expect(edges.length).toBeGreaterThan(20);
    const upOrSideways = edges.filter((edge) => {
      const [from, to] = edge.split(" -> ") as [string, string];
      const [a, b] = [rank.get(from), rank.get(to)];
      return a === undefined || b === undefined || b < a || (a === b && !SAME_LAYER_ALLOWED.has(edge));
    });
    expect(upOrSideways).toEqual([]);
  });
});
