import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../../../lib/alert/limits.ts";
import { parseAlert, type NormalizedAlert } from "../../../../lib/alert/schema.ts";
import type { Rejection } from "../../../../lib/adapters/types.ts";
import { FIELD_ALIASES, datadog, type DatadogConfig } from "../../../../lib/adapters/datadog/adapter.ts";

const RECEIVED_AT = "2026-11-26T18:00:00.000Z";
const defaultConfig = datadog.config({});

/** The recommended template, filled in for a simple monitor that just triggered. */
const triggered = {
  id: "8410325518813342190",
  title: "[Triggered] CPU high on checkout hosts",
  message: "CPU above 90% for 5 minutes. @webhook-alert-relay",
  event_type: "query_alert_monitor",
  transition: "Triggered",
  alert_type: "",
  priority: "",
  monitor_id: "41297781",
  scope: "",
  cycle_key: "7421998014356002881",
  aggreg_key: "5f1e0c33c1a1b8d04e2a6f9e4d2b7a10",
  tags: "env:prod,service:checkout-api,team:payments",
  link: "https://app.datadoghq.com/event/event?id=8410325518813342190",
  date: "1795714872000",
  org: { id: "1180632", name: "Acme Payments" },
};

function run(payload: unknown, config: DatadogConfig = defaultConfig, receivedAt = RECEIVED_AT) {
  return datadog.normalize(payload, { receivedAt, config });
}

function alertOf(payload: unknown, config?: DatadogConfig): NormalizedAlert {
  const result = run(payload, config);
  if (!result.ok) throw new Error(`rejected: ${result.rejection.message} (at ${result.rejection.path})`);
  expect(result.alerts).toHaveLength(1);
  return parseAlert(result.alerts[0]);
}

