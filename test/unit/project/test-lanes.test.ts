/**
 * One test convention (issue 13): a test's lane is the top folder it lives in under test/, each
 * lane is a vitest project and an npm script, and property tests are named one way.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const LANES = ["unit", "integration", "e2e", "faults", "infra"];
const SOURCE_ROOTS = ["lib", "functions", "infra", "bench", "bin", "test"];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

const testFiles = SOURCE_ROOTS.flatMap(filesUnder).filter((file) => /\.test\.[cm]?[jt]s$/.test(file));

describe("test lanes", () => {
  it("keeps every test file in a lane folder, where its project finds it (none beside the code)", () => {
    expect(testFiles.filter((file) => !LANES.some((lane) => file.startsWith(`test/${lane}/`)))).toEqual([]);
  });

  it("holds only the lanes and their shared helpers at the top of test/", () => {
    const folders = readdirSync("test", { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.sort()).toEqual([...LANES, "support"].sort());
  });

  it("runs each lane alone with npm run test:<lane>", () => {
    const { scripts } = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
    for (const lane of LANES) expect(scripts[`test:${lane}`]).toBe(`vitest run --project ${lane}`);
  });

  it("names property tests <name>.property.test.ts", () => {
    expect(testFiles.filter((file) => /\.propert(ies|y-based)\.test\.|[.-]props?\.test\./.test(file))).toEqual([]);
  });
});
