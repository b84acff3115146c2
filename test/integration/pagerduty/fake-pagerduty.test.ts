import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakePagerDuty, type FakePagerDuty } from "../../support/fake-pagerduty.ts";
import { MAX_EVENT_BYTES } from "../../../lib/pagerduty/payloads.ts";
import { OTHER_ROUTING_KEY, ROUTING_KEY } from "../../support/sample-alert.ts";

let fake: FakePagerDuty;
let clock = 1_000_000;

beforeAll(async () => {
  fake = await startFakePagerDuty({ now: () => clock });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  clock = 1_000_000;
});

async function post(body: unknown, { path = "/v2/enqueue", contentType = "application/json" } = {}) {
  const response = await fetch(fake.url + path, {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, retryAfter: response.headers.get("retry-after") };
}

function trigger(overrides: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) {
  return {
    routing_key: ROUTING_KEY,
    event_action: "trigger",
    dedup_key: "disk-full",
    payload: { summary: "disk full on db-1", source: "db-1.example.com", severity: "critical", ...payload },
    ...overrides,
  };
}
const followUp = (action: "acknowledge" | "resolve", dedupKey = "disk-full", routingKey = ROUTING_KEY) => ({
  routing_key: routingKey,
  event_action: action,
  dedup_key: dedupKey,
});

describe("fake PagerDuty: validation", () => {
  it("accepts a valid trigger with every optional field", async () => {
    const event = trigger(
      {
        images: [{ src: "https://img.example.com/a.png", href: "https://x.example.com", alt: "graph" }],
        links: [{ href: "https://runbook.example.com", text: "runbook" }],
        client: "alert-relay",
        client_url: "https://relay.example.com",
      },
      { timestamp: "2026-11-26T18:00:00.000+01:00", component: "postgres", group: "db", class: "disk", custom_details: { free: "0%" } },
    );
    const response = await post(event);
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ status: "success", message: "Event processed", dedup_key: "disk-full" });
    expect(fake.events).toHaveLength(1);
    expect(fake.events[0]).toMatchObject({
      receivedAt: clock,
      routingKey: ROUTING_KEY,
      action: "trigger",
      dedupKey: "disk-full",
      effect: "opened",
      event,
    });
    expect(fake.rejected).toEqual([]);
  });

  const violations: [string, unknown, RegExp][] = [
    ["routing_key missing", trigger({ routing_key: undefined }), /'routing_key' is missing/],
    ["routing_key of 31 characters", trigger({ routing_key: ROUTING_KEY.slice(1) }), /'routing_key' must be a 32-character/],
    ["routing_key not a string", trigger({ routing_key: 12 }), /'routing_key' must be a 32-character/],
    ["unknown event_action", trigger({ event_action: "close" }), /'event_action' must be one of trigger, acknowledge, resolve/],
    ["event_action missing", trigger({ event_action: undefined }), /'event_action' must be one of/],
    ["dedup_key over 255 characters", trigger({ dedup_key: "k".repeat(256) }), /'dedup_key' must be at most 255 characters/],
    ["empty dedup_key", trigger({ dedup_key: "" }), /'dedup_key' must be a non-empty string/],
    ["acknowledge without dedup_key", { routing_key: ROUTING_KEY, event_action: "acknowledge" }, /'dedup_key' is required for acknowledge/],
    ["resolve without dedup_key", { routing_key: ROUTING_KEY, event_action: "resolve" }, /'dedup_key' is required for resolve/],
    ["trigger without payload", trigger({ payload: undefined }), /'payload' must be an object/],
    ["summary missing", trigger({}, { summary: undefined }), /'payload.summary' is missing/],
    ["summary empty", trigger({}, { summary: "  " }), /'payload.summary' must be a non-empty string/],
    ["summary over 1024 characters", trigger({}, { summary: "s".repeat(1025) }), /'payload.summary' must be at most 1024 characters/],
    ["source missing", trigger({}, { source: undefined }), /'payload.source' is missing/],
    ["severity missing", trigger({}, { severity: undefined }), /'payload.severity' must be one of critical, error, warning, info/],
    ["severity capitalised", trigger({}, { severity: "Info" }), /'payload.severity' must be one of.*"Info"/],
    ["severity unknown", trigger({}, { severity: "fatal" }), /'payload.severity'/],
    ["timestamp not ISO 8601", trigger({}, { timestamp: "26/11/2026 18:00" }), /'payload.timestamp' must be an ISO 8601/],
    ["timestamp impossible date", trigger({}, { timestamp: "2026-13-45T99:00:00Z" }), /'payload.timestamp'/],
    ["component not a string", trigger({}, { component: 5 }), /'payload.component' must be a string/],
    ["group not a string", trigger({}, { group: ["a"] }), /'payload.group' must be a string/],
    ["class not a string", trigger({}, { class: {} }), /'payload.class' must be a string/],
    ["custom_details a string", trigger({}, { custom_details: "text" }), /'payload.custom_details' must be a JSON object/],
    ["custom_details an array", trigger({}, { custom_details: [1] }), /'payload.custom_details' must be a JSON object/],
    ["image without src", trigger({ images: [{ alt: "x" }] }), /'images\[0\].src' must be an https:\/\/ URL/],
    ["image over http", trigger({ images: [{ src: "http://img.example.com/a.png" }] }), /'images\[0\].src' must be an https/],
    ["images not an array", trigger({ images: { src: "https://a" } }), /'images' must be an array/],
    ["link without href", trigger({ links: [{ text: "runbook" }] }), /'links\[0\].href' is missing/],
    ["link text not a string", trigger({ links: [{ href: "https://a", text: 1 }] }), /'links\[0\].text' must be a string/],
    ["client not a string", trigger({ client: 1 }), /'client' must be a string/],
    ["body not an object", [trigger()], /body must be a JSON object/],
    ["body not JSON", "{routing_key:", /body is not valid JSON/],
  ];

  it.each(violations)("rejects %s with 400 and says why", async (_name, body, error) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ status: "invalid event", message: "Event object is invalid" });
    expect(
      (response.json?.errors as string[]).some((e) => error.test(e)),
      JSON.stringify(response.json?.errors),
    ).toBe(true);
    expect(fake.rejected).toHaveLength(1);
    expect(fake.events).toHaveLength(0);
    expect(fake.incidents()).toHaveLength(0);
  });

  it("reports every violation of one event, not only the first", async () => {
    const response = await post(trigger({ routing_key: "short" }, { severity: "Info", summary: "" }));
    expect(response.json?.errors).toHaveLength(3);
  });

  it("ignores the payload of acknowledge and resolve, as PagerDuty does", async () => {
    await post(trigger());
    const response = await post({ ...followUp("resolve"), payload: { severity: "Info" } });
    expect(response.status).toBe(202);
  });

  it("requires Content-Type application/json (a charset is fine)", async () => {
    expect((await post(trigger(), { contentType: "text/plain" })).status).toBe(400);
    expect(fake.rejected[0]?.errors).toEqual([expect.stringMatching(/Content-Type must be application\/json/)]);
    expect((await post(trigger(), { contentType: "application/json; charset=utf-8" })).status).toBe(202);
  });

  it("rejects a body over 512000 bytes, counting UTF-8 bytes", async () => {
    const withDetails = (text: string) => trigger({}, { custom_details: { text } });
    const overhead = Buffer.byteLength(JSON.stringify(withDetails("")));
    const fits = "é".repeat((MAX_EVENT_BYTES - overhead) / 2);
    expect((await post(withDetails(fits))).status).toBe(202);
    const response = await post(withDetails(`${fits}é`));
    expect(response.status).toBe(400);
    expect(response.json?.errors).toEqual([`event is ${MAX_EVENT_BYTES + 2} bytes; the limit is ${MAX_EVENT_BYTES} bytes`]);
  });

  it("generates a dedup key for a trigger without one", async () => {
    const response = await post(trigger({ dedup_key: undefined }));
    expect(response.status).toBe(202);
    expect(response.json?.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    expect(fake.openIncidents()[0]?.dedupKey).toBe(response.json?.dedup_key);
  });

  it("answers 404 for other paths and 405 for other methods, recording both", async () => {
    expect((await post(trigger(), { path: "/v1/enqueue" })).status).toBe(404);
    expect((await fetch(`${fake.url}/v2/enqueue`)).status).toBe(405);
    expect(fake.requests.map((r) => r.status)).toEqual([404, 405]);
  });
});

