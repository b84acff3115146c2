/**
 * fast-check generators for hostile requests to the five HTTP entries: bodies that are nearly
 * right for the entry (its own shape with fields of the wrong type, control characters, label
 * names that are object machinery, the webhook token in odd places), bodies that are not JSON or
 * not quite (a BOM, a trailing comma, cut short, nested around the depth limit), and headers
 * (credentials right, wrong, with trailing junk; content types that make the body binary).
 */
import fc from "fast-check";
import type { HttpEntry } from "../support/ingest-entries.ts";

/** The webhook token the fuzzed stack is configured with: it must never show up in output. */
export const FUZZ_TOKEN = "FuzzW3bhookT0ken-4f1c9a2e7b";

/** The seed every fuzz run uses unless FUZZ_SEED says otherwise (a failure prints the seed and path to replay). */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261202);

/** Raw JSON text: bodies are built as text so that duplicate and `__proto__` keys survive. */
type Json = string;

const ENC = (value: unknown): Json => JSON.stringify(value) ?? "null";

const nasty = fc.constantFrom(
  FUZZ_TOKEN,
  `Bearer ${FUZZ_TOKEN}`,
  `routing_key=${FUZZ_TOKEN}`,
  "\u001b[2J\u001b[H",
  "\u0000",
  "\u202Egnp.exe",
  "\u2066x\u2069",
  "\u009b31m",
  "\r",
  "",
  " ",
  "0001-01-01T00:00:00Z",
  "2026-11-26T18:00:00Z",
  "https://runbook.example/x",
  "javascript:alert(1)",
);
const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "binary", maxLength: 30 }), nasty);
const scalar: fc.Arbitrary<Json> = fc.oneof(
  text.map(ENC),
  fc.integer().map(ENC),
  fc.double().map(ENC),
  fc.boolean().map(ENC),
  fc.constant("null"),
);

/** Names that are object machinery in JavaScript, names matchers cannot address, and plain ones. */
export const labelName = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "valueOf",
    "__defineGetter__",
    "severity",
    "alertname",
    "routing_key",
    "token",
    "a=b",
    "x y",
    "x\u0000y",
    "\u202Eevil",
    "",
  ),
  fc.string({ maxLength: 16 }),
  fc.string({ unit: "binary", maxLength: 12 }),
);

const object = (entries: fc.Arbitrary<[string, Json][]>): fc.Arbitrary<Json> =>
  entries.map((pairs) => `{${pairs.map(([k, v]) => `${ENC(k)}:${v}`).join(",")}}`);
const array = (item: fc.Arbitrary<Json>, maxLength = 4): fc.Arbitrary<Json> =>
  fc.array(item, { maxLength }).map((items) => `[${items.join(",")}]`);
/** A flat map whose keys are label names and whose values are mostly text. */
const labels = object(
  fc.array(fc.tuple(labelName, fc.oneof({ weight: 4, arbitrary: text.map(ENC) }, { weight: 1, arbitrary: scalar })), { maxLength: 6 }),
);
/** A field: usually what it should be, sometimes any other JSON value, sometimes absent. */
const field = (name: string, usual: fc.Arbitrary<Json>): fc.Arbitrary<[string, Json][]> =>
  fc.oneof(
    { weight: 6, arbitrary: usual.map((v): [string, Json][] => [[name, v]]) },
    { weight: 1, arbitrary: scalar.map((v): [string, Json][] => [[name, v]]) },
    { weight: 1, arbitrary: fc.constant<[string, Json][]>([]) },
  );
const fields = (...parts: fc.Arbitrary<[string, Json][]>[]): fc.Arbitrary<Json> => object(fc.tuple(...parts).map((lists) => lists.flat()));
const oneOf = (...values: string[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values).map(ENC) }, { weight: 1, arbitrary: text.map(ENC) });

