/**
 * The PagerDuty-compatible ingest (POST /v2/enqueue, /v2/change/enqueue): Events API v2 bodies in,
 * PagerDuty's answers out, normalized alerts, acknowledge and change messages on the queue. Examples follow
 * PagerDuty's published ones (its OpenAPI description's trigger event) and its documented rules.
 */
import { describe, expect, it, vi } from "vitest";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { parseAlert, type NormalizedAlert } from "../../../lib/alert/schema.ts";
import { LIMITS } from "../../../lib/alert/limits.ts";
import type { AcknowledgeMessage } from "../../../lib/messages/acknowledge-message.ts";
import type { ChangeMessage } from "../../../lib/messages/change-message.ts";
import { parseQueueMessage } from "../../../lib/messages/queue-message.ts";
import { EVENTS_V2_SOURCE, MAX_DETAIL_LABEL_CHARS, labelsFor, readAlertEvent } from "../../../lib/ingest/pagerduty-events/events-v2.ts";
import { createPagerDutyEventsHandler } from "../../../lib/handlers/pagerduty-events.ts";
import { PublishError } from "../../../lib/publish/sqs-publisher.ts";
import { METRIC, createTelemetry } from "../../../lib/platform/observability.ts";
import { httpEvent } from "../../support/http-event.ts";
import { lambdaContext } from "../../support/lambda-context.ts";

const NOW = "2026-11-26T18:00:00.000Z";
const ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6";
const TOKEN = "R3layT0kenForEventsApiTests00001";

/** PagerDuty's own example trigger event (its Events API v2 OpenAPI description). */
const PAGERDUTY_EXAMPLE = {
  payload: {
    summary: "DISK at 99% on machine prod-datapipe03.example.com",
    timestamp: "2015-07-17T08:42:58.315+0000",
    severity: "critical",
    source: "prod-datapipe03.example.com",
    component: "mysql",
    group: "prod-datapipe",
    class: "disk",
    custom_details: { "free space": "1%", "ping time": "1500ms", "load avg": 0.75 },
  },
  routing_key: ROUTING_KEY,
  dedup_key: "srv01/mysql",
  event_action: "trigger",
  client: "Sample Monitoring Service",
  client_url: "https://monitoring.service.com",
  links: [{ href: "http://pagerduty.example.com", text: "An example link." }],
  images: [
    {
      src: "https://chart.googleapis.com/chart?chs=600x400&chd=t:6,2,9,5,2,5,7,4,8,2,1&cht=lc&chds=a&chxt=y&chm=D,0033FF,0,0,5,1",
      href: "https://google.com",
      alt: "An example link with an image",
    },
  ],
};

const minimalTrigger = (extra: Record<string, unknown> = {}) => ({
  routing_key: ROUTING_KEY,
  event_action: "trigger",
  payload: { summary: "Checkout latency high", source: "web-1", severity: "error" },
  ...extra,
});

