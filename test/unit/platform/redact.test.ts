import { afterEach, describe, expect, it } from "vitest";
import { REDACTED, forgetSecrets, isSecretName, redactText, redactedJson, rememberSecret } from "../../../lib/platform/redact.ts";

const KEY = "e93facc04764012d7bfb002500d5d1a6";

afterEach(() => forgetSecrets());

describe("the redaction rule", () => {
  it.each([
    ["a JSON body's routing_key", `{"routing_key":"${KEY}","event_action":"trigger"}`],
    ["a routing_key cut short by an excerpt's end", `{"event_action":"trigger","routing_key":"${KEY.slice(0, 20)}`],
    ["a body with a trailing comma", `{"routing_key": "${KEY}",}`],
    ["JSON escaped into a string", JSON.stringify(JSON.stringify({ routing_key: KEY }))],
    ["an unquoted routing_key", `routing_key=${KEY}&x=1`],
    ["an integration key in YAML-ish text", `integration_key: ${KEY}`],
    ["a bearer credential", `Authorization: Bearer ${KEY}`],
    ["a basic credential", `authorization: Basic ${Buffer.from(`u:${KEY}`).toString("base64")}`],
    ["a token field", `{"webhook_token":"${KEY}"}`],
  ])("takes the credential out of %s", (_, text) => {
    const out = redactText(text);
    expect(out).not.toContain(KEY.slice(0, 20));
    expect(out).toContain(REDACTED);
  });

  it("leaves ordinary text alone, including the JSON parser's own words and dedup keys", () => {
    for (const text of ["Unexpected token 'a', is not valid JSON", `dedup_key ${KEY}`, "routingKeyRef default", "basic alert"]) {
      expect(redactText(text)).toBe(text);
    }
  });

  it("redacts a remembered secret wherever it appears, under any name", () => {
    rememberSecret("s3cret-webhook-token");
    expect(redactText("summary: s3cret-webhook-token leaked")).toBe(`summary: ${REDACTED} leaked`);
    expect(redactedJson({ summary: "xs3cret-webhook-tokenx" })).toBe(`{"summary":"x${REDACTED}x"}`);
  });

  it("does not remember secrets too short to search for in text", () => {
    rememberSecret("abc");
    expect(redactText("abc abc")).toBe("abc abc");
  });

  it("replaces credential-named fields at any depth but keeps references to them", () => {
    const json = redactedJson({
      a: { routing_key: KEY, Authorization: `Bearer ${KEY}`, apiKey: "k", password: "p", routingKeyRef: "payments", dedupKey: "x" },
    });
    expect(JSON.parse(json)).toEqual({
      a: { routing_key: REDACTED, Authorization: REDACTED, apiKey: REDACTED, password: REDACTED, routingKeyRef: "payments", dedupKey: "x" },
    });
    expect(isSecretName("routingKeyRef")).toBe(false);
    expect(isSecretName("x-api-key")).toBe(true);
  });
});

describe("placeholders", () => {
  it("leaves a placeholder in a credential-named field (the outbox's dry-run key) as it is", () => {
    expect(redactedJson({ routing_key: "(dry-run)", token: "(not set)" })).toBe('{"routing_key":"(dry-run)","token":"(not set)"}');
  });
});

describe("the DLQ reason", () => {
  it("passes the rule before it is attached to the dead letter", async () => {
    const { createSqsDeadLetterSink } = await import("../../../lib/router/dead-letter.ts");
    rememberSecret("dlq-routing-key-0123456789abcdef");
    const sent: { MessageAttributes?: Record<string, { StringValue?: string }> }[] = [];
    const sink = createSqsDeadLetterSink(
      { send: async (command: { input: (typeof sent)[number] }) => void sent.push(command.input) } as never,
      "http://q",
    );
    await sink.send("{}", 'PagerDuty refused: routing key dlq-routing-key-0123456789abcdef; request had "routing_key":"other-key-123"', {
      messageId: "m",
      receiveCount: 1,
    });
    const reason = sent[0]!.MessageAttributes!.reason!.StringValue!;
    expect(reason).toBe('PagerDuty refused: routing key (redacted); request had "routing_key":"(redacted)"');
  });
});
