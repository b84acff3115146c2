/** The pure parts of heartbeats: matching, beat times, when one is missing, and the alerts PagerDuty gets. */
import { describe, expect, it } from "vitest";
import { buildAlert } from "../../../lib/alert/build.ts";
import { parseAlert, type NormalizedAlert } from "../../../lib/alert/schema.ts";
import { parseMatcher } from "../../../lib/matchers/matcher.ts";
import type { HeartbeatDeclaration } from "../../../lib/routes/policies.ts";
import { parseRoutesConfig } from "../../../lib/routes/routes-config.ts";
import {
  backAlert,
  beatTime,
  heartbeatFor,
  heartbeatLabels,
  heartbeatStatus,
  isHeartbeatItem,
  missingAlert,
  type HeartbeatRecord,
} from "../../../lib/heartbeat/heartbeat.ts";
import { describeHeartbeat, heartbeatListLines, heartbeatState } from "../../../lib/cli/heartbeats.ts";

const T0 = Date.parse("2026-11-26T17:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

const watchdog: HeartbeatDeclaration = {
  name: "prometheus-watchdog",
  description: "Prometheus → Alertmanager → alert-relay",
  matchers: [parseMatcher("alertname=Watchdog")],
  intervalMs: 5 * 60_000,
  severity: "critical",
  labels: { team: "platform" },
};
const datadog: HeartbeatDeclaration = {
  name: "datadog-heartbeat",
  matchers: [parseMatcher("source=datadog"), parseMatcher("alertname=~heartbeat.*")],
  intervalMs: 60_000,
  severity: "error",
  labels: {},
};

function alert(
  labels: Record<string, string>,
  options: { source?: string; status?: "firing" | "resolved"; receivedAt?: string } = {},
): NormalizedAlert {
  return buildAlert(
    {
      source: options.source ?? "prometheus",
      identity: `x:${JSON.stringify(labels)}`,
      status: options.status ?? "firing",
      severity: "info",
      occurredAt: iso(-86_400),
      summary: ["s"],
      labels,
    },
    { receivedAt: options.receivedAt ?? iso(0) },
  );
}

const record = (fields: Partial<HeartbeatRecord> = {}): HeartbeatRecord => ({
  dedupKey: "heartbeat:prometheus-watchdog",
  itemType: "heartbeat",
  name: "prometheus-watchdog",
  ...fields,
});

describe("heartbeatFor: which declaration an alert beats for", () => {
  it("matches on labels plus source, severity and dedupKey, first declaration wins", () => {
    expect(heartbeatFor([watchdog, datadog], alert({ alertname: "Watchdog" }))?.name).toBe("prometheus-watchdog");
    expect(heartbeatFor([watchdog, datadog], alert({ alertname: "heartbeat-eu" }, { source: "datadog" }))?.name).toBe("datadog-heartbeat");
    expect(heartbeatFor([watchdog, datadog], alert({ alertname: "heartbeat-eu" }))).toBeUndefined();
    expect(heartbeatFor([watchdog, datadog], alert({ alertname: "HighLatency" }))).toBeUndefined();
    expect(heartbeatFor([], alert({ alertname: "Watchdog" }))).toBeUndefined();
  });

  it("never takes alert-relay's own alerts for beats, even when the declaration's matchers would match them", () => {
    const broad: HeartbeatDeclaration = { ...watchdog, matchers: [parseMatcher("team=platform")] };
    const missing = missingAlert(
      broad,
      record({ lastBeatAt: iso(0) }),
      { missing: true, since: iso(300), silentForMs: 300_000, lastBeatAt: iso(0) },
      at(310),
    );
    expect(missing.labels.team).toBe("platform");
    expect(heartbeatFor([broad], missing)).toBeUndefined();
  });
});

describe("beatTime", () => {
  it("is when the adapter received the beat (not occurredAt, which Alertmanager keeps for the Watchdog), in UTC", () => {
    expect(beatTime(alert({ alertname: "Watchdog" }, { receivedAt: "2026-11-26T18:00:05+01:00" }), at(3600))).toBe(
      "2026-11-26T17:00:05.000Z",
    );
  });

  it("is never after the router's clock", () => {
    expect(beatTime({ receivedAt: iso(120) }, at(60))).toBe(iso(60));
  });
});

describe("heartbeatStatus", () => {
  const interval = 300_000;
  it("is not missing within the interval after the last beat, and says when the next is due", () => {
    expect(heartbeatStatus(record({ lastBeatAt: iso(0), watchingSince: iso(-600) }), interval, at(299.999))).toEqual({
      missing: false,
      waiting: false,
      dueBy: iso(300),
    });
  });

  it("is missing once a whole interval has passed, since lastBeat + interval", () => {
    expect(heartbeatStatus(record({ lastBeatAt: iso(0) }), interval, at(300))).toEqual({
      missing: true,
      since: iso(300),
      silentForMs: 300_000,
      lastBeatAt: iso(0),
    });
    expect(heartbeatStatus(record({ lastBeatAt: iso(0) }), interval, at(420))).toMatchObject({
      missing: true,
      since: iso(300),
      silentForMs: 420_000,
    });
  });

  it("without any beat, counts from when watching began", () => {
    expect(heartbeatStatus(record({ watchingSince: iso(0) }), interval, at(10))).toEqual({
      missing: false,
      waiting: true,
      dueBy: iso(300),
    });
    expect(heartbeatStatus(record({ watchingSince: iso(0) }), interval, at(400))).toEqual({
      missing: true,
      since: iso(300),
      silentForMs: 400_000,
    });
  });
});

describe("the 'heartbeat missing' alert", () => {
  const beaten = record({
    lastBeatAt: iso(0),
    lastBeatAlertId: "prometheus:abc",
    lastBeatSource: "prometheus",
    beats: 12,
    watchingSince: iso(-3600),
  });
  const status = heartbeatStatus(beaten, watchdog.intervalMs, at(420)) as Extract<ReturnType<typeof heartbeatStatus>, { missing: true }>;
  const missing = missingAlert(watchdog, beaten, status, at(420));

  it("passes the contract and reads clearly at 3 a.m.", () => {
    expect(parseAlert(missing)).toEqual(missing);
    expect(missing).toMatchObject({
      source: "alert-relay",
      dedupKey: "heartbeat-missing:prometheus-watchdog",
      status: "firing",
      severity: "critical",
      occurredAt: iso(300),
      receivedAt: iso(420),
      class: "heartbeat-missing",
      component: "prometheus-watchdog",
      labels: { team: "platform", heartbeat: "prometheus-watchdog" },
    });
    expect(missing.summary).toBe(
      "No heartbeat from prometheus-watchdog for 7m (expected every 5m); last seen " +
        "2026-11-26T17:00:00Z — Prometheus → Alertmanager → alert-relay",
    );
    expect(missing.details).toMatchObject({
      heartbeat: "prometheus-watchdog",
      expectedEvery: "5m",
      beatsAre: ["alertname=Watchdog"],
      missingSince: iso(300),
      lastBeatAt: iso(0),
      beats: 12,
    });
  });

  it("has one id per outage: every later sweep of the same outage sends the same event", () => {
    const later = missingAlert(watchdog, beaten, heartbeatStatus(beaten, watchdog.intervalMs, at(900)) as typeof status, at(900));
    expect(later.id).toBe(missing.id);
    expect(later.occurredAt).toBe(missing.occurredAt);
    expect(later.summary).toContain("for 15m");
    const nextOutage = record({ ...beaten, lastBeatAt: iso(1000) });
    expect(
      missingAlert(watchdog, nextOutage, heartbeatStatus(nextOutage, watchdog.intervalMs, at(1400)) as typeof status, at(1400)).id,
    ).not.toBe(missing.id);
  });

  it("says so when no beat was ever seen", () => {
    const never = record({ watchingSince: iso(0) });
    const alertNever = missingAlert(watchdog, never, heartbeatStatus(never, watchdog.intervalMs, at(360)) as typeof status, at(360));
    expect(parseAlert(alertNever).summary).toBe(
      "No heartbeat from prometheus-watchdog for 6m (expected every 5m); none seen since alert-relay " +
        "began watching at 2026-11-26T17:00:00Z — Prometheus → Alertmanager → alert-relay",
    );
  });

  it("keeps labels within the contract and the heartbeat label its own", () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`l${i}`, "v".repeat(2000)]));
    const labels = heartbeatLabels({ ...watchdog, labels: { ...many, heartbeat: "spoofed" } });
    expect(Object.keys(labels)).toHaveLength(64);
    expect(labels.heartbeat).toBe("prometheus-watchdog");
    expect(labels.l0!.length).toBe(1024);
  });
});

