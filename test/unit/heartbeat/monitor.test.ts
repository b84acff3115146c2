/** The router wrapper and the sweep's heartbeat check with in-memory fakes: the edges the integration tests do not reach. */
import { describe, expect, it } from "vitest";
import { parseMatcher } from "../../../lib/matchers/matcher.ts";
import type { HeartbeatDeclaration } from "../../../lib/routes/policies.ts";
import type { RouteOutcome } from "../../../lib/router/router.ts";
import { createTelemetry } from "../../../lib/platform/observability.ts";
import { createHeartbeatSweep, withHeartbeats } from "../../../lib/heartbeat/monitor.ts";
import type { HeartbeatStore } from "../../../lib/heartbeat/heartbeat.ts";
import type { HeartbeatRecord } from "../../../lib/heartbeat/heartbeat.ts";

const declaration = (name: string): HeartbeatDeclaration => ({
  name,
  matchers: [parseMatcher(`alertname=${name}`)],
  intervalMs: 60_000,
  severity: "critical",
  labels: {},
});
const telemetry = createTelemetry("router");
const now = () => new Date("2026-11-26T17:00:00Z");

function memoryStore(failFor: string[] = []): HeartbeatStore {
  const records = new Map<string, HeartbeatRecord>();
  return {
    async beat() {
      return true;
    },
    async watch(name, intervalMs, at) {
      if (failFor.includes(name)) throw new Error(`DynamoDB is unhappy about ${name}`);
      const record: HeartbeatRecord = {
        dedupKey: `heartbeat:${name}`,
        itemType: "heartbeat",
        name,
        intervalMs,
        watchingSince: at.toISOString(),
        ...records.get(name),
      };
      records.set(name, record);
      return record;
    },
    async get(name) {
      return records.get(name);
    },
  };
}

const router = { handleAlert: async (): Promise<RouteOutcome> => ({ outcome: "deduplicated", why: "test", recorded: "repeat" }) };

describe("withHeartbeats", () => {
  it("leaves the router untouched when no heartbeat is declared", () => {
    expect(withHeartbeats(router, { declarations: [], store: memoryStore(), telemetry })).toBe(router);
  });
});

describe("the sweep's heartbeat check", () => {
  it("checks every declared heartbeat, and one failing does not stop the others", async () => {
    const sweep = createHeartbeatSweep({
      declarations: [declaration("a"), declaration("b"), declaration("c")],
      store: memoryStore(["b"]),
      telemetry,
      now,
      router,
      problems: { get: async () => undefined },
    });
    expect(await sweep.sweep(Date.now() + 5_000)).toEqual({
      checked: 3,
      missing: [],
      back: [],
      failed: [{ name: "b", reason: "DynamoDB is unhappy about b" }],
      unfinished: false,
    });
  });

  it("stops at the deadline and says so; the next run checks the rest", async () => {
    const sweep = createHeartbeatSweep({
      declarations: [declaration("a")],
      store: memoryStore(),
      telemetry,
      now,
      router,
      problems: { get: async () => undefined },
    });
    expect(await sweep.sweep(Date.now() - 1)).toEqual({ checked: 0, missing: [], back: [], failed: [], unfinished: true });
  });
});
