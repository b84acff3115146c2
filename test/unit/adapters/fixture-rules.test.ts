/** The contract test's fixture rules say what to do next when they fail, not only what number was expected. */
import { describe, expect, it } from "vitest";
import { MIN_FIXTURES, fixtureSetProblems } from "../../support/fixtures.ts";

const fixture = (file: string, expected: unknown = { alerts: [] }) => ({ file, expected });

describe("fixtureSetProblems", () => {
  it("passes a full set", () => {
    expect(
      fixtureSetProblems(
        "grafana",
        Array.from({ length: MIN_FIXTURES }, (_, index) => fixture(`p${index}.firing.json`)),
      ),
    ).toEqual([]);
  });

  it("says how many fixtures are missing, how to name them and which command writes the expected outputs", () => {
    const [problem] = fixtureSetProblems("grafana", [
      fixture("cpu.firing.json"),
      fixture("cpu.resolved.json"),
      fixture("test.notification.json"),
    ]);
    expect(problem).toContain("lib/adapters/grafana/fixtures/ has 3 fixtures; the contract test needs at least 6");
    expect(problem).toContain("Add 3 more real payloads named <problem>.<variant>.json");
    expect(problem).toContain("npm run fixtures:update grafana");
    expect(problem).toContain("docs/adding-an-adapter.md");
  });

  it("names the fixtures without an expected output and the command that writes them", () => {
    const set = [
      ...Array.from({ length: MIN_FIXTURES - 1 }, (_, index) => fixture(`p${index}.firing.json`)),
      { file: "cpu.resolved.json", expected: undefined },
    ];
    expect(fixtureSetProblems("grafana", set)).toEqual([
      "cpu.resolved.json in lib/adapters/grafana/fixtures/ has no .expected.json: run npm run " +
        "fixtures:update grafana, then read git diff lib/adapters/grafana/fixtures/",
    ]);
  });
});
