import { describe, expect, it } from "vitest";
import { createMalformedWindowLog, describeMalformedWindow } from "../../../lib/suppression/malformed-log.ts";

describe("malformed window log", () => {
  it("says an item once, again when it changes, and per table", () => {
    const log = createMalformedWindowLog();
    const item = { id: "w", matchers: new Set(["a=b", "c=d"]), enabled: "yes" };
    expect(log.isNew("windows", "w", item)).toBe(true);
    expect(log.isNew("windows", "w", item)).toBe(false);
    // The same content read again: attribute order and a String Set's order do not make it new.
    expect(log.isNew("windows", "w", { enabled: "yes", matchers: new Set(["c=d", "a=b"]), id: "w" })).toBe(false);
    expect(log.isNew("windows", "w", { ...item, enabled: "no" })).toBe(true);
    expect(log.isNew("other-table", "w", { ...item, enabled: "no" })).toBe(true);
    expect(log.isNew("windows", undefined, { matchers: [] })).toBe(true);
    expect(log.isNew("windows", undefined, { matchers: [] })).toBe(false);
  });

  it("forgets the oldest beyond its bound, so memory stays flat", () => {
    const log = createMalformedWindowLog(2);
    for (const id of ["a", "b", "c"]) log.isNew("t", id, { id });
    expect(log.isNew("t", "c", { id: "c" })).toBe(false);
    expect(log.isNew("t", "a", { id: "a" })).toBe(true);
  });

  it("says what is wrong in one sentence, and how to list them all", () => {
    expect(describeMalformedWindow("w", ["matchers is empty", "reason is missing"])).toBe(
      'Suppression window "w" is malformed and ignored (it suppresses nothing until fixed): matchers is empty; ' +
        "reason is missing. List every malformed window with: npx alert-relay suppress validate",
    );
    expect(describeMalformedWindow(undefined, ["id is a number (3)"])).toMatch(
      /^A suppression window item without a usable id is malformed/,
    );
  });
});