function setup(options: { token?: string; failPublish?: boolean } = {}) {
  const published: NormalizedAlert[] = [];
  const changes: ChangeMessage[] = [];
  const acks: AcknowledgeMessage[] = [];
  const telemetry = createTelemetry("ingest", { source: EVENTS_V2_SOURCE });
  const logged: unknown[] = [];
  for (const level of ["debug", "info", "warn", "error"] as const) {
    vi.spyOn(telemetry.logger, level).mockImplementation((...args: unknown[]) => void logged.push(args));
  }
  const addMetric = vi.spyOn(telemetry.metrics, "addMetric");
  const count = vi.spyOn(telemetry.metrics, "count");
  let generated = 0;
  const handler = createPagerDutyEventsHandler({
    ...telemetry,
    webhookToken: async () => options.token,
    now: () => new Date(NOW),
    newDedupKey: () => `generated-${(generated += 1)}`,
    publisher: {
      async publish(alerts) {
        if (options.failPublish) throw new PublishError(alerts.length, alerts.length, "queue down");
        // The publisher validates on the way in; so does this stand-in.
        published.push(...alerts.map((alert) => parseAlert(alert)));
      },
    },
    messagePublisher: {
      async publish(message) {
        if (options.failPublish) throw new Error("queue down");
        // Validated like the real publisher does.
        const parsed = parseQueueMessage(message);
        if (parsed.kind === "pagerduty-change") changes.push(parsed);
        else acks.push(parsed);
      },
    },
  });
  const post = async (body: unknown, opts: { path?: string; headers?: Record<string, string>; method?: string } = {}) => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const response = (await handler(
      httpEvent(text, { path: opts.path ?? "/v2/enqueue", ...opts }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    return { status: response.statusCode, body: JSON.parse(response.body as string) as Record<string, unknown>, headers: response.headers };
  };
  return { post, published, changes, acks, logged, addMetric, count };
}

describe("alert events (POST /v2/enqueue)", () => {
  it("takes PagerDuty's own example trigger unchanged and answers exactly as PagerDuty does", async () => {
    const { post, published, count } = setup();
    const answer = await post(PAGERDUTY_EXAMPLE);
    expect(answer).toMatchObject({ status: 202, headers: { "content-type": "application/json" } });
    expect(answer.body).toEqual({ status: "success", message: "Event processed", dedup_key: "srv01/mysql" });
    expect(published).toHaveLength(1);
    // Counted where the dashboard's "alerts in, per source" looks (a count line, lib/platform/observability.ts).
    expect(count).toHaveBeenCalledWith(METRIC.alertsAccepted, EVENTS_V2_SOURCE, 1);
    expect(published[0]).toEqual({
      schema: 1,
      id: expect.stringMatching(/^events-v2:[0-9a-f]{32}$/),
      source: "events-v2",
      dedupKey: "srv01/mysql",
      status: "firing",
      severity: "critical",
      // Ordered by arrival, like PagerDuty: the sender's timestamp is kept in details.
      occurredAt: NOW,
      receivedAt: NOW,
      summary: "DISK at 99% on machine prod-datapipe03.example.com",
      sourceHost: "prod-datapipe03.example.com",
      component: "mysql",
      group: "prod-datapipe",
      class: "disk",
      links: [
        { href: "https://monitoring.service.com", text: "View in Sample Monitoring Service" },
        { href: "http://pagerduty.example.com", text: "An example link." },
      ],
      images: [PAGERDUTY_EXAMPLE.images[0]],
      details: { "free space": "1%", "ping time": "1500ms", "load avg": 0.75, timestamp: "2015-07-17T08:42:58.315+0000" },
      labels: {
        source_host: "prod-datapipe03.example.com",
        component: "mysql",
        group: "prod-datapipe",
        class: "disk",
        client: "Sample Monitoring Service",
        free_space: "1%",
        ping_time: "1500ms",
      },
    });
  });

  it("generates a dedup key for a trigger without one (or with a blank one) and returns it, as PagerDuty does", async () => {
    const { post, published } = setup();
    expect((await post(minimalTrigger())).body).toEqual({ status: "success", message: "Event processed", dedup_key: "generated-1" });
    expect((await post(minimalTrigger({ dedup_key: " " }))).body).toMatchObject({ dedup_key: "generated-2" });
    expect(published.map((alert) => alert.dedupKey)).toEqual(["generated-1", "generated-2"]);
    expect(published[0]).toMatchObject({
      summary: "Checkout latency high",
      sourceHost: "web-1",
      severity: "error",
      labels: { source_host: "web-1" },
      details: {},
    });
  });

  it("turns a resolve (routing_key, event_action, dedup_key only) into a resolved alert the contract accepts", async () => {
    const { post, published } = setup();
    const answer = await post({ routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: "srv01/mysql" });
    expect(answer).toMatchObject({ status: 202, body: { status: "success", message: "Event processed", dedup_key: "srv01/mysql" } });
    expect(published).toEqual([
      expect.objectContaining({
        source: "events-v2",
        dedupKey: "srv01/mysql",
        status: "resolved",
        occurredAt: NOW,
        summary: "events-v2 alert srv01/mysql",
        labels: {},
      }),
    ]);
  });

  it("queues an acknowledge as a message of its own (the dedup key, never the routing_key) and answers like PagerDuty", async () => {
    const { post, published, acks, logged, addMetric } = setup();
    const answer = await post({ routing_key: ROUTING_KEY, event_action: "acknowledge", dedup_key: "srv01/mysql" });
    expect(answer).toMatchObject({ status: 202, body: { status: "success", message: "Event processed", dedup_key: "srv01/mysql" } });
    // Not an alert: the normalized contract knows firing and resolved only.
    expect(published).toEqual([]);
    expect(acks).toEqual([
      {
        kind: "pagerduty-acknowledge",
        schema: 1,
        id: expect.stringMatching(/^events-v2-acknowledge:/),
        source: "events-v2",
        dedupKey: "srv01/mysql",
        receivedAt: NOW,
      },
    ]);
    expect(JSON.stringify(acks)).not.toContain(ROUTING_KEY);
    expect(logged).toContainEqual(["acknowledge queued", { acknowledgeId: acks[0]!.id, dedupKey: "srv01/mysql" }]);
    expect(addMetric).toHaveBeenCalledWith(METRIC.acknowledgesAccepted, "Count", 1);
  });

  it("answers 503 to an acknowledge the queue will not take, so the sender retries", async () => {
    const { post, acks, addMetric } = setup({ failPublish: true });
    expect((await post({ routing_key: ROUTING_KEY, event_action: "acknowledge", dedup_key: "srv01/mysql" })).status).toBe(503);
    expect(acks).toEqual([]);
    expect(addMetric).toHaveBeenCalledWith(METRIC.publishFailures, "Count", 1);
    expect(addMetric).not.toHaveBeenCalledWith(METRIC.acknowledgesAccepted, expect.anything(), expect.anything());
  });

  it("keeps a dedup key exactly as sent, up to PagerDuty's 255 characters", async () => {
    const { post, published } = setup();
    const key = `${"k".repeat(250)} ü:/x`;
    expect((await post(minimalTrigger({ dedup_key: key }))).body).toMatchObject({ dedup_key: key });
    expect(published[0]!.dedupKey).toBe(key);
  });

  // PagerDuty's rules (reference: /work/shared/reference/pagerduty-events-v2.md), one row each; every error is listed at once.
  const invalid: [string, unknown, string[]][] = [
    ["no event_action", { routing_key: ROUTING_KEY }, ["'event_action' is missing or blank"]],
    [
      "an unknown event_action",
      { routing_key: ROUTING_KEY, event_action: "create" },
      ["'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"],
    ],
    ["no routing_key", { event_action: "resolve", dedup_key: "x" }, ["'routing_key' is missing or blank"]],
    ["a blank routing_key", { routing_key: " ", event_action: "resolve", dedup_key: "x" }, ["'routing_key' is missing or blank"]],
    ["a resolve without dedup_key", { routing_key: ROUTING_KEY, event_action: "resolve" }, ["'dedup_key' is missing or blank"]],
    [
      "an acknowledge with a blank dedup_key",
      { routing_key: ROUTING_KEY, event_action: "acknowledge", dedup_key: "" },
      ["'dedup_key' is missing or blank"],
    ],
    [
      "a dedup_key over 255 characters",
      minimalTrigger({ dedup_key: "k".repeat(256) }),
      ["Length of 'dedup_key' is incorrect (should be at most 255 characters)"],
    ],
    ["a dedup_key that is an object", minimalTrigger({ dedup_key: { id: 1 } }), ["'dedup_key' is invalid (must be a string)"]],
    // A sender's resolve for "storm:default" would otherwise close alert-relay's storm incident.
    [
      "a resolve for one of alert-relay's own keys",
      { routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: "storm:default" },
      [`'dedup_key' is invalid (may not start with "storm:": alert-relay keeps such keys for its own records)`],
    ],
    [
      "a trigger with a heartbeat key",
      minimalTrigger({ dedup_key: "heartbeat-missing:prometheus-watchdog" }),
      [`'dedup_key' is invalid (may not start with "heartbeat-missing:": alert-relay keeps such keys for its own records)`],
    ],
    ["a trigger without payload", { routing_key: ROUTING_KEY, event_action: "trigger" }, ["'payload' is missing or blank"]],
    [
      "a trigger with an empty payload",
      { routing_key: ROUTING_KEY, event_action: "trigger", payload: {} },
      ["'payload.summary' is missing or blank", "'payload.source' is missing or blank", "'payload.severity' is missing or blank"],
    ],
    [
      "severity Info (PagerDuty takes lower case only)",
      minimalTrigger({ payload: { summary: "s", source: "h", severity: "Info" } }),
      ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"],
    ],
    [
      "severity high (a synonym, not PagerDuty's word)",
      minimalTrigger({ payload: { summary: "s", source: "h", severity: "high" } }),
      ["'payload.severity' is invalid (must be one of: critical, error, warning, info)"],
    ],
    [
      "a summary that is an object",
      minimalTrigger({ payload: { summary: { text: "s" }, source: "h", severity: "info" } }),
      ["'payload.summary' is invalid (must be a string)"],
    ],
    // PagerDuty's schema types these as strings and refuses numbers and booleans; they are not turned into text.
    [
      "a numeric summary and a boolean source",
      minimalTrigger({ payload: { summary: 503, source: true, severity: "info" } }),
      ["'payload.summary' is invalid (must be a string)", "'payload.source' is invalid (must be a string)"],
    ],
    ["a numeric dedup_key", minimalTrigger({ dedup_key: 12345 }), ["'dedup_key' is invalid (must be a string)"]],
    [
      "several problems at once",
      { event_action: "trigger", dedup_key: "d".repeat(300), payload: { summary: "  ", source: "h", severity: "page" } },
      [
        "'routing_key' is missing or blank",
        "Length of 'dedup_key' is incorrect (should be at most 255 characters)",
        "'payload.summary' is missing or blank",
        "'payload.severity' is invalid (must be one of: critical, error, warning, info)",
      ],
    ],
  ];

  it.each(invalid)("refuses %s with PagerDuty's 400, naming the field, and queues nothing", async (_name, body, errors) => {
    const { post, published, logged } = setup();
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ status: "invalid event", message: "Event object is invalid", errors });
    expect(published).toEqual([]);
    expect(logged).toContainEqual(["input rejected", expect.objectContaining({ reason: "invalid_event", errors })]);
  });

  it("answers a body that is not a JSON object as PagerDuty answers one it cannot parse", async () => {
    const { post } = setup();
    for (const body of ["routing_key=abc&event_action=trigger", "", "[1,2]", '"text"']) {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        status: "Unrecognized object",
        message: "Event object format is unrecognized",
        errors: [expect.any(String)],
      });
    }
    expect((await post("{oops")).body.errors).toEqual(["JSON parse error"]);
  });

  it("is lenient where PagerDuty's fields are optional: drops what cannot be shown, keeps the page", async () => {
    const { post, published } = setup();
    const answer = await post(
      minimalTrigger({
        links: [
          { href: "javascript:alert(1)" },
          "not-an-object",
          { text: "no href" },
          { href: "https://runbook.example.com/checkout", text: "Runbook" },
        ],
        images: [{ src: "http://insecure.example.com/x.png" }, { src: "https://grafana.example.com/x.png", alt: "graph" }],
        client_url: 42,
        payload: {
          summary: "503",
          source: "web-1",
          severity: "warning",
          component: { nested: true },
          timestamp: "yesterday",
          custom_details: "plain text details",
        },
      }),
    );
    expect(answer.status).toBe(202);
    expect(published[0]).toMatchObject({
      summary: "503",
      links: [{ href: "https://runbook.example.com/checkout", text: "Runbook" }],
      images: [{ src: "https://grafana.example.com/x.png", alt: "graph" }],
      details: { details: "plain text details", timestamp: "yesterday" },
    });
    expect(published[0]!.component).toBeUndefined();
  });

  it("bounds what PagerDuty allows but the contract does not: summary to 1024, details to 32 K", async () => {
    const { post, published } = setup();
    const answer = await post(
      minimalTrigger({
        payload: { summary: "s".repeat(3000), source: "h", severity: "info", custom_details: { log: "x".repeat(100_000) } },
      }),
    );
    expect(answer.status).toBe(202);
    expect(published[0]!.summary).toHaveLength(LIMITS.summaryChars);
    expect(JSON.stringify(published[0]!.details).length).toBeLessThanOrEqual(LIMITS.detailsChars);
  });

  it("answers 503 when the queue will not take the event, so the sender retries (as it does PagerDuty's 5xx)", async () => {
    const { post, addMetric } = setup({ failPublish: true });
    const answer = await post(PAGERDUTY_EXAMPLE);
    expect(answer.status).toBe(503);
    expect(addMetric).toHaveBeenCalledWith(METRIC.publishFailures, "Count", 1);
  });

  it("answers 404 on other paths and 405 for other methods", async () => {
    const { post } = setup();
    expect((await post(PAGERDUTY_EXAMPLE, { path: "/v1/enqueue" })).status).toBe(404);
    expect((await post(PAGERDUTY_EXAMPLE, { method: "GET" })).status).toBe(405);
    // A custom domain's base path in front, or a trailing slash, still reaches the endpoint.
    expect((await post(PAGERDUTY_EXAMPLE, { path: "/relay/v2/enqueue/" })).status).toBe(202);
  });
});

