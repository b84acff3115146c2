import { describe, expect, it } from "vitest";
import { findSuppressingWindow, windowState } from "../../../lib/suppression/suppress.ts";
import { parseWindowItem, type SuppressionWindow, type WindowItem } from "../../../lib/suppression/window-item.ts";
import { alertAt } from "../../support/alerts.ts";

const START = "2026-11-27T01:00:00Z";
const END = "2026-11-27T03:00:00Z";
const at = (iso: string) => new Date(iso);

function window(overrides: Partial<WindowItem> = {}): SuppressionWindow {
  const result = parseWindowItem({
    id: "w",
    enabled: true,
    matchers: ["service=checkout"],
    reason: "drill",
    createdBy: "ops@example.com",
    ...overrides,
  });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.window;
}

describe("windowState", () => {
  const timed = window({ startsAt: START, endsAt: END });

  it.each([
    ["2026-11-27T00:59:59.999Z", "pending"],
    ["2026-11-27T01:00:00.000Z", "active"],
    ["2026-11-27T02:59:59.999Z", "active"],
    ["2026-11-27T03:00:00.000Z", "expired"],
  ] as const)("at %s a 01:00–03:00 window is %s (start inclusive, end exclusive)", (now, state) => {
    expect(windowState(timed, at(now))).toBe(state);
  });

  it("is disabled whatever the time when enabled is false", () => {
    const off = window({ enabled: false, startsAt: START, endsAt: END });
    for (const now of ["2026-11-27T00:00:00Z", "2026-11-27T02:00:00Z", "2026-11-27T04:00:00Z"]) {
      expect(windowState(off, at(now))).toBe("disabled");
    }
  });

  it("without startsAt is active from the start of time; without endsAt, until disabled", () => {
    expect(windowState(window({ endsAt: END }), at("1999-01-01T00:00:00Z"))).toBe("active");
    expect(windowState(window({ startsAt: START }), at("2099-01-01T00:00:00Z"))).toBe("active");
  });

  it("an empty window (startsAt = endsAt), as `end` leaves a pending one, is never active", () => {
    const empty = window({ startsAt: START, endsAt: START });
    expect(windowState(empty, at("2026-11-27T00:00:00Z"))).toBe("pending");
    expect(windowState(empty, at(START))).toBe("expired");
  });
});

describe("findSuppressingWindow", () => {
  const now = at("2026-11-27T02:00:00Z");
  const checkout = alertAt("HighLatency", "firing", 0, { labels: { service: "checkout", env: "prod" } });

  it("returns the active window whose matchers all match", () => {
    const match = window({ id: "match", matchers: ["service=checkout", "env=~prod|staging"] });
    expect(findSuppressingWindow([match], checkout, now)).toBe(match);
  });

  it("ignores windows where one matcher fails", () => {
    expect(findSuppressingWindow([window({ matchers: ["service=checkout", "env=staging"] })], checkout, now)).toBeUndefined();
  });

  it.each([
    ["pending", { startsAt: "2026-11-27T02:30:00Z" }],
    ["expired", { endsAt: "2026-11-27T01:30:00Z" }],
    ["disabled", { enabled: false }],
  ] as const)("ignores a %s window", (_state, overrides) => {
    expect(findSuppressingWindow([window(overrides)], checkout, now)).toBeUndefined();
  });

  it("matches on source, severity and dedupKey as well as labels", () => {
    expect(findSuppressingWindow([window({ matchers: ["source=echo", "severity=error"] })], checkout, now)?.id).toBe("w");
    expect(findSuppressingWindow([window({ matchers: [`dedupKey=${checkout.dedupKey}`] })], checkout, now)?.id).toBe("w");
    expect(findSuppressingWindow([window({ matchers: ["severity=critical"] })], checkout, now)).toBeUndefined();
  });

  it("picks the smallest id whatever order the windows come in", () => {
    const windows = ["m", "b", "z", "a-inactive"].map((id) => window({ id, ...(id === "a-inactive" ? { enabled: false } : {}) }));
    expect(findSuppressingWindow(windows, checkout, now)?.id).toBe("b");
    expect(findSuppressingWindow([...windows].reverse(), checkout, now)?.id).toBe("b");
  });

  it("returns undefined when there are no windows", () => {
    expect(findSuppressingWindow([], checkout, now)).toBeUndefined();
  });
});
