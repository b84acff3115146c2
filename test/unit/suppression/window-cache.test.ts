import { describe, expect, it } from "vitest";
import {
  createWindowCache,
  DEFAULT_WINDOW_REFRESH_MS,
  type WindowCacheOptions,
  type WindowSource,
} from "../../../lib/suppression/window-cache.ts";
import { alertAt } from "../../support/alerts.ts";

function item(id: string, matchers: unknown = ["service=checkout"], extra: Record<string, unknown> = {}) {
  return { id, enabled: true, matchers, reason: "drill", createdBy: "ops@example.com", ...extra };
}

/** A table whose contents and failures the test controls, and whose loads it can hold open. */
function fakeTable(initial: unknown[]) {
  let items = initial;
  let failure: Error | undefined;
  let gate: Promise<void> | undefined;
  const table = {
    loads: 0,
    set(next: unknown[]) {
      items = next;
    },
    fail(error: Error | undefined) {
      failure = error;
    },
    /** Holds the next loads until the returned function is called. */
    hold(): () => void {
      let release = () => {};
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    async loadAll(): Promise<unknown[]> {
      table.loads += 1;
      if (gate) await gate;
      if (failure) throw failure;
      return items;
    },
  };
  return table;
}

function setup(table: WindowSource, options: Partial<WindowCacheOptions> = {}) {
  let time = Date.parse("2026-11-27T02:00:00Z");
  const errors: unknown[] = [];
  const malformed: [string | undefined, readonly string[]][] = [];
  const cache = createWindowCache({
    source: table,
    now: () => new Date(time),
    onError: (error) => errors.push(error),
    onMalformed: (id, problems) => malformed.push([id, problems]),
    ...options,
  });
  return {
    cache,
    errors,
    malformed,
    advance(ms: number) {
      time += ms;
    },
  };
}

const ids = (windows: readonly { id: string }[]) => windows.map((w) => w.id);
const checkout = alertAt("HighLatency", "firing", 0, { labels: { service: "checkout" } });

describe("WindowCache", () => {
  it("loads once and serves the same snapshot until refreshMs has passed", async () => {
    const table = fakeTable([item("b"), item("a")]);
    const { cache, advance } = setup(table);
    expect(ids(await cache.windows())).toEqual(["a", "b"]);
    table.set([item("c")]);
    advance(DEFAULT_WINDOW_REFRESH_MS - 1);
    for (let i = 0; i < 5; i += 1) expect(ids(await cache.windows())).toEqual(["a", "b"]);
    expect(table.loads).toBe(1);
    advance(1);
    expect(ids(await cache.windows())).toEqual(["c"]);
    expect(table.loads).toBe(2);
  });

  it("defaults refreshMs to 15 s, inside the 30 s the design allows", () => {
    expect(DEFAULT_WINDOW_REFRESH_MS).toBe(15_000);
  });

  it("honours a custom refreshMs", async () => {
    const table = fakeTable([item("a")]);
    const { cache, advance } = setup(table, { refreshMs: 1000 });
    await cache.windows();
    advance(1000);
    await cache.windows();
    expect(table.loads).toBe(2);
  });

  it("shares one load among concurrent callers (single-flight), first load and refresh alike", async () => {
    const table = fakeTable([item("a")]);
    const { cache, advance } = setup(table);
    let release = table.hold();
    const first = Promise.all([cache.windows(), cache.windows(), cache.findSuppressingWindow(checkout)]);
    release();
    const [one, two, found] = await first;
    expect(one).toBe(two);
    expect(found?.id).toBe("a");
    expect(table.loads).toBe(1);

    advance(DEFAULT_WINDOW_REFRESH_MS);
    table.set([item("b")]);
    release = table.hold();
    const refreshing = Promise.all([cache.windows(), cache.windows(), cache.windows()]);
    release();
    expect((await refreshing).map(ids)).toEqual([["b"], ["b"], ["b"]]);
    expect(table.loads).toBe(2);
  });

  it("measures age from when a load started, so a slow Scan does not stretch the bound", async () => {
    const table = fakeTable([item("a")]);
    const { cache, advance } = setup(table);
    const release = table.hold();
    const loading = cache.windows();
    advance(10_000);
    release();
    await loading;
    advance(DEFAULT_WINDOW_REFRESH_MS - 10_000);
    await cache.windows();
    expect(table.loads).toBe(2);
  });

  it("throws on a failed first load, and tries again on the next call", async () => {
    const table = fakeTable([item("a")]);
    const { cache, errors } = setup(table);
    table.fail(new Error("table not found"));
    await expect(cache.windows()).rejects.toThrow("table not found");
    await expect(cache.findSuppressingWindow(checkout)).rejects.toThrow("table not found");
    table.fail(undefined);
    expect(ids(await cache.windows())).toEqual(["a"]);
    expect(table.loads).toBe(3);
    expect(errors).toEqual([]);
  });

  it("keeps the last good windows when a refresh fails, reports it, and retries only after another interval", async () => {
    const table = fakeTable([item("a")]);
    const { cache, errors, advance } = setup(table);
    await cache.windows();
    advance(DEFAULT_WINDOW_REFRESH_MS);
    const outage = new Error("throttled");
    table.fail(outage);
    expect(ids(await cache.windows())).toEqual(["a"]);
    expect(errors).toEqual([outage]);
    expect(table.loads).toBe(2);

    advance(DEFAULT_WINDOW_REFRESH_MS - 1);
    expect((await cache.findSuppressingWindow(checkout))?.id).toBe("a");
    expect(table.loads).toBe(2);

    advance(1);
    table.fail(undefined);
    table.set([item("b")]);
    expect(ids(await cache.windows())).toEqual(["b"]);
    expect(table.loads).toBe(3);
  });

  it("treats a source that does not return a list as a failed load", async () => {
    const { cache } = setup({ loadAll: async () => ({ Items: [] }) as unknown as unknown[] });
    await expect(cache.windows()).rejects.toThrow("not a list");
  });

  it("reports malformed items with their problems, ignores them, and keeps the valid ones", async () => {
    const table = fakeTable([item("good"), item("bad", []), { matchers: ["service=checkout"] }]);
    const { cache, malformed } = setup(table);
    expect(ids(await cache.windows())).toEqual(["good"]);
    expect(malformed).toEqual([
      ["bad", ["matchers is empty: a window must name what it suppresses"]],
      [undefined, expect.arrayContaining(["id is missing; expected the window's name as text"])],
    ]);
  });

  it("reports a malformed item again at each load while it stays malformed", async () => {
    const table = fakeTable([item("bad", ["service=~("])]);
    const { cache, malformed, advance } = setup(table);
    await cache.windows();
    advance(DEFAULT_WINDOW_REFRESH_MS);
    await cache.windows();
    expect(malformed.map(([id]) => id)).toEqual(["bad", "bad"]);
  });

  it("never lets a malformed item suppress, however it is broken", async () => {
    const broken = [
      item("empty-matchers", []),
      item("one-string", "alertname!=Watchdog, service=checkout"),
      item("only-negative", ["alertname!=Watchdog"]),
      item("bad-regex", ["service=~("]),
      item("no-enabled", ["service=checkout"], { enabled: undefined }),
      item("misspelt-end", ["service=checkout"], { endAt: "2020-01-01T00:00:00Z" }),
      item("end-before-start", ["service=checkout"], { startsAt: "2026-11-27T03:00:00Z", endsAt: "2026-11-27T01:00:00Z" }),
    ];
    const { cache, malformed } = setup(fakeTable(broken));
    expect(await cache.findSuppressingWindow(checkout)).toBeUndefined();
    expect(await cache.windows()).toEqual([]);
    expect(malformed.map(([id]) => id).sort()).toEqual(broken.map((b) => b.id).sort());
  });

  it("finds with the cache's clock: a window ends on time without a reload", async () => {
    const table = fakeTable([item("a", ["service=checkout"], { endsAt: "2026-11-27T02:00:10Z" })]);
    const { cache, advance } = setup(table, { refreshMs: 60_000 });
    expect((await cache.findSuppressingWindow(checkout))?.id).toBe("a");
    advance(10_000);
    expect(await cache.findSuppressingWindow(checkout)).toBeUndefined();
    expect(table.loads).toBe(1);
  });
});
