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

/** The contract test's floor: enough payloads to cover firing, resolved and what a source sends besides. */
export const MIN_FIXTURES = 6;

/**
 * What is wrong with an adapter's fixture set, each problem saying what to do next (the contract
 * test prints these, so a newcomer following docs/adding-an-adapter.md is never left guessing).
 */
export function fixtureSetProblems(adapter: string, fixtures: readonly Pick<Fixture, "file" | "expected">[]): string[] {
  const dir = `lib/adapters/${adapter}/fixtures/`;
  const problems: string[] = [];
  if (fixtures.length < MIN_FIXTURES) {
    problems.push(
      `${dir} has ${fixtures.length} fixture${fixtures.length === 1 ? "" : "s"}; the contract test needs at least ${MIN_FIXTURES}. ` +
        `Add ${MIN_FIXTURES - fixtures.length} more real payloads named ` +
        `<problem>.<variant>.json — a firing and a resolved payload of one problem ` +
        "(same <problem>), the other states and event kinds the source sends, and one it should reject or ignore — " +
        `then run npm run fixtures:update ${adapter} (see docs/adding-an-adapter.md, step 3)`,
    );
  }
  const unexpected = fixtures.filter((fixture) => fixture.expected === undefined).map((fixture) => fixture.file);
  if (unexpected.length > 0) {
    problems.push(
      `${unexpected.join(", ")} in ${dir} ${unexpected.length === 1 ? "has" : "have"} no ` +
        `.expected.json: run npm run fixtures:update ${adapter}, then read git diff ${dir}`,
    );
  }
  return problems;
}