describe("fake PagerDuty: incident state", () => {
  it("opens, de-duplicates, acknowledges and resolves one incident", async () => {
    clock = 1000;
    await post(trigger());
    clock = 2000;
    expect((await post(trigger())).json?.dedup_key).toBe("disk-full");
    expect(fake.incidents()).toEqual([
      {
        routingKey: ROUTING_KEY,
        dedupKey: "disk-full",
        status: "triggered",
        triggers: 2,
        summary: "disk full on db-1",
        severity: "critical",
        openedAt: 1000,
      },
    ]);
    clock = 3000;
    await post(followUp("acknowledge"));
    expect(fake.openIncidents()[0]).toMatchObject({ status: "acknowledged", acknowledgedAt: 3000 });
    clock = 4000;
    await post(followUp("resolve"));
    expect(fake.openIncidents()).toEqual([]);
    expect(fake.incidents()[0]).toMatchObject({ status: "resolved", resolvedAt: 4000, triggers: 2 });
    expect(fake.events.map((e) => e.effect)).toEqual(["opened", "deduplicated", "acknowledged", "resolved"]);
    expect(fake.triggerCount("disk-full")).toBe(2);
  });

  it("opens a new incident for a trigger after the resolve", async () => {
    await post(trigger());
    await post(followUp("resolve"));
    await post(trigger());
    expect(fake.incidents().map((i) => i.status)).toEqual(["resolved", "triggered"]);
    expect(fake.events.map((e) => e.effect)).toEqual(["opened", "resolved", "opened"]);
  });

  it("drops acknowledge and resolve for unknown or resolved keys, still answering 202", async () => {
    expect((await post(followUp("resolve", "never-seen"))).status).toBe(202);
    expect((await post(followUp("acknowledge", "never-seen"))).status).toBe(202);
    await post(trigger());
    await post(followUp("resolve"));
    expect((await post(followUp("resolve"))).status).toBe(202);
    expect((await post(followUp("acknowledge"))).status).toBe(202);
    expect(fake.events.map((e) => e.effect)).toEqual(["dropped", "dropped", "opened", "resolved", "dropped", "dropped"]);
    expect(fake.incidents()).toHaveLength(1);
  });

  it("applies follow-ups only under the routing key of the trigger", async () => {
    await post(trigger());
    await post(followUp("resolve", "disk-full", OTHER_ROUTING_KEY));
    expect(fake.openIncidents()).toHaveLength(1);
    expect(fake.events.at(-1)?.effect).toBe("dropped");
    await post(trigger({ routing_key: OTHER_ROUTING_KEY }));
    expect(fake.openIncidents().map((i) => i.routingKey)).toEqual([ROUTING_KEY, OTHER_ROUTING_KEY]);
    await post(followUp("resolve"));
    expect(fake.openIncidents().map((i) => i.routingKey)).toEqual([OTHER_ROUTING_KEY]);
  });

  it("counts triggers per dedup key or in total", async () => {
    await post(trigger());
    await post(trigger({ dedup_key: "cpu-high" }));
    await post(trigger({ dedup_key: "cpu-high" }));
    expect(fake.triggerCount()).toBe(3);
    expect(fake.triggerCount("cpu-high")).toBe(2);
    expect(fake.triggerCount("unknown")).toBe(0);
  });

  it("hands out copies, so a test cannot change the fake's state by accident", async () => {
    await post(trigger());
    const [incident] = fake.incidents();
    if (incident) incident.status = "resolved";
    expect(fake.openIncidents()).toHaveLength(1);
  });

  it("forgets everything on reset", async () => {
    await post(trigger());
    await post({});
    fake.failNext(1, { status: 500 });
    fake.rateLimit({ perMinute: 0 });
    fake.reset();
    expect([fake.events, fake.rejected, fake.requests, fake.incidents()]).toEqual([[], [], [], []]);
    expect((await post(trigger())).status).toBe(202);
  });
});

