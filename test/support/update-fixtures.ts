/**
 * Writes `<fixture>.expected.json` for each fixture from the adapter's current output.
 * Run after an intended mapping change, then READ the diff: the expected files are the review.
 *   npm run fixtures:update [adapter...]
 */
import { writeFileSync } from "node:fs";
import { adapters } from "../../lib/adapters/registry.ts";
import { FIXTURE_RECEIVED_AT, loadFixtures } from "./fixtures.ts";

const only = process.argv.slice(2);
for (const adapter of adapters) {
  if (only.length > 0 && !only.includes(adapter.name)) continue;
  const config = adapter.config({});
  for (const fixture of loadFixtures(adapter.name)) {
    const result = adapter.normalize(fixture.payload, { receivedAt: FIXTURE_RECEIVED_AT, config });
    const expected = result.ok
      ? { alerts: result.alerts, ...(result.notice ? { notice: result.notice } : {}) }
      : { rejection: result.rejection };
    writeFileSync(fixture.expectedPath, `${JSON.stringify(expected, null, 2)}\n`);
    console.log(`${adapter.name}/${fixture.file}: ${result.ok ? `${result.alerts.length} alert(s)` : `rejected (${result.rejection.message})`}`);
  }
}
