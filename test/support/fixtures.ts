/** Loads each registered adapter's fixtures: `lib/adapters/<name>/fixtures/<problem>.<variant>.json`. */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const ADAPTERS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "lib", "adapters");
/** The fixed arrival time used for every fixture, so expected outputs are reproducible. */
export const FIXTURE_RECEIVED_AT = "2026-11-26T18:00:00.000Z";

export interface Fixture {
  adapter: string;
  file: string;
  /** Text before the first dot: fixtures of one problem share it (firing and resolved must share a dedupKey). */
  problem: string;
  payload: unknown;
  expectedPath: string;
  expected: unknown;
}

export function loadFixtures(adapter: string): Fixture[] {
  const dir = join(ADAPTERS_DIR, adapter, "fixtures");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(".json") && !file.endsWith(".expected.json"))
    .sort()
    .map((file) => {
      const expectedPath = join(dir, file.replace(/\.json$/, ".expected.json"));
      return {
        adapter,
        file,
        problem: file.split(".")[0] ?? file,
        payload: JSON.parse(readFileSync(join(dir, file), "utf8")) as unknown,
        expectedPath,
        expected: existsSync(expectedPath) ? (JSON.parse(readFileSync(expectedPath, "utf8")) as unknown) : undefined,
      };
    });
}
