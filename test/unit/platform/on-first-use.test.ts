import { describe, expect, it } from "vitest";
import { onFirstUse } from "../../../lib/platform/on-first-use.ts";

describe("onFirstUse", () => {
  it("loads once however many callers ask, and only when first asked", async () => {
    let loads = 0;
    const load = onFirstUse(async () => ({ loaded: ++loads }));
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([load(), load()]);
    expect(a).toBe(b);
    expect(await load()).toEqual({ loaded: 1 });
    expect(loads).toBe(1);
  });

  it("tries a failed load again on the next call instead of remembering the failure", async () => {
    let attempts = 0;
    const load = onFirstUse(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("import failed");
      return "module";
    });
    await expect(load()).rejects.toThrow("import failed");
    expect(await load()).toBe("module");
    expect(attempts).toBe(2);
  });
});