describe("fake PagerDuty: change events", () => {
  const change = (payload: Record<string, unknown> = {}) => ({
    routing_key: ROUTING_KEY,
    payload: { summary: "deployed checkout v42", ...payload },
  });

  it("records a valid change event without touching incidents", async () => {
    const response = await post(change({ source: "ci", timestamp: "2026-11-26T18:00:00Z", custom_details: { sha: "abc" } }), {
      path: "/v2/change/enqueue",
    });
    expect(response.status).toBe(202);
    expect(fake.changeEvents).toHaveLength(1);
    expect(fake.changeEvents[0]?.event.payload.summary).toBe("deployed checkout v42");
    expect(fake.incidents()).toEqual([]);
  });

  it.each([
    ["routing key wrong", { ...change(), routing_key: "x" }, /'routing_key'/],
    ["summary missing", change({ summary: undefined }), /'payload.summary' is missing/],
    ["summary over 1024", change({ summary: "s".repeat(1025) }), /at most 1024/],
    ["payload missing", { routing_key: ROUTING_KEY }, /'payload' must be an object/],
  ])("rejects a change event with %s", async (_name, body, error) => {
    const response = await post(body, { path: "/v2/change/enqueue" });
    expect(response.status).toBe(400);
    expect(fake.rejected[0]?.errors.some((e) => error.test(e))).toBe(true);
    expect(fake.changeEvents).toHaveLength(0);
  });
});

