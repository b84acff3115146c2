/**
 * The shared contract every registered adapter must keep; a new adapter is tested by this file
 * with no edit here. Per-adapter behaviour tests live beside each adapter.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { adapters } from "../../../lib/adapters/registry.ts";
import { parseAlert } from "../../../lib/alert/schema.ts";
import { FIXTURE_RECEIVED_AT, MIN_FIXTURES, fixtureSetProblems, loadFixtures } from "../../support/fixtures.ts";

describe.each(adapters.map((adapter) => [adapter.name, adapter] as const))("adapter %s", (_name, adapter) => {
  const fixtures = loadFixtures(adapter.name);
  const config = adapter.config({});
  const run = (payload: unknown) => adapter.normalize(payload, { receivedAt: FIXTURE_RECEIVED_AT, config });

  it(`has a valid name and at least ${MIN_FIXTURES} fixtures, each with an expected output`, () => {
    expect(adapter.name, "an adapter name is 2-40 lower-case letters, digits and dashes, starting with a letter").toMatch(
      /^[a-z][a-z0-9-]{1,39}$/,
    );
    expect(fixtureSetProblems(adapter.name, fixtures)).toEqual([]);
  });

  it.each(fixtures.map((f) => [f.file, f] as const))("fixture %s normalizes to its expected, schema-valid output", (_file, fixture) => {
    const result = run(fixture.payload);
    const actual = result.ok
      ? { alerts: result.alerts, ...(result.notice ? { notice: result.notice } : {}) }
      : { rejection: result.rejection };
    expect(actual).toEqual(fixture.expected);
    if (result.ok) {
      for (const alert of result.alerts) {
        expect(() => parseAlert(alert)).not.toThrow();
        expect(alert.source).toBe(adapter.name);
      }
    }
  });

  it("keeps one dedupKey for a problem from firing to resolved", () => {
    const byProblem = new Map<string, { firing: Set<string>; resolved: Set<string> }>();
    for (const fixture of fixtures) {
      const result = run(fixture.payload);
      if (!result.ok) continue;
      const entry = byProblem.get(fixture.problem) ?? { firing: new Set(), resolved: new Set() };
      for (const alert of result.alerts) entry[alert.status].add(alert.dedupKey);
      byProblem.set(fixture.problem, entry);
    }
    const pairs = [...byProblem.entries()].filter(([, e]) => e.firing.size > 0 && e.resolved.size > 0);
    expect(
      pairs.length,
      `no problem has both a firing and a resolved fixture: add e.g. lib/adapters/${adapter.name}/fixtures/<problem>.firing.json ` +
        `and <problem>.resolved.json (same <problem> before the first dot)`,
    ).toBeGreaterThan(0);
    for (const [problem, { firing, resolved }] of pairs) {
      for (const key of resolved) {
        expect(
          firing.has(key),
          `${problem}: the resolved alert's dedupKey ${key} differs from the firing one's; build identity from ` +
            `what stays the same from firing to resolved (docs/adding-an-adapter.md, "Identity")`,
        ).toBe(true);
      }
    }
  });

  it("gives a typed rejection, never an exception, for arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = run(value);
        if (result.ok) for (const alert of result.alerts) parseAlert(alert);
        else expect(["wrong_shape", "unsupported_event"]).toContain(result.rejection.code);
      }),
      { numRuns: 300 },
    );
  });

  it("gives a typed rejection, never an exception, for mutated fixtures", () => {
    const payloads = fixtures.map((f) => f.payload).filter((p) => p !== null && typeof p === "object");
    if (payloads.length === 0) return;
    fc.assert(
      fc.property(
        fc.constantFrom(...payloads),
        fc.array(fc.tuple(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 }),
        (payload, edits) => {
          const mutated = mutate(structuredClone(payload), edits);
          const result = run(mutated);
          if (result.ok) for (const alert of result.alerts) parseAlert(alert);
          else expect(result.rejection.message.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Replaces values at pseudo-random places in a payload, keeping most of its valid structure. */
function mutate(value: unknown, edits: readonly (readonly [string, unknown])[]): unknown {
  for (const [seed, replacement] of edits) {
    let node: unknown = value;
    for (let depth = 0; depth < 6; depth += 1) {
      if (node === null || typeof node !== "object") break;
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[(seed.charCodeAt(depth % Math.max(seed.length, 1)) || depth) % keys.length]!;
      const child = (node as Record<string, unknown>)[key];
      if (depth === seed.length % 4 || child === null || typeof child !== "object") {
        (node as Record<string, unknown>)[key] = replacement;
        break;
      }
      node = child;
    }
  }
  return value;
}
