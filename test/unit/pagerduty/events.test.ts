import { describe, expect, it } from "vitest";
import {
  MAX_EVENT_BYTES,
  eventBytes,
  eventsEndpoint,
  fitEventSize,
  maskRoutingKey,
  toPagerDutyEvent,
  type PagerDutyChangeEvent,
  type PagerDutyTriggerEvent,
} from "../../../lib/pagerduty/payloads.ts";
import { validateAlertRequest } from "../../support/fake-pagerduty.ts";
import { ROUTING_KEY, sampleAlert } from "../../support/sample-alert.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const fakePagerDutyErrors = (event: unknown) => validateAlertRequest(JSON_HEADERS, Buffer.from(JSON.stringify(event)));

describe("toPagerDutyEvent", () => {
  it("maps every field of a firing alert onto a trigger", () => {
    const alert = sampleAlert();
    expect(toPagerDutyEvent(alert, "trigger", ROUTING_KEY, { clientUrl: "https://relay.example.com" })).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      dedup_key: "prometheus:checkout:HighLatency",
      payload: {
        summary: "checkout p99 latency above 2 s",
        source: "checkout-7f9c.prod.example.com",
        severity: "error",
        timestamp: "2026-11-26T17:59:30.000Z",
        component: "checkout-api",
        group: "payments",
        class: "latency",
        custom_details: {
          value: "2.4",
          expr: "histogram_quantile(0.99, ...) > 2",
          labels: { alertname: "HighLatency", service: "checkout", env: "prod", team: "payments" },
          source: "prometheus",
          alert_id: "prometheus:0123456789abcdef0123456789abcdef",
        },
      },
      links: [{ href: "https://runbooks.example.com/checkout-latency", text: "Runbook" }],
      images: [
        { src: "https://grafana.example.com/render/latency.png", href: "https://grafana.example.com/d/latency", alt: "p99 latency" },
      ],
      client: "alert-relay",
      client_url: "https://relay.example.com",
    });
  });

  it("produces triggers the strict fake accepts, for every severity", () => {
    for (const severity of ["critical", "error", "warning", "info"] as const) {
      expect(fakePagerDutyErrors(toPagerDutyEvent(sampleAlert({ severity }), "trigger", ROUTING_KEY))).toEqual([]);
    }
  });

  it("leaves out optional fields the alert does not have, and takes a client name", () => {
    const alert = sampleAlert({ component: undefined, group: undefined, class: undefined, links: [], images: [] });
    const event = toPagerDutyEvent(alert, "trigger", ROUTING_KEY, { client: "relay-staging" });
    expect(Object.keys(event).sort()).toEqual(["client", "dedup_key", "event_action", "payload", "routing_key"]);
    expect(Object.keys(event.payload).sort()).toEqual(["custom_details", "severity", "source", "summary", "timestamp"]);
    expect(event.client).toBe("relay-staging");
  });

  it("keeps details that collide with the relay's own keys under conflicting_details", () => {
    const alert = sampleAlert({ details: { source: "node-exporter", labels: "raw", alert_id: 7, value: "1" } });
    expect(toPagerDutyEvent(alert, "trigger", ROUTING_KEY).payload.custom_details).toEqual({
      value: "1",
      conflicting_details: { source: "node-exporter", labels: "raw", alert_id: 7 },
      labels: alert.labels,
      source: "prometheus",
      alert_id: alert.id,
    });
  });

  it("does not share arrays or label maps with the alert", () => {
    const alert = sampleAlert();
    const event = toPagerDutyEvent(alert, "trigger", ROUTING_KEY);
    event.links?.push({ href: "https://x.example.com" });
    (event.payload.custom_details?.labels as Record<string, string>).env = "changed";
    expect(alert.links).toHaveLength(1);
    expect(alert.labels.env).toBe("prod");
  });

  it("maps a resolve to routing key, action and dedup key only", () => {
    const event = toPagerDutyEvent(sampleAlert({ status: "resolved" }), "resolve", ROUTING_KEY);
    expect(event).toStrictEqual({ routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: "prometheus:checkout:HighLatency" });
  });

  it("fits an alert whose details are too large", () => {
    const alert = { ...sampleAlert(), details: { dump: "x".repeat(MAX_EVENT_BYTES) } };
    const event = toPagerDutyEvent(alert, "trigger", ROUTING_KEY);
    expect(eventBytes(event)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(event.payload.custom_details?.note).toMatch(/dropped/);
    expect(fakePagerDutyErrors(event)).toEqual([]);
  });
});