describe("fake PagerDuty: fault injection", () => {
  it("fails the next n requests with the given status, body and Retry-After, without changing state", async () => {
    fake.failNext(2, { status: 429, retryAfter: 7 });
    const first = await post(trigger());
    expect(first).toMatchObject({ status: 429, retryAfter: "7", json: undefined });
    expect((await post(trigger())).status).toBe(429);
    expect(fake.incidents()).toEqual([]);
    expect(fake.events).toEqual([]);
    expect((await post(trigger())).status).toBe(202);
    expect(fake.requests.map((r) => [r.status, r.fault !== undefined])).toEqual([
      [429, true],
      [429, true],
      [202, false],
    ]);
  });

  it("uses a given fault body, JSON or text", async () => {
    fake.failNext(1, { status: 500, body: { oops: true } });
    fake.failNext(1, { status: 502, body: "bad gateway" });
    expect((await post(trigger())).json).toEqual({ oops: true });
    expect((await post(trigger())).text).toBe("bad gateway");
  });

  it("resets the connection", async () => {
    fake.failNext(1, { kind: "reset" });
    await expect(post(trigger())).rejects.toThrow(/fetch failed/);
    expect(fake.requests[0]).toMatchObject({ status: null, fault: { kind: "reset" } });
    expect(fake.incidents()).toEqual([]);
  });

  it("holds the answer for a while, then answers 504 without processing", async () => {
    fake.failNext(1, { kind: "timeout", ms: 50 });
    const started = Date.now();
    expect((await post(trigger())).status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(fake.incidents()).toEqual([]);
  });

  it("never answers a timeout without ms, until the client gives up", async () => {
    fake.failNext(1, { kind: "timeout" });
    await expect(fetch(`${fake.url}/v2/enqueue`, { method: "POST", body: "{}", signal: AbortSignal.timeout(100) })).rejects.toThrow(
      /timeout/i,
    );
    expect(fake.requests[0]?.status).toBeNull();
  });

  it("can process the event and then lose the answer", async () => {
    fake.failNext(1, { kind: "timeout", afterProcessing: true });
    const lost = fetch(`${fake.url}/v2/enqueue`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(trigger()),
      signal: AbortSignal.timeout(100),
    });
    await expect(lost).rejects.toThrow(/timeout/i);
    expect(fake.openIncidents()).toHaveLength(1);
    await post(trigger());
    expect(fake.incidents()).toEqual([expect.objectContaining({ triggers: 2 })]);
  });

  it("fails requests matching a predicate until recover()", async () => {
    fake.failWhile((request) => request.routingKey === OTHER_ROUTING_KEY, { status: 502 });
    expect((await post(trigger({ routing_key: OTHER_ROUTING_KEY }))).status).toBe(502);
    expect((await post(trigger())).status).toBe(202);
    fake.recover();
    expect((await post(trigger({ routing_key: OTHER_ROUTING_KEY }))).status).toBe(202);
  });

  it("is down (503) for everything until recover()", async () => {
    fake.down();
    for (let i = 0; i < 3; i += 1) expect((await post(trigger())).status).toBe(503);
    expect(fake.events).toEqual([]);
    fake.recover();
    expect((await post(trigger())).status).toBe(202);
  });
});

describe("fake PagerDuty: rate limit emulation", () => {
  it("answers 429 past N events per routing key per minute, other keys unaffected", async () => {
    fake.rateLimit({ perMinute: 2, retryAfter: 30 });
    expect((await post(trigger())).status).toBe(202);
    expect((await post(trigger())).status).toBe(202);
    const limited = await post(trigger());
    expect(limited).toMatchObject({ status: 429, retryAfter: "30" });
    expect(fake.triggerCount()).toBe(2);
    expect((await post(trigger({ routing_key: OTHER_ROUTING_KEY }))).status).toBe(202);
    clock += 60_001;
    expect((await post(trigger())).status).toBe(202);
  });

  it("is off by default and after rateLimit(null)", async () => {
    fake.rateLimit({ perMinute: 1 });
    fake.rateLimit(null);
    for (let i = 0; i < 5; i += 1) expect((await post(trigger())).status).toBe(202);
  });
});
