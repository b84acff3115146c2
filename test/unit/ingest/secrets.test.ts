/**
 * Every rejection path of every ingest entry, driven with the webhook token in the request (as a
 * routing_key, in an Authorization header with junk after it, inside the body): the token appears
 * in no answer and in nothing the functions write (their logs, captured from stdout and stderr).
 */
import { afterEach, describe, expect, it } from "vitest";
import { forgetSecrets } from "../../../lib/platform/redact.ts";
import { captureOutput, directEntries } from "../../support/ingest-entries.ts";
import { httpEvent } from "../../support/http-event.ts";

const TOKEN = "Tk9qX2relayWebhookToken7731abcd";
/** A sender's own PagerDuty key, which alert-relay never learns as a secret: caught by name only. */
const FOREIGN_KEY = "e93facc04764012d7bfb002500d5d1a6";

afterEach(() => forgetSecrets());

type Case = [
  name: string,
  path: string,
  body: string | undefined,
  options?: { headers?: Record<string, string>; method?: string; base64?: boolean },
];

const deep = (levels: number) => `${'{"a":'.repeat(levels)}"${TOKEN}"${"}".repeat(levels)}`;
const bearer = { authorization: `Bearer ${TOKEN}` };

const cases: Case[] = [
  // The webhooks (each adapter's function).
  ["a GET with the token in the header", "/webhooks/prometheus", undefined, { method: "GET", headers: bearer }],
  ["the token with trailing junk", "/webhooks/prometheus", "{}", { headers: { authorization: `Bearer ${TOKEN} extra` } }],
  [
    "Basic with junk after the token",
    "/webhooks/cloudwatch",
    "{}",
    { headers: { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")} x` } },
  ],
  ["the token in a body that is not JSON", "/webhooks/datadog", `{"token": "${TOKEN}",}`, { headers: bearer }],
  ["the token in a body with a BOM", "/webhooks/prometheus", `\ufeff{"routing_key":"${TOKEN}"}`, { headers: bearer }],
  ["the token in a body nested too deep", "/webhooks/prometheus", deep(200), { headers: bearer }],
  ["the token in a body too large", "/webhooks/datadog", `{"x":"${TOKEN}","pad":"${"p".repeat(1_100_000)}"}`, { headers: bearer }],
  [
    "the token in a body of the wrong shape",
    "/webhooks/prometheus",
    JSON.stringify({ alerts: [{ labels: { t: TOKEN }, status: TOKEN }] }),
    { headers: bearer },
  ],
  [
    "the token as a label value that is not a string",
    "/webhooks/prometheus",
    JSON.stringify({ version: "4", status: "firing", alerts: [{ status: "firing", labels: { alertname: 1, t: { TOKEN } } }] }),
    { headers: bearer },
  ],
  ["the token in an empty-ish datadog body", "/webhooks/datadog", JSON.stringify([TOKEN]), { headers: bearer }],
  ["the token in a base64 body that is not JSON", "/webhooks/cloudwatch", `not json ${TOKEN}`, { headers: bearer, base64: true }],
  // The Events API ingest (one function, two paths).
  ["a wrong path", "/v2/nothing", JSON.stringify({ routing_key: TOKEN }), {}],
  ["a GET", "/v2/enqueue", JSON.stringify({ routing_key: TOKEN }), { method: "GET" }],
  [
    "the token with trailing junk in the header",
    "/v2/enqueue",
    JSON.stringify({ routing_key: "x", event_action: "trigger" }),
    { headers: { authorization: `Bearer ${TOKEN} extra` } },
  ],
  ["the token as routing_key in a body with a trailing comma", "/v2/enqueue", `{"routing_key":"${TOKEN}","event_action":"trigger",}`, {}],
  ["the token as routing_key in a body with a BOM", "/v2/change/enqueue", `\ufeff{"routing_key":"${TOKEN}"}`, {}],
  ["the token as routing_key in an array", "/v2/enqueue", JSON.stringify([{ routing_key: TOKEN }]), {}],
  [
    "authenticated, the token in a body that is not JSON",
    "/v2/enqueue",
    `{"routing_key":"${TOKEN}" "event_action":"trigger"}`,
    { headers: bearer },
  ],
  ["authenticated, the token in an array body", "/v2/change/enqueue", JSON.stringify([TOKEN, { routing_key: TOKEN }]), { headers: bearer }],
  ["the token nested too deep", "/v2/enqueue", `[${deep(5000)}]`, {}],
  ["brackets 5,000 deep without credentials", "/v2/enqueue", `${"[".repeat(5000)}${"]".repeat(5000)}`, {}],
  ["the token in a body too large", "/v2/enqueue", JSON.stringify({ routing_key: TOKEN, pad: "p".repeat(1_100_000) }), {}],
  [
    "an invalid event with the token as routing_key",
    "/v2/enqueue",
    JSON.stringify({ routing_key: TOKEN, event_action: "explode", payload: { summary: TOKEN } }),
    {},
  ],
  [
    "a numeric summary with the token as routing_key",
    "/v2/enqueue",
    JSON.stringify({ routing_key: TOKEN, event_action: "trigger", payload: { summary: 1, source: TOKEN, severity: "info" } }),
    {},
  ],
  [
    "a change event without summary, token in details",
    "/v2/change/enqueue",
    JSON.stringify({ routing_key: TOKEN, payload: { custom_details: { k: TOKEN } } }),
    {},
  ],
  [
    "a foreign routing key beside a wrong token",
    "/v2/enqueue",
    JSON.stringify({ routing_key: FOREIGN_KEY, event_action: "trigger" }),
    { headers: { authorization: `Bearer ${FOREIGN_KEY}` } },
  ],
  [
    "a foreign routing key in a body that is not JSON (authenticated)",
    "/v2/enqueue",
    `{"routing_key":"${FOREIGN_KEY}",}`,
    { headers: bearer },
  ],
];

describe("no rejection path lets the token out", () => {
  it.each(cases)("%s (%s)", async (_, path, body, options = {}) => {
    const entries = directEntries({ token: TOKEN, loud: true });
    const output = captureOutput();
    let answer;
    try {
      answer = await entries.http(httpEvent(body, { path, ...options }));
    } finally {
      output.restore();
    }
    expect(answer.statusCode).toBeGreaterThanOrEqual(400);
    expect(answer.statusCode).toBeLessThan(500);
    expect(entries.queued).toEqual([]);
    const written = output.text();
    // Something was logged (every rejection says why), and neither key is in it or in the answer.
    if (answer.statusCode !== 404 && answer.statusCode !== 405) expect(written).toContain("input rejected");
    for (const secret of [TOKEN, FOREIGN_KEY]) {
      expect(String(answer.body)).not.toContain(secret);
      expect(written).not.toContain(secret);
    }
  });

  it("a direct invocation refused for its shape logs its excerpt without the token", async () => {
    const entries = directEntries({ token: TOKEN, loud: true });
    const output = captureOutput();
    let result;
    try {
      result = await entries.invoke("cloudwatch", {
        Records: [{ Sns: { Message: `{"AlarmName":"${TOKEN}",` } }],
        routing_key: TOKEN,
        nested: JSON.parse(deep(3000)),
      });
    } finally {
      output.restore();
    }
    expect(result).toMatchObject({ status: "rejected" });
    expect(output.text()).toContain("input rejected");
    expect(output.text()).not.toContain(TOKEN);
  });
});
