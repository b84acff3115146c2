/**
 * Writes `<fixture>.expected.json` for each fixture from the adapter's current output.
 * Run after an intended mapping change, then READ the diff: the expected files are the review.
 *   npm run fixtures:update [adapter...]
 */
import { writeFileSync } from "node:fs";
import { adapters } from "../../lib/adapters/registry.ts";
import { FIXTURE_RECEIVED_AT, loadFixtures } from "./fixtures.ts";

const only = process.argv.slice(2);
const unknown = only.filter((name) => !adapters.some((adapter) => adapter.name === name));
if (unknown.length > 0) {
  console.error(
    `no adapter named ${unknown.join(", ")} in lib/adapters/registry.ts (registered: ` +
      `${adapters.map((adapter) => adapter.name).join(", ")}); register it there first`,
  );
  process.exitCode = 1;
}
for (const adapter of adapters) {
  if (only.length > 0 && !only.includes(adapter.name)) continue;
  const config = adapter.config({});
  const fixtures = loadFixtures(adapter.name);
  if (fixtures.length === 0)
    console.error(`${adapter.name}: no fixtures in lib/adapters/${adapter.name}/fixtures/ (add <problem>.<variant>.json payloads there)`);
  for (const fixture of fixtures) {
    const result = adapter.normalize(fixture.payload, { receivedAt: FIXTURE_RECEIVED_AT, config });
    const expected = result.ok
      ? { alerts: result.alerts, ...(result.notice ? { notice: result.notice } : {}) }
      : { rejection: result.rejection };
    writeFileSync(fixture.expectedPath, `${JSON.stringify(expected, null, 2)}\n`);
    console.log(
      `${adapter.name}/${fixture.file}: ${result.ok ? `${result.alerts.length} alert(s)` : `rejected (${result.rejection.message})`}`,
    );
  }
}