function triggerWith(overrides: Partial<PagerDutyTriggerEvent> = {}, customDetails: Record<string, unknown> = {}): PagerDutyTriggerEvent {
  const base = toPagerDutyEvent(sampleAlert(), "trigger", ROUTING_KEY);
  return { ...base, payload: { ...base.payload, custom_details: { ...base.payload.custom_details, ...customDetails } }, ...overrides };
}

describe("fitEventSize", () => {
  it("returns an event within the limit unchanged, up to exactly 512000 bytes", () => {
    const small = triggerWith();
    expect(fitEventSize(small)).toBe(small);
    const padding = MAX_EVENT_BYTES - eventBytes(triggerWith({}, { pad: "" }));
    const exact = triggerWith({}, { pad: "p".repeat(padding) });
    expect(eventBytes(exact)).toBe(MAX_EVENT_BYTES);
    expect(fitEventSize(exact)).toBe(exact);
    const oneOver = triggerWith({}, { pad: "p".repeat(padding + 1) });
    expect(fitEventSize(oneOver)).not.toBe(oneOver);
    expect(eventBytes(fitEventSize(oneOver))).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });

  it("measures UTF-8 bytes, not characters: multi-byte details under 512000 characters are still dropped", () => {
    const euros = "€".repeat(200_000); // 200 000 characters, 600 000 bytes
    const event = triggerWith({}, { dump: euros });
    expect(JSON.stringify(event).length).toBeLessThan(MAX_EVENT_BYTES);
    expect(eventBytes(event)).toBeGreaterThan(MAX_EVENT_BYTES);

    const fitted = fitEventSize(event);
    expect(eventBytes(fitted)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    const details = fitted.payload.custom_details ?? {};
    expect(details.dump).toBeUndefined();
    expect(details.labels).toEqual(sampleAlert().labels);
    expect(details.dropped_bytes).toBe(eventBytes(event.payload.custom_details));
    expect(details.note).toContain(`the event was ${eventBytes(event)} bytes`);
    expect(details.note).toContain("512000");
  });

  it("keeps everything but custom_details: payload fields, links, images, dedup key", () => {
    const event = triggerWith({}, { dump: "x".repeat(MAX_EVENT_BYTES) });
    const fitted = fitEventSize(event);
    const { custom_details: _dropped, ...payloadRest } = event.payload;
    expect(fitted).toMatchObject({ ...event, payload: payloadRest });
    expect(fitted.links).toEqual(event.links);
    expect(fitted.images).toEqual(event.images);
  });

  it("drops the labels too when they alone are too large", () => {
    const hugeLabels = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`label${i}`, "v".repeat(1000)]));
    const fitted = fitEventSize(triggerWith({}, { labels: hugeLabels }));
    expect(eventBytes(fitted)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(Object.keys(fitted.payload.custom_details ?? {}).sort()).toEqual(["dropped_bytes", "note"]);
  });

  it("then drops images, and links only if still over", () => {
    const bigImages = Array.from({ length: 300 }, (_, i) => ({ src: `https://img.example.com/${i}/${"i".repeat(2000)}.png` }));
    const withImages = fitEventSize(triggerWith({ images: bigImages }));
    expect(withImages.images).toBeUndefined();
    expect(withImages.links).toEqual(triggerWith().links);

    const bigLinks = Array.from({ length: 300 }, (_, i) => ({ href: `https://links.example.com/${i}/${"l".repeat(2000)}` }));
    const withLinks = fitEventSize(triggerWith({ links: bigLinks }));
    expect(withLinks.links).toBeUndefined();
    expect(withLinks.images).toBeUndefined();
    expect(eventBytes(withLinks)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });

  it("fits change events the same way", () => {
    const change: PagerDutyChangeEvent = {
      routing_key: ROUTING_KEY,
      payload: { summary: "deploy 42", custom_details: { log: "ü".repeat(300_000) } },
    };
    const fitted = fitEventSize(change);
    expect(eventBytes(fitted)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(fitted.payload.summary).toBe("deploy 42");
    expect(fitted.payload.custom_details?.note).toMatch(/custom_details \(\d+ bytes\) dropped/);
  });
});

describe("eventsEndpoint", () => {
  it("defaults to the US endpoint", () => {
    expect(eventsEndpoint({})).toBe("https://events.pagerduty.com");
    expect(eventsEndpoint({ PAGERDUTY_REGION: "" })).toBe("https://events.pagerduty.com");
    expect(eventsEndpoint({ PAGERDUTY_REGION: "us" })).toBe("https://events.pagerduty.com");
  });

  it("uses the EU endpoint for region eu, in any case", () => {
    expect(eventsEndpoint({ PAGERDUTY_REGION: "eu" })).toBe("https://events.eu.pagerduty.com");
    expect(eventsEndpoint({ PAGERDUTY_REGION: " EU " })).toBe("https://events.eu.pagerduty.com");
  });

  it("takes the full endpoint as written in Alertmanager's and PagerDuty's docs (…/v2/enqueue) as its base", () => {
    expect(eventsEndpoint({ PAGERDUTY_EVENTS_URL: "https://events.pagerduty.com/v2/enqueue" })).toBe("https://events.pagerduty.com");
    expect(eventsEndpoint({ PAGERDUTY_EVENTS_URL: "http://127.0.0.1:9999/v2/enqueue/" })).toBe("http://127.0.0.1:9999");
    expect(eventsEndpoint({ PAGERDUTY_EVENTS_URL: "https://proxy.example.com/pagerduty/v2/change/enqueue" })).toBe(
      "https://proxy.example.com/pagerduty",
    );
  });

  it("prefers PAGERDUTY_EVENTS_URL, without a trailing slash", () => {
    expect(eventsEndpoint({ PAGERDUTY_EVENTS_URL: "http://127.0.0.1:9999/", PAGERDUTY_REGION: "eu" })).toBe("http://127.0.0.1:9999");
    expect(eventsEndpoint({ PAGERDUTY_EVENTS_URL: "https://proxy.example.com/pagerduty" })).toBe("https://proxy.example.com/pagerduty");
  });

  it("names the variable and the value when a setting is invalid", () => {
    expect(() => eventsEndpoint({ PAGERDUTY_REGION: "ap" })).toThrow(/PAGERDUTY_REGION must be "us" or "eu".*"ap"/);
    expect(() => eventsEndpoint({ PAGERDUTY_EVENTS_URL: "127.0.0.1:9999" })).toThrow(/PAGERDUTY_EVENTS_URL/);
    expect(() => eventsEndpoint({ PAGERDUTY_EVENTS_URL: "not a url" })).toThrow(/PAGERDUTY_EVENTS_URL must be an absolute/);
    expect(() => eventsEndpoint({ PAGERDUTY_EVENTS_URL: "ftp://example.com" })).toThrow(/http or https/);
  });
});

describe("maskRoutingKey", () => {
  it("shows two characters at each end and the length", () => {
    expect(maskRoutingKey(ROUTING_KEY)).toBe("R0…7f (32 chars)");
    expect(maskRoutingKey(ROUTING_KEY)).not.toContain("aaaa");
  });

  it("shows nothing of keys too short to hide", () => {
    expect(maskRoutingKey("secret1")).toBe("… (7 chars)");
    expect(maskRoutingKey("")).toBe("(empty routing key)");
  });
});