describe("the routing_key is the sender's credential", () => {
  it("accepts the webhook token as routing_key, or as a Bearer token beside any routing_key", async () => {
    const { post, published } = setup({ token: TOKEN });
    expect((await post({ ...PAGERDUTY_EXAMPLE, routing_key: TOKEN })).status).toBe(202);
    expect((await post(PAGERDUTY_EXAMPLE, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(202);
    expect(published).toHaveLength(2);
  });

  it("answers a wrong or missing key as PagerDuty answers one, queues nothing, and never logs the key", async () => {
    const { post, published, logged, count } = setup({ token: TOKEN });
    const wrong = await post(PAGERDUTY_EXAMPLE);
    expect(wrong).toMatchObject({
      status: 400,
      body: { status: "invalid event", message: "Event object is invalid", errors: ["Invalid routing key"] },
    });
    const wrongBearer = await post(PAGERDUTY_EXAMPLE, { headers: { authorization: "Bearer nope" } });
    expect(wrongBearer.body.errors).toEqual(["Invalid routing key"]);
    const { routing_key: _key, ...withoutKey } = PAGERDUTY_EXAMPLE;
    expect((await post(withoutKey)).body.errors).toEqual(["'routing_key' is missing or blank"]);
    expect((await post({ routing_key: ROUTING_KEY, payload: { summary: "deploy" } }, { path: "/v2/change/enqueue" })).body.errors).toEqual([
      "Invalid routing key",
    ]);
    expect(published).toEqual([]);
    expect(count).not.toHaveBeenCalled();
    expect(logged).toContainEqual(["input rejected", expect.objectContaining({ reason: "unauthorized" })]);
    // Neither the sender's key nor the token appears in any log line, accepted or refused.
    await post({ ...PAGERDUTY_EXAMPLE, routing_key: TOKEN });
    await post({ routing_key: TOKEN, event_action: "trigger", payload: {} });
    const text = JSON.stringify(logged);
    expect(text).not.toContain(ROUTING_KEY);
    expect(text).not.toContain(TOKEN);
  });

  it("never puts the routing_key on the queue", async () => {
    const { post, published, changes } = setup();
    await post(PAGERDUTY_EXAMPLE);
    await post(
      { routing_key: ROUTING_KEY, payload: { summary: "deploy", custom_details: { sha: "abc" } } },
      { path: "/v2/change/enqueue" },
    );
    expect(JSON.stringify([published, changes])).not.toContain(ROUTING_KEY);
  });
});

describe("change events (POST /v2/change/enqueue)", () => {
  const change = {
    routing_key: ROUTING_KEY,
    payload: {
      summary: "Build #1542 deployed to checkout",
      timestamp: "2026-11-26T17:55:00+01:00",
      source: "ci.example.com",
      custom_details: { service: "checkout", team: "payments", "build number": "1542", duration_s: 312 },
    },
    links: [{ href: "https://ci.example.com/builds/1542", text: "Build 1542" }, { href: "ftp://old.example.com" }],
  };

  it("queues the change event without its routing_key, with labels for routing, and answers as PagerDuty does", async () => {
    const { post, changes, addMetric } = setup();
    const answer = await post(change, { path: "/v2/change/enqueue" });
    expect(answer).toMatchObject({ status: 202, body: { status: "success", message: "Change event processed" } });
    expect(changes).toEqual([
      {
        kind: "pagerduty-change",
        schema: 1,
        id: expect.stringMatching(/^events-v2-change:/),
        source: "events-v2",
        receivedAt: NOW,
        labels: { source_host: "ci.example.com", service: "checkout", team: "payments", build_number: "1542" },
        event: {
          payload: {
            summary: "Build #1542 deployed to checkout",
            source: "ci.example.com",
            timestamp: "2026-11-26T16:55:00.000Z",
            custom_details: change.payload.custom_details,
          },
          links: [{ href: "https://ci.example.com/builds/1542", text: "Build 1542" }],
        },
      },
    ]);
    expect(addMetric).toHaveBeenCalledWith(METRIC.changeEventsAccepted, "Count", 1);
  });

  it("refuses a change event without a summary, naming the field", async () => {
    const { post, changes } = setup();
    for (const [body, errors] of [
      [{ routing_key: ROUTING_KEY, payload: { source: "ci" } }, ["'payload.summary' is missing or blank"]],
      [{ routing_key: ROUTING_KEY }, ["'payload' is missing or blank"]],
      [{ payload: { summary: " " } }, ["'routing_key' is missing or blank", "'payload.summary' is missing or blank"]],
    ] as const) {
      const answer = await post(body, { path: "/v2/change/enqueue" });
      expect(answer).toEqual({
        status: 400,
        headers: expect.anything(),
        body: { status: "invalid event", message: "Event object is invalid", errors },
      });
    }
    expect(changes).toEqual([]);
  });

  it("answers 503 when the queue will not take it", async () => {
    const { post } = setup({ failPublish: true });
    expect((await post(change, { path: "/v2/change/enqueue" })).status).toBe(503);
  });
});

describe("labels from an event", () => {
  it("takes the event's own fields, then short top-level string details; never lets a detail override them or severity", () => {
    const labels = labelsFor(
      { source_host: "web-1", component: "db", client: "Grafana" },
      {
        severity: "info",
        source_host: "spoofed",
        component: "spoofed",
        team: "payments",
        count: 3,
        nested: { a: "b" },
        long: "x".repeat(MAX_DETAIL_LABEL_CHARS + 1),
        "env name": "prod",
        dedupKey: "other",
      },
    );
    expect(labels).toEqual({ source_host: "web-1", component: "db", client: "Grafana", team: "payments", env_name: "prod" });
  });

  it("stays within the contract's label limit", () => {
    const details = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`d${String(i).padStart(3, "0")}`, "v"]));
    const labels = labelsFor({ source_host: "h", component: "c" }, details);
    expect(Object.keys(labels)).toHaveLength(LIMITS.labels);
    expect(labels).toMatchObject({ source_host: "h", component: "c", d000: "v" });
  });

  it("keeps payload.severity even when a detail says otherwise", () => {
    const result = readAlertEvent(
      minimalTrigger({ payload: { summary: "s", source: "h", severity: "warning", custom_details: { severity: "critical" } } }),
      { receivedAt: NOW },
    );
    expect(result).toMatchObject({ ok: true, alert: { severity: "warning" } });
  });
});
