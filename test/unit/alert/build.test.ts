import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { buildAlert, parseTimestamp, sanitizeLabels } from "../../../lib/alert/build.ts";
import { LIMITS, boundDedupKey, boundDetails, truncate } from "../../../lib/alert/limits.ts";
import { parseSeverity } from "../../../lib/alert/severity.ts";
import { parseAlert } from "../../../lib/alert/schema.ts";

const ctx = { receivedAt: "2026-11-26T18:00:00.000Z" };
const draft = { source: "echo", identity: "k", status: "firing" as const, severity: "warning" as const, summary: ["s"] };

describe("limits", () => {
  it("truncates with an ellipsis and never splits a surrogate pair", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    const emoji = "a".repeat(1022) + "😀😀";
    const cut = truncate(emoji, 1024);
    expect(cut.length).toBeLessThanOrEqual(1024);
    expect(cut.endsWith("a…")).toBe(true);
  });
  it("bounds dedup keys at 255 with a readable prefix, distinct for distinct identities", () => {
    const a = boundDedupKey(`prometheus:${"x".repeat(300)}a`);
    const b = boundDedupKey(`prometheus:${"x".repeat(300)}b`);
    expect(a.length).toBeLessThanOrEqual(255);
    expect(a.startsWith("prometheus:xxx")).toBe(true);
    expect(a).not.toBe(b);
    expect(boundDedupKey("short")).toBe("short");
  });
  it("keeps details under the limit and says what it dropped", () => {
    const details = boundDetails({
      small: "ok",
      huge: "y".repeat(LIMITS.detailStringChars * 2),
      many: Array.from({ length: 100 }, () => "z".repeat(2000)),
    });
    expect(JSON.stringify(details).length).toBeLessThanOrEqual(LIMITS.detailsChars);
    expect(details.small).toBe("ok");
    expect(details._truncated).toMatch(/dropped .*many/);
  });
});

describe("buildAlert", () => {
  it("produces schema-valid alerts for arbitrary text fields and labels", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.constant(null))),
        fc.string({ maxLength: 400 }),
        (summary, labels, identity) => {
          const alert = buildAlert({ ...draft, identity: identity || "k", summary: [summary], labels }, ctx);
          expect(() => parseAlert(alert)).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
  });
  it("lets a severity label override, and ignores Object's own property names", () => {
    expect(buildAlert({ ...draft, labels: { severity: "page" } }, ctx).severity).toBe("critical");
    expect(buildAlert({ ...draft, labels: { severity: "constructor" } }, ctx).severity).toBe("warning");
    expect(parseSeverity("__proto__")).toBeUndefined();
    expect([parseSeverity("SEV0"), parseSeverity(" p0 ")]).toEqual(["critical", "critical"]);
  });
  it("sets class from a class label unless the adapter set one", () => {
    expect(buildAlert({ ...draft, labels: { class: "db-failover" } }, ctx).class).toBe("db-failover");
    expect(buildAlert({ ...draft, class: "disk", labels: { class: "db" } }, ctx).class).toBe("disk");
  });
  it("makes label names safe for matchers and keeps __proto__ as a label", () => {
    expect(sanitizeLabels({ "a b": "1", 'x="y"': "2", __proto__x: 3 })).toEqual({ a_b: "1", x__y_: "2", __proto__x: "3" });
    expect(Object.keys(sanitizeLabels(JSON.parse('{"__proto__":"p"}')))).toEqual(["_proto_"]);
  });
  it("gives the same id to the same event and a different one to another time or status", () => {
    const a = buildAlert({ ...draft, occurredAt: "2026-11-26T17:00:00.000Z" }, ctx);
    expect(buildAlert({ ...draft, occurredAt: "2026-11-26T17:00:00.000Z" }, { receivedAt: "2026-11-26T19:00:00.000Z" }).id).toBe(a.id);
    expect(buildAlert({ ...draft, occurredAt: "2026-11-26T17:01:00.000Z" }, ctx).id).not.toBe(a.id);
    expect(buildAlert({ ...draft, status: "resolved", occurredAt: "2026-11-26T17:00:00.000Z" }, ctx).id).not.toBe(a.id);
  });
  it("keeps only http(s) links and https images", () => {
    const alert = buildAlert(
      {
        ...draft,
        links: [{ href: "javascript:alert(1)" }, { href: "https://a.example/x", text: " Run\nbook " }],
        images: [{ src: "http://insecure.example/i.png" }, { src: "https://ok.example/i.png" }],
      },
      ctx,
    );
    expect(alert.links).toEqual([{ href: "https://a.example/x", text: "Run book" }]);
    expect(alert.images).toEqual([{ src: "https://ok.example/i.png" }]);
  });
});

describe("parseTimestamp", () => {
  it.each([
    ["2026-11-26T17:43:27.123+0000", "2026-11-26T17:43:27.123Z"],
    ["2026-11-26T18:43:27+01:00", "2026-11-26T17:43:27.000Z"],
    ["1795715007123", "2026-11-26T17:43:27.123Z"],
    [1795715007, "2026-11-26T17:43:27.000Z"],
    ["0001-01-01T00:00:00Z", undefined],
    ["yesterday", undefined],
    [null, undefined],
    [1e15, undefined],
  ])("%s → %s", (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });
});

describe("dedup keys alert-relay keeps for itself", () => {
  const alert = (source: string, identity: string) =>
    buildAlert(
      { source, identity, status: "resolved", severity: "error", occurredAt: "2026-11-27T03:00:00Z", summary: ["x"], labels: {} },
      { receivedAt: "2026-11-27T03:00:00Z" },
    );

  it.each(["storm:default", "group:checkout-outage", "rate:default", "heartbeat:watchdog", "heartbeat-missing:watchdog"])(
    "refuses %s from a source outside alert-relay",
    (key) => {
      expect(() => parseAlert(alert("echo", key))).toThrow(
        /dedupKey: may not start with ".+:": alert-relay keeps such keys for its own records/,
      );
    },
  );

  it("lets alert-relay's own alerts and ordinary keys through", () => {
    expect(parseAlert(alert("alert-relay", "heartbeat-missing:watchdog")).dedupKey).toBe("heartbeat-missing:watchdog");
    expect(parseAlert(alert("echo", "stormy:default")).dedupKey).toBe("stormy:default");
  });
});