function rejectionOf(payload: unknown): Rejection {
  const result = run(payload);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.alerts[0])}`);
  return result.rejection;
}

function withFields(fields: Record<string, unknown>): Record<string, unknown> {
  return { ...triggered, ...fields };
}

describe("transition → status", () => {
  it.each([
    ["Triggered", "firing"],
    ["Re-Triggered", "firing"],
    ["Warn", "firing"],
    ["Re-Warn", "firing"],
    ["No Data", "firing"],
    ["Re-No Data", "firing"],
    ["Renotify", "firing"],
    ["Recovered", "resolved"],
    ["Warn Recovered", "resolved"],
    ["No Data Recovered", "resolved"],
  ])("%s is %s", (transition, status) => {
    expect(alertOf(withFields({ transition })).status).toBe(status);
  });

  it("ignores case, spaces, dashes and underscores in the transition", () => {
    expect(alertOf(withFields({ transition: "re_triggered" })).status).toBe("firing");
    expect(alertOf(withFields({ transition: " WARN  RECOVERED " })).status).toBe("resolved");
    expect(alertOf(withFields({ transition: "no-data" })).details.transition).toBe("no-data");
  });

  it("rejects an unknown transition, naming the field where it was found", () => {
    expect(rejectionOf(withFields({ transition: "Escalated" }))).toEqual({
      code: "unsupported_event",
      message: expect.stringMatching(/^unknown alert transition "Escalated"; expected one of Triggered, .*Warn Recovered/),
      path: "transition",
    });
    const nested = { ...withFields({ transition: undefined }), alert: { transition: "Muted" } };
    expect(rejectionOf(nested).path).toBe("alert.transition");
  });

  it("cuts a long unknown transition in the rejection message", () => {
    expect(rejectionOf(withFields({ transition: "x".repeat(5000) })).message.length).toBeLessThan(300);
  });
});

describe("transition from the title when the payload has no transition field", () => {
  const fromTitle = (title: string) => alertOf(withFields({ transition: undefined, title }));

  it.each([
    ["[Triggered on {host:web-1}] CPU high on web-1", "firing", "Triggered"],
    ["[Recovered] CPU high", "resolved", "Recovered"],
    ["[Warn] Disk 85%", "firing", "Warn"],
    ["[P1] [Triggered] Primary DB down", "firing", "Triggered"],
    ["[Re-Triggered] CPU high", "firing", "Re-Triggered"],
    ["[No Data] Heartbeat", "firing", "No Data"],
    ["[Renotify] Queue depth", "firing", "Renotify"],
    ["[Warn Recovered] Disk 85%", "resolved", "Warn Recovered"],
  ])("%s", (title, status, transition) => {
    const alert = fromTitle(title);
    expect(alert.status).toBe(status);
    expect(alert.details.transition).toBe(transition);
    expect(alert.summary).toBe(title);
  });

  it("takes the group from `on {…}` and the name from what follows the prefixes", () => {
    const alert = fromTitle("[P2] [Triggered on {host:web-1,env:prod}] CPU high on web-1");
    expect(alert.dedupKey).toBe("datadog:41297781:env:prod,host:web-1");
    expect(alert.labels.alertname).toBe("CPU high on web-1");
    expect(alert.labels.host).toBe("web-1");
    expect(alert.severity).toBe("error");
  });

  it("keeps a bracket of the monitor's own name in the alert name", () => {
    expect(fromTitle("[Triggered] [prod] CPU high").labels.alertname).toBe("[prod] CPU high");
  });

  it("prefers the transition field over the title", () => {
    expect(alertOf(withFields({ transition: "Recovered", title: "[Triggered] CPU high" })).status).toBe("resolved");
  });

  it("rejects a payload with neither a transition field nor a status prefix", () => {
    expect(rejectionOf(withFields({ transition: "$ALERT_TRANSITION", title: "CPU high" }))).toEqual({
      code: "wrong_shape",
      message: expect.stringContaining('"transition": "$ALERT_TRANSITION"'),
      path: "",
    });
  });

  it("puts the transition in front of a summary that does not say it", () => {
    const alert = alertOf(withFields({ title: "", alert_title: "CPU high", scope: "host:web-1", transition: "Warn" }));
    expect(alert.summary).toBe("[Warn on {host:web-1}] CPU high");
  });
});

describe("severity", () => {
  it.each([
    ["P1", "critical"],
    ["P2", "error"],
    ["P3", "warning"],
    ["P4", "info"],
    ["p5", "info"],
  ])("priority %s is %s, whatever the alert type says", (priority, severity) => {
    expect(alertOf(withFields({ priority, alert_type: "error" })).severity).toBe(severity);
  });

  it.each([
    ["error", "error"],
    ["warning", "warning"],
    ["info", "info"],
    ["success", "info"],
  ])("without a priority, alert type %s is %s", (alertType, severity) => {
    expect(alertOf(withFields({ alert_type: alertType })).severity).toBe(severity);
  });

  it("lets a severity: tag win over priority and alert type", () => {
    expect(alertOf(withFields({ priority: "P1", alert_type: "error", tags: "env:prod,severity:warning" })).severity).toBe("warning");
  });

  it("ignores a priority that is not P1–P5 (the event's $PRIORITY is normal/low)", () => {
    expect(alertOf(withFields({ priority: "normal", alert_type: "warning" })).severity).toBe("warning");
    expect(alertOf(withFields({ priority: "normal", alert_priority: "P1" })).severity).toBe("critical");
  });

  it("reads the priority from the title, then from a priority: tag", () => {
    expect(alertOf(withFields({ title: "[P1] [Triggered] DB down", alert_type: "warning" })).severity).toBe("critical");
    expect(alertOf(withFields({ tags: "priority:p2", alert_type: "info" })).severity).toBe("error");
  });

  it.each(["Warn", "Re-Warn"])("treats a %s transition as a warning when nothing else says", (transition) => {
    expect(alertOf(withFields({ transition })).severity).toBe("warning");
  });

  it("falls back to DATADOG_DEFAULT_SEVERITY, error by default", () => {
    expect(alertOf(triggered).severity).toBe("error");
    expect(alertOf(triggered, datadog.config({ DATADOG_DEFAULT_SEVERITY: " Critical " })).severity).toBe("critical");
  });

  it("refuses a default severity that is not one", () => {
    expect(() => datadog.config({ DATADOG_DEFAULT_SEVERITY: "urgent" })).toThrow(
      'DATADOG_DEFAULT_SEVERITY="urgent" is not a severity; use one of critical, error, warning, info',
    );
  });

  it("does not let a tag named after an Object method break the severity", () => {
    const alert = alertOf(withFields({ tags: "severity:constructor,constructor:x,__proto__:y" }));
    expect(alert.severity).toBe("error");
    expect(alert.labels.constructor).toBe("x");
  });
});

describe("dedupKey", () => {
  it("is the monitor and its group, whatever the order and spacing of the scope", () => {
    const a = alertOf(withFields({ scope: "host:web-1,env:prod" }));
    const b = alertOf(withFields({ scope: " env:prod , host:web-1" }));
    expect(a.dedupKey).toBe("datadog:41297781:env:prod,host:web-1");
    expect(b.dedupKey).toBe(a.dedupKey);
    expect(a.group).toBe("env:prod,host:web-1");
  });

  it("gives each group of a multi-alert monitor its own key", () => {
    expect(alertOf(withFields({ scope: "host:web-1" })).dedupKey).not.toBe(alertOf(withFields({ scope: "host:web-2" })).dedupKey);
  });

  it("is the monitor alone for a simple monitor", () => {
    expect(alertOf(withFields({ scope: "" })).dedupKey).toBe("datadog:41297781");
  });

  it("stays the same from Triggered to Recovered", () => {
    const firing = alertOf(withFields({ scope: "host:web-1", cycle_key: "1" }));
    const resolved = alertOf(
      withFields({
        scope: "host:web-1",
        cycle_key: "1",
        transition: "Recovered",
        title: "[Recovered] CPU high",
        id: "2",
        date: "1795715560000",
      }),
    );
    expect(resolved.status).toBe("resolved");
    expect(resolved.dedupKey).toBe(firing.dedupKey);
  });

  it("falls back to the cycle key, then the aggregation key", () => {
    expect(alertOf(withFields({ monitor_id: "" })).dedupKey).toBe("datadog:cycle:7421998014356002881");
    expect(alertOf(withFields({ monitor_id: "", cycle_key: "$ALERT_CYCLE_KEY" })).dedupKey).toBe(
      "datadog:aggreg:5f1e0c33c1a1b8d04e2a6f9e4d2b7a10",
    );
  });

  it("reads the monitor and group from Datadog's default template (title and message links)", () => {
    const alert = alertOf({
      body:
        "%%%\nOrders 5xx high\n\n[[Monitor Status](https://app.datadoghq.com/monitors/41305539" +
        "?group=service%3Aorders-api%2Cenv%3Aprod&from_ts=1&link_source=monitor_notif)]\n%%%",
      title: "[Triggered on {service:orders-api,env:prod}] orders-api 5xx",
      date: "1795714872000",
      id: "8410325519900012345",
    });
    expect(alert.dedupKey).toBe("datadog:41305539:env:prod,service:orders-api");
    expect(alert.details.message).toBe(
      "Orders 5xx high\n\n[[Monitor Status](https://app.datadoghq.com/monitors/41305539" +
        "?group=service%3Aorders-api%2Cenv%3Aprod&from_ts=1&link_source=monitor_notif)]",
    );
  });

  it("ignores a link to some other monitor that a person wrote into the message", () => {
    const payload = { title: "[Triggered] x", body: "see https://app.datadoghq.com/monitors/999 too" };
    expect(rejectionOf(payload).message).toMatch(/^no alert identity/);
  });

  it("names every template field that could identify the alert when none is there", () => {
    const rejection = rejectionOf(withFields({ monitor_id: "$ALERT_ID", cycle_key: "", aggreg_key: "" }));
    expect(rejection.code).toBe("wrong_shape");
    expect(rejection.path).toBe("");
    for (const variable of ["$ALERT_ID", "$ALERT_SCOPE", "$ALERT_CYCLE_KEY", "$AGGREG_KEY"]) expect(rejection.message).toContain(variable);
  });

  it("stays within PagerDuty's 255 characters and distinct for long scopes", () => {
    const longScope = (host: string) => [...Array.from({ length: 60 }, (_, i) => `tag_${i}:value-${i}`), `host:${host}`].join(",");
    const a = alertOf(withFields({ scope: longScope("web-1") }));
    const b = alertOf(withFields({ scope: longScope("web-2") }));
    expect(a.dedupKey.length).toBeLessThanOrEqual(LIMITS.dedupKeyChars);
    expect(a.dedupKey).not.toBe(b.dedupKey);
    expect(alertOf(withFields({ scope: longScope("web-1") })).dedupKey).toBe(a.dedupKey);
  });
});

describe("tags → labels", () => {
  it("splits at the first colon, so values keep theirs", () => {
    expect(alertOf(withFields({ tags: "runbook:https://wiki.example/cpu:high,image:nginx:1.27" })).labels).toMatchObject({
      runbook: "https://wiki.example/cpu:high",
      image: "nginx:1.27",
    });
  });

  it("gives a bare tag the value true and trims spaces", () => {
    expect(alertOf(withFields({ tags: " monitor , team : web ,, env:prod " })).labels).toMatchObject({
      monitor: "true",
      team: "web",
      env: "prod",
    });
  });

  it("joins the distinct values of a repeated key in order", () => {
    expect(alertOf(withFields({ tags: "team:web,team:payments,team:web" })).labels.team).toBe("web,payments");
  });

  it("accepts an array of tags", () => {
    expect(alertOf(withFields({ tags: ["env:prod", "team:web", "$TAGS"] })).labels).toMatchObject({ env: "prod", team: "web" });
  });

  it("adds the scope's tags and keeps alertname and monitor_id from the monitor", () => {
    const alert = alertOf(withFields({ scope: "host:web-1", tags: "alertname:spoofed,monitor_id:1,service:api" }));
    expect(alert.labels).toMatchObject({ alertname: "CPU high on checkout hosts", monitor_id: "41297781", host: "web-1", service: "api" });
  });

  it("sets class from a class: tag, before a class field", () => {
    expect(alertOf(withFields({ tags: "class:disk-full", class: "infra" })).class).toBe("disk-full");
    expect(alertOf(withFields({ class: "infra" })).class).toBe("infra");
  });

  it("rejects tags that are neither text nor an array of text, with the path", () => {
    expect(rejectionOf(withFields({ tags: true }))).toMatchObject({ code: "wrong_shape", path: "tags" });
    expect(rejectionOf(withFields({ tags: ["env:prod", { team: "web" }] }))).toMatchObject({ code: "wrong_shape", path: "tags.1" });
  });
});

describe("unset variables", () => {
  it("treats a literal $VARIABLE and empty text as absent", () => {
    const alert = alertOf(
      withFields({
        priority: "$ALERT_PRIORITY",
        alert_type: "warning",
        scope: "$ALERT_SCOPE",
        hostname: "$HOSTNAME",
        snapshot: "$SNAPSHOT",
        link: "",
      }),
    );
    expect(alert.severity).toBe("warning");
    expect(alert.dedupKey).toBe("datadog:41297781");
    expect(alert.sourceHost).toBe("datadog");
    expect(alert.images).toEqual([]);
    expect(alert.links).toEqual([]);
    expect(alert.details).not.toHaveProperty("priority");
  });

  it("moves on to the next identity when $ALERT_ID is unset", () => {
    expect(alertOf(withFields({ monitor_id: "$ALERT_ID" })).dedupKey).toBe("datadog:cycle:7421998014356002881");
  });
});

describe("template key aliases", () => {
  const expected = alertOf(withFields({ priority: "P3", scope: "host:web-1" }));
  const same = (alert: NormalizedAlert) => ({
    dedupKey: alert.dedupKey,
    status: alert.status,
    severity: alert.severity,
    summary: alert.summary,
  });

  it.each([
    [
      "upper case",
      {
        ID: "8410325518813342190",
        EVENT_TITLE: triggered.title,
        ALERT_TRANSITION: "Triggered",
        ALERT_PRIORITY: "P3",
        ALERT_ID: "41297781",
        ALERT_SCOPE: "host:web-1",
        DATE: "1795714872000",
      },
    ],
    [
      "snake case",
      {
        event_id: "8410325518813342190",
        event_title: triggered.title,
        alert_transition: "Triggered",
        alert_priority: "P3",
        alert_id: "41297781",
        alert_scope: "host:web-1",
        date: "1795714872000",
      },
    ],
    [
      "camel case",
      {
        eventId: "8410325518813342190",
        eventTitle: triggered.title,
        alertTransition: "Triggered",
        alertPriority: "P3",
        alertId: "41297781",
        alertScope: "host:web-1",
        date: 1795714872000,
      },
    ],
    [
      "nested",
      {
        event: { id: "8410325518813342190", title: triggered.title },
        alert: { transition: "Triggered", priority: "P3", id: "41297781", scope: "host:web-1" },
        date: "1795714872000",
      },
    ],
    [
      "wrapped",
      {
        metadata: {
          ID: "8410325518813342190",
          EVENT_TITLE: triggered.title,
          ALERT_TRANSITION: "Triggered",
          ALERT_PRIORITY: "P3",
          ALERT_ID: "41297781",
          ALERT_SCOPE: "host:web-1",
          DATE: "1795714872000",
        },
      },
    ],
  ])("%s keys read the same as the recommended template", (_style, payload) => {
    expect(same(alertOf(payload))).toEqual(same(expected));
  });

  it("prefers a top-level key over a wrapped one of the same name, and an earlier alias over a later one", () => {
    expect(alertOf({ ...withFields({ monitor_id: undefined, alert_id: "1" }), metadata: { ALERT_ID: "2" } }).labels.monitor_id).toBe("1");
    expect(alertOf(withFields({ monitor_id: "1", alert_id: "2" })).labels.monitor_id).toBe("2");
  });

  it("tolerates unknown fields of any type", () => {
    expect(alertOf({ ...triggered, custom: [1, { x: true }], flag: false, nothing: null }).dedupKey).toBe("datadog:41297781");
  });

  it("lists every alias in the README", () => {
    const readme = readFileSync(new URL("../../../../lib/adapters/datadog/README.md", import.meta.url), "utf8");
    for (const aliases of Object.values(FIELD_ALIASES)) for (const alias of aliases) expect(readme).toContain(`\`${alias}\``);
  });
});

