/**
 * Control characters and bidi overrides never reach PagerDuty or a console: the alert contract
 * strips them in one place (build.ts via limits.ts safeText) and the schema checks it again.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { buildAlert } from "../../../lib/alert/build.ts";
import { hasUnsafeChars, safeText } from "../../../lib/alert/limits.ts";
import { parseAlert } from "../../../lib/alert/schema.ts";
import { readChangeEvent } from "../../../lib/ingest/pagerduty-events/events-v2.ts";

const ctx = { receivedAt: "2026-11-26T18:00:00.000Z" };
const HOSTILE = "\u001b[2J\u001b[H\u0000ok\u202Egnp.exe\u2066x\u2069\u0085\u009b31m\r\u0007\u007f";

describe("safe text in the alert contract", () => {
  it("strips C0/C1 controls, DEL and bidi overrides from every field that is sent or printed", () => {
    const alert = buildAlert(
      {
        source: "echo",
        identity: "k",
        status: "firing",
        severity: "warning",
        summary: [HOSTILE],
        sourceHost: `host${HOSTILE}`,
        component: HOSTILE,
        group: HOSTILE,
        class: HOSTILE,
        links: [
          { href: "https://ok.example/", text: HOSTILE },
          { href: "https://bad.example/\u202Eevil", text: "x" },
        ],
        images: [{ src: "https://img.example/a.png", alt: HOSTILE }],
        details: { text: `line 1\n\tline 2${HOSTILE}`, [`key${HOSTILE}`]: 1, nested: { deep: HOSTILE } },
        labels: { [`name${HOSTILE}`]: HOSTILE },
      },
      ctx,
    );
    expect(alert.summary).toBe("[2J[Hokgnp.exex31m");
    expect(alert.sourceHost).toBe("host[2J[Hokgnp.exex31m");
    for (const text of [alert.component, alert.group, alert.class, alert.links[0]!.text, alert.images[0]!.alt])
      expect(text).toBe(alert.summary);
    // A link whose address holds a bidi override is dropped, not rewritten.
    expect(alert.links.map((link) => link.href)).toEqual(["https://ok.example/"]);
    // Details keep tab and newline (multi-line messages), lose the rest.
    expect(alert.details).toEqual({
      text: "line 1\n\tline 2[2J[Hokgnp.exex31m",
      "key[2J[Hokgnp.exex31m": 1,
      nested: { deep: "[2J[Hokgnp.exex31m" },
    });
    expect(alert.labels).toEqual({ "name[2J[Hokgnp.exex31m": "[2J[Hokgnp.exex31m" });
    expect(() => parseAlert(alert)).not.toThrow();
  });

  it("falls back to the generated summary when nothing visible is left", () => {
    expect(
      buildAlert({ source: "echo", identity: "k", status: "firing", severity: "info", summary: ["\u0000\u001b", "  "] }, ctx).summary,
    ).toBe("echo alert k");
  });

  it("the schema refuses an alert built by hand with a control character in its summary", () => {
    const alert = buildAlert({ source: "echo", identity: "k", status: "firing", severity: "info", summary: ["ok"] }, ctx);
    expect(() => parseAlert({ ...alert, summary: "a\u001bb" })).toThrow(/summary: may not hold control characters/);
  });

  it("change events get the same rule", () => {
    const result = readChangeEvent(
      {
        routing_key: "r",
        payload: { summary: `deploy ${HOSTILE}`, source: HOSTILE },
        links: [{ href: "https://x.example/", text: HOSTILE }],
      },
      ctx,
    );
    expect(result.ok && result.message.event).toEqual({
      payload: { summary: "deploy [2J[Hokgnp.exex31m", source: "[2J[Hokgnp.exex31m" },
      links: [{ href: "https://x.example/", text: "[2J[Hokgnp.exex31m" }],
    });
  });

  it("safeText leaves no unsafe character in any string, and keeps safe strings as they are", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 64 }), (text) => {
        const out = safeText(text);
        expect(hasUnsafeChars(out)).toBe(false);
        if (!hasUnsafeChars(text)) expect(out).toBe(text);
      }),
      { seed: 12, numRuns: 500 },
    );
  });
});
