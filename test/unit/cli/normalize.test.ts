/** `normalize <source> <file>`: indented JSON for a person at a terminal, one alert per line for a pipe. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCaptured } from "../../support/cli-run.ts";

const FILE = "lib/adapters/prometheus/fixtures/high-latency.firing.json";
const files = { [FILE]: readFileSync(FILE, "utf8") };

describe("alert-relay normalize", () => {
  it("pretty-prints each alert on a terminal", async () => {
    const run = await runCaptured(["normalize", "prometheus", FILE], { files, tty: true });
    expect(run.code).toBe(0);
    expect(run.out.split("\n").length).toBeGreaterThan(10);
    expect(run.out).toMatch(/^\{\n {2}"/);
    expect(JSON.parse(run.out)).toMatchObject({ source: "prometheus", status: "firing" });
  });

  it("prints one JSON line per alert when the output is a pipe", async () => {
    const run = await runCaptured(["normalize", "prometheus", FILE], { files, tty: false });
    expect(run.code).toBe(0);
    const lines = run.out.split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ source: "prometheus" });
  });
});