describe("the rest of the alert", () => {
  it("takes sourceHost from $HOSTNAME, then a host: in scope or tags", () => {
    expect(alertOf(withFields({ hostname: "web-9", scope: "host:web-1" })).sourceHost).toBe("web-9");
    expect(alertOf(withFields({ scope: "host:web-1", tags: "host:web-2" })).sourceHost).toBe("web-1");
    expect(alertOf(withFields({ tags: "host:web-2" })).sourceHost).toBe("web-2");
  });

  it("reads the date as epoch ms or s, then last_updated", () => {
    expect(alertOf(triggered).occurredAt).toBe("2026-11-26T17:41:12.000Z");
    expect(alertOf(withFields({ date: "", date_posix: "1795714872" })).occurredAt).toBe("2026-11-26T17:41:12.000Z");
    expect(alertOf(withFields({ date: "$DATE", last_updated: "1795715560000" })).occurredAt).toBe("2026-11-26T17:52:40.000Z");
  });

  it("links the monitor on the event's Datadog site, and embeds only https snapshots", () => {
    const alert = alertOf(
      withFields({
        link: "https://app.datadoghq.eu/event/event?id=1",
        scope: "host:web-1",
        snapshot: "https://p.datadoghq.eu/snapshot/a.png",
      }),
    );
    expect(alert.links).toEqual([
      { href: "https://app.datadoghq.eu/monitors/41297781?group=host%3Aweb-1", text: "Datadog monitor" },
      { href: "https://app.datadoghq.eu/event/event?id=1", text: "Datadog event" },
    ]);
    expect(alert.images).toEqual([
      {
        src: "https://p.datadoghq.eu/snapshot/a.png",
        href: "https://app.datadoghq.eu/monitors/41297781?group=host%3Aweb-1",
        alt: "Datadog graph",
      },
    ]);
    expect(alertOf(withFields({ snapshot: "http://p.datadoghq.com/a.png" })).images).toEqual([]);
  });

  it("keeps the summary within 1024 characters", () => {
    const alert = alertOf(withFields({ title: `[Triggered] ${"CPU high ".repeat(500)}` }));
    expect(alert.summary.length).toBeLessThanOrEqual(LIMITS.summaryChars);
    expect(alert.summary.startsWith("[Triggered] CPU high")).toBe(true);
  });

  it("falls back to alert_title, then the message's first line, for the summary", () => {
    expect(alertOf(withFields({ title: "", alert_title: "CPU high" })).summary).toBe("[Triggered] CPU high");
    expect(alertOf(withFields({ title: "$EVENT_TITLE", message: "\n\nCPU above 90%\nmore" })).summary).toBe("[Triggered] CPU above 90%");
  });
});

