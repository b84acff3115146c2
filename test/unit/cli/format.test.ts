import { describe, expect, it } from "vitest";
import { formatDuration, localTime, parseDuration, relative, table } from "../../../lib/cli/format.ts";
import { defaultWindowId } from "../../../lib/cli/commands/suppress-add.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("durations", () => {
  it.each([
    ["30m", 30 * MINUTE],
    ["2h", 2 * HOUR],
    ["1d", 24 * HOUR],
    ["1h30m", 90 * MINUTE],
    ["90s", 90_000],
    ["1H30M", 90 * MINUTE],
  ])("reads %s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "0m", "2", "2 hours", "1.5h", "-1h", "30m1h"])("refuses %j", (text) => expect(parseDuration(text)).toBeUndefined());

  it.each([
    [0, "0s"],
    [45_000, "45s"],
    [80 * MINUTE, "1h 20m"],
    [119 * MINUTE + 59_000, "1h 59m"],
    [2 * HOUR + 30_000, "2h"],
    [(24 * 3 + 4) * HOUR + 7 * MINUTE, "3d 4h"],
  ])("writes %d ms as %s", (ms, text) => expect(formatDuration(ms)).toBe(text));

  it("says times relative to now, both ways", () => {
    const now = new Date("2026-11-26T18:00:00Z");
    expect(relative(new Date("2026-11-26T19:20:00Z"), now)).toBe("in 1h 20m");
    expect(relative(new Date("2026-11-26T15:00:00Z"), now)).toBe("3h ago");
    expect(relative(new Date("2026-11-26T18:00:00.400Z"), now)).toBe("now");
  });

  it("writes a local time in the zone asked for", () => {
    expect(localTime(new Date("2026-11-27T03:00:00Z"), "Europe/Berlin")).toBe("2026-11-27 04:00 GMT+1");
  });
});

describe("table", () => {
  it("aligns columns, cuts long cells, leaves no trailing spaces and neutralises control characters", () => {
    const lines = table(
      ["ID", "REASON", "BY"],
      [
        ["a", "short", ""],
        ["longer-id", "x".repeat(30), "ops\u001b[31m"],
      ],
      { maxWidths: { REASON: 10 } },
    );
    expect(lines).toEqual(["ID         REASON      BY", "a          short", `longer-id  ${"x".repeat(9)}…  ops [31m`]);
  });
});

describe("default window ids", () => {
  it("read the required values plus a random suffix", () => {
    expect(defaultWindowId(["service=checkout", "env=~prod|staging", "alertname!=Watchdog"])).toMatch(
      /^checkout-prod-staging-[0-9a-f]{4}$/,
    );
    expect(defaultWindowId(['team="Data Platform"'])).toMatch(/^data-platform-[0-9a-f]{4}$/);
    expect(defaultWindowId(["alertname!~Watch.*"])).toMatch(/^window-[0-9a-f]{4}$/);
    expect(new Set(Array.from({ length: 5 }, () => defaultWindowId(["a=b"]))).size).toBeGreaterThan(1);
  });
});
