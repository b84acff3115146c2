import { describe, expect, it } from "vitest";
import { oneAtATimePerKey } from "../../../lib/platform/one-at-a-time.ts";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("oneAtATimePerKey", () => {
  it("runs tasks of one key in the order started, one at a time, and tasks of other keys alongside", async () => {
    const inOrder = oneAtATimePerKey();
    const log: string[] = [];
    const releases = new Map<string, () => void>();
    const task = (name: string) => () =>
      new Promise<string>((resolve) => {
        log.push(`start ${name}`);
        releases.set(name, () => {
          log.push(`end ${name}`);
          resolve(name);
        });
      });
    const results = [inOrder("a", task("a1")), inOrder("b", task("b1")), inOrder("a", task("a2"))];
    await tick();
    expect(log).toEqual(["start a1", "start b1"]);
    releases.get("b1")!();
    await tick();
    expect(log).toEqual(["start a1", "start b1", "end b1"]);
    releases.get("a1")!();
    await tick();
    expect(log).toEqual(["start a1", "start b1", "end b1", "end a1", "start a2"]);
    releases.get("a2")!();
    expect(await Promise.all(results)).toEqual(["a1", "b1", "a2"]);
  });

  it("goes on with a key's next task after one fails, and the failure reaches its own caller", async () => {
    const inOrder = oneAtATimePerKey();
    const failed = inOrder("a", async () => {
      throw new Error("boom");
    });
    const next = inOrder("a", async () => "next");
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("next");
  });
});