const prometheusAlert = fields(
  field("status", oneOf("firing", "resolved")),
  field(
    "labels",
    labels.map((l) => l.replace(/^\{/, `{"alertname":"Fuzz",`).replace(/,}$/, "}")),
  ),
  field("annotations", labels),
  field("startsAt", oneOf("2026-11-26T18:00:00Z", "0001-01-01T00:00:00Z")),
  field("endsAt", oneOf("0001-01-01T00:00:00Z")),
  field("fingerprint", text.map(ENC)),
  field("generatorURL", oneOf("http://prometheus.example/graph")),
);
const prometheus = fields(
  field("version", oneOf("4")),
  field("status", oneOf("firing", "resolved")),
  field("receiver", text.map(ENC)),
  field("groupKey", text.map(ENC)),
  field("groupLabels", labels),
  field("commonLabels", labels),
  field("commonAnnotations", labels),
  field("externalURL", oneOf("http://alertmanager.example")),
  field("truncatedAlerts", fc.integer({ min: -1, max: 5 }).map(ENC)),
  field("alerts", array(prometheusAlert)),
);

const datadog = fields(
  field("id", text.map(ENC)),
  field("title", text.map(ENC)),
  field("message", text.map(ENC)),
  field("transition", oneOf("Triggered", "Recovered", "Warn", "No Data", "Re-Triggered", "Renotify")),
  field("alert_type", oneOf("error", "warning", "info", "success")),
  field("priority", oneOf("P1", "P2", "P5")),
  field("monitor_id", text.map(ENC)),
  field("scope", text.map(ENC)),
  field("cycle_key", text.map(ENC)),
  field("aggreg_key", text.map(ENC)),
  field("alert_title", text.map(ENC)),
  field("hostname", text.map(ENC)),
  field(
    "tags",
    fc.oneof(
      fc.array(fc.tuple(labelName, text), { maxLength: 5 }).map((tags) => ENC(tags.map(([k, v]) => `${k}:${v}`).join(","))),
      labels,
    ),
  ),
  field("link", oneOf("https://app.datadoghq.com/event/1")),
  field("date", oneOf("1795714872000")),
);

const alarm = fields(
  field("AlarmName", text.map(ENC)),
  field("AlarmDescription", text.map(ENC)),
  field("AWSAccountId", oneOf("123456789012")),
  field("NewStateValue", oneOf("ALARM", "OK", "INSUFFICIENT_DATA")),
  field("NewStateReason", text.map(ENC)),
  field("StateChangeTime", oneOf("2026-11-26T17:43:27.123+0000")),
  field("Region", oneOf("US East (N. Virginia)")),
  field("AlarmArn", oneOf("arn:aws:cloudwatch:us-east-1:123456789012:alarm:x")),
  field("Trigger", labels),
);
/** CloudWatch over HTTP is an SNS HTTPS delivery: the alarm is JSON inside the Message string. */
const cloudwatch = fc.oneof(
  fields(
    field("Type", oneOf("Notification", "SubscriptionConfirmation")),
    field("MessageId", text.map(ENC)),
    field("TopicArn", oneOf("arn:aws:sns:us-east-1:123456789012:t")),
    field("Subject", text.map(ENC)),
    field("Message", fc.oneof(alarm.map(ENC), text.map(ENC))),
  ),
  alarm,
);

const routingKey = fc.oneof({ weight: 3, arbitrary: fc.constant(ENC(FUZZ_TOKEN)) }, { weight: 1, arbitrary: text.map(ENC) });
const links = array(fields(field("href", oneOf("https://runbook.example/x", "javascript:alert(1)")), field("text", text.map(ENC))));
const alertEvent = fields(
  field("routing_key", routingKey),
  field("event_action", oneOf("trigger", "resolve", "acknowledge")),
  field("dedup_key", text.map(ENC)),
  field(
    "payload",
    fields(
      field("summary", text.map(ENC)),
      field("source", text.map(ENC)),
      field("severity", oneOf("critical", "error", "warning", "info")),
      field("timestamp", oneOf("2026-11-26T18:00:00Z")),
      field("component", text.map(ENC)),
      field("group", text.map(ENC)),
      field("class", text.map(ENC)),
      field("custom_details", labels),
    ),
  ),
  field("client", text.map(ENC)),
  field("client_url", oneOf("https://monitoring.example")),
  field("links", links),
  field("images", array(fields(field("src", oneOf("https://img.example/a.png")), field("alt", text.map(ENC))))),
);
const changeEvent = fields(
  field("routing_key", routingKey),
  field(
    "payload",
    fields(
      field("summary", text.map(ENC)),
      field("source", text.map(ENC)),
      field("timestamp", oneOf("2026-11-26T18:00:00Z")),
      field("custom_details", labels),
    ),
  ),
  field("links", links),
);

