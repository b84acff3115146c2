import { describe, expect, it } from "vitest";
import { RecentMap } from "../../../lib/platform/recent-map.ts";

describe("RecentMap", () => {
  it("forgets the least recently set entry beyond its capacity; setting an entry again makes it the newest", () => {
    const hints = new RecentMap<string, number>(2);
    hints.set("a", 1);
    hints.set("b", 2);
    hints.set("a", 3);
    hints.set("c", 4);
    expect([hints.get("a"), hints.get("b"), hints.get("c"), hints.size]).toEqual([3, undefined, 4, 2]);
  });
});