describe("alert id", () => {
  it("is the same when Datadog retries the same event", () => {
    const first = run(triggered, defaultConfig, RECEIVED_AT);
    const retry = run(structuredClone(triggered), defaultConfig, "2026-11-26T18:00:09.000Z");
    expect(first.ok && retry.ok && first.alerts[0]!.id === retry.alerts[0]!.id).toBe(true);
  });

  it("differs between events, and without $ID between transitions at one time", () => {
    expect(alertOf(withFields({ id: "1" })).id).not.toBe(alertOf(withFields({ id: "2" })).id);
    expect(alertOf(withFields({ id: "", transition: "Warn" })).id).not.toBe(alertOf(withFields({ id: "", transition: "Triggered" })).id);
    expect(alertOf(withFields({ id: "" })).id).toBe(alertOf(withFields({ id: "$ID" })).id);
  });
});

describe("rejections", () => {
  it.each([
    [null, "null"],
    ["[Triggered] CPU high", "a string"],
    [42, "a number"],
    [[triggered], "an array"],
  ])("rejects %j at the root", (payload, what) => {
    expect(rejectionOf(payload)).toEqual({
      code: "wrong_shape",
      message: `expected a JSON object (the webhook's payload template), got ${what}`,
      path: "",
    });
  });

  it("rejects a field of the wrong type with its path", () => {
    expect(rejectionOf(withFields({ title: true }))).toEqual({
      code: "wrong_shape",
      message: "expected text (Datadog sends every $VARIABLE as a string), got a boolean",
      path: "title",
    });
    expect(rejectionOf({ ...withFields({ monitor_id: undefined }), alert: { id: ["1"] } }).path).toBe("alert.id");
  });
});