const SHAPES: Record<HttpEntry, fc.Arbitrary<Json>> = {
  "/webhooks/prometheus": prometheus,
  "/webhooks/datadog": datadog,
  "/webhooks/cloudwatch": cloudwatch,
  "/v2/enqueue": alertEvent,
  "/v2/change/enqueue": changeEvent,
};

/** Nesting around the parser's depth limit, and far beyond it. */
const deep = fc
  .tuple(fc.integer({ min: 55, max: 75 }), fc.constantFrom("[", '{"a":'))
  .map(([n, open]) => `${open.repeat(n)}1${(open === "[" ? "]" : "}").repeat(n)}`);

/** A body for an entry: its own shape (often), mangled (sometimes), or anything at all. */
export function body(entry: HttpEntry): fc.Arbitrary<string> {
  const shaped = SHAPES[entry];
  return fc.oneof(
    { weight: 8, arbitrary: shaped },
    { weight: 1, arbitrary: shaped.map((b) => `\ufeff${b}`) },
    { weight: 1, arbitrary: shaped.map((b) => b.replace(/}$/, ",}")) },
    { weight: 1, arbitrary: fc.tuple(shaped, fc.nat()).map(([b, n]) => b.slice(0, n % (b.length + 1))) },
    { weight: 1, arbitrary: array(shaped, 2) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: text },
    { weight: 1, arbitrary: deep },
  );
}

const basic = (password: string) => `Basic ${Buffer.from(`alertmanager:${password}`).toString("base64")}`;

/** Header values a client can actually send (printable ASCII), for the real HTTP server. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 24 });

/** Authorization and content-type headers, right and wrong, plus one arbitrary header. */
export const headers: fc.Arbitrary<Record<string, string>> = fc
  .tuple(
    fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(`Bearer ${FUZZ_TOKEN}`) },
        fc.constant(`bearer ${FUZZ_TOKEN}`),
        fc.constant(`Bearer ${FUZZ_TOKEN} extra`),
        fc.constant(basic(FUZZ_TOKEN)),
        fc.constant(`${basic(FUZZ_TOKEN)} x`),
        headerText.map((t) => `Bearer ${t}`),
        headerText,
      ),
      { nil: undefined },
    ),
    fc.option(
      fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
      ),
      { nil: undefined },
    ),
    fc.option(fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,12}$/), headerText), { nil: undefined }),
  )
  .map(([authorization, contentType, extra]) => ({
    ...(authorization !== undefined ? { authorization } : {}),
    ...(contentType !== undefined ? { "content-type": contentType } : {}),
    ...(extra ? { [extra[0]]: extra[1] } : {}),
  }));

export const method = fc.oneof(
  { weight: 9, arbitrary: fc.constant("POST") },
  { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE") },
);

/** One request: entry, method, headers and body. */
export const request = fc
  .constantFrom<HttpEntry>("/webhooks/prometheus", "/webhooks/datadog", "/webhooks/cloudwatch", "/v2/enqueue", "/v2/change/enqueue")
  .chain((entry) => fc.record({ entry: fc.constant(entry), method, headers, body: body(entry) }));

/** What a direct invocation (SNS, EventBridge, an alarm action) of the CloudWatch function may carry. */
export const invocation: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  cloudwatch.map((message) => ({ Records: [{ EventSource: "aws:sns", Sns: { Type: "Notification", Message: message } }] })),
  alarm.map((detail) => ({
    "detail-type": "CloudWatch Alarm State Change",
    source: "aws.cloudwatch",
    detail: JSON.parse(detail) as unknown,
  })),
  fc.json({ maxDepth: 4 }).map((json) => ({ value: JSON.parse(json) as unknown })),
  fc.dictionary(labelName, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
);