describe("the resolve when beats are back", () => {
  it("happened at the newest beat, with the same dedupKey", () => {
    const back = backAlert(watchdog, record({ lastBeatAt: iso(700), beats: 13 }), iso(300), at(720));
    expect(parseAlert(back)).toMatchObject({
      status: "resolved",
      dedupKey: "heartbeat-missing:prometheus-watchdog",
      occurredAt: iso(700),
      severity: "critical",
    });
    expect(back.summary).toBe("Heartbeat prometheus-watchdog is back: beat at 2026-11-26T17:11:40Z (expected every 5m)");
    expect(back.id).toBe(backAlert(watchdog, record({ lastBeatAt: iso(700), beats: 13 }), iso(300), at(740)).id);
  });

  it("is after the trigger it ends even when the returning beat was older (processed late): then it is the sweep's time", () => {
    expect(backAlert(watchdog, record({ lastBeatAt: iso(299) }), iso(300), at(330)).occurredAt).toBe(iso(330));
  });
});

describe("tracker items", () => {
  it("are told apart from problems by itemType", () => {
    expect(isHeartbeatItem(record())).toBe(true);
    expect(isHeartbeatItem({ dedupKey: "heartbeat:x", status: "firing" })).toBe(false);
    expect(isHeartbeatItem(undefined)).toBe(false);
  });

  it("read as ok, missing, waiting or unknown", () => {
    expect(heartbeatState(record({ intervalMs: 60_000, lastBeatAt: iso(0) }), at(30)).text).toBe("ok");
    expect(heartbeatState(record({ intervalMs: 60_000, lastBeatAt: iso(0) }), at(150)).text).toBe("missing for 1m 30s");
    expect(heartbeatState(record({ intervalMs: 60_000, watchingSince: iso(0) }), at(30)).text).toBe("waiting for a first beat");
    expect(heartbeatState(record({ lastBeatAt: iso(0) }), at(30)).word).toBe("unknown");
  });

  it("are listed and explained", () => {
    const lines = heartbeatListLines([record({ intervalMs: 60_000, lastBeatAt: iso(0), beats: 3, checkedAt: iso(140) })], at(150));
    expect(lines.join("\n")).toContain("1 heartbeat: 1 missing, 0 not missing.");
    expect(heartbeatListLines([], at(0))).toEqual([]);
    const shown = describeHeartbeat(
      record({ intervalMs: 60_000, lastBeatAt: iso(0), beats: 3, lastBeatAlertId: "a1", lastBeatSource: "prometheus" }),
      undefined,
      at(30),
      "local stack",
    ).join("\n");
    expect(shown).toContain("Last beat at 2026-11-26T17:00:00Z (30s ago): alert a1 from prometheus; 3 beats recorded.");
    expect(shown).toContain("Nothing: it has never been missing (its problem would be heartbeat-missing:prometheus-watchdog).");
  });
});

describe("the config section the heartbeats come from", () => {
  it("parses docs/heartbeats.md's example", () => {
    const config = parseRoutesConfig(
      {
        routes: [],
        defaultRoute: { routingKey: "default" },
        heartbeats: [
          {
            name: "prometheus-watchdog",
            description: "Prometheus → Alertmanager → alert-relay",
            matchers: ["alertname=Watchdog"],
            interval: "5m",
            labels: { team: "platform" },
          },
        ],
      },
      "test",
    );
    expect(config.policies.heartbeats).toEqual([
      expect.objectContaining({ name: "prometheus-watchdog", intervalMs: 300_000, severity: "critical", labels: { team: "platform" } }),
    ]);
  });
});
