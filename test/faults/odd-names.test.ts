/**
 * Accepted means delivered: label and detail names are the sources' data, never object machinery.
 * Before the fix, "constructor" or "toString" as a label broke the state write ("Unsupported type
 * passed"), the message was retried to the DLQ with no reason, and "__proto__" was silently dropped.
 */
import { describe, expect, it } from "vitest";
import { useRouterHarness } from "../support/router-harness.ts";
import { alertAt } from "../support/alerts.ts";
import { parseAlert } from "../../lib/alert/schema.ts";

const h = useRouterHarness();

/** A queue message as JSON text, with `name` as a label and as a detail holding an object with an own "__proto__". */
function messageWithName(key: string, name: string): string {
  const base = alertAt(key, "firing", 0);
  const text = JSON.stringify({ ...base, labels: { ...base.labels, team: "core" }, details: { ...base.details, n: 1 } });
  const quoted = JSON.stringify(name);
  return text
    .replace('"labels":{', `"labels":{${quoted}:"odd",`)
    .replace('"details":{', `"details":{${quoted}:{"__proto__":{"polluted":true}},`);
}

describe("names of any spelling are data", () => {
  for (const name of ["constructor", "__proto__", "prototype", "toString", "hasOwnProperty", "valueOf", "ключ"]) {
    it(`a label and a detail named ${name} page, and are kept as given`, async () => {
      const key = `odd-${name}`;
      const alert = parseAlert(JSON.parse(messageWithName(key, name)));
      expect(Object.hasOwn(alert.labels, name)).toBe(true);
      expect(alert.labels[name]).toBe("odd");
      expect(Object.getPrototypeOf(alert.labels)).toBe(Object.prototype);

      const outcome = await h.router().handleAlert(alert, Date.now() + 5_000);
      expect(outcome).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
      expect(h.fake.triggerCount(key)).toBe(1);
      const sent = (h.fake.events.find((e) => e.dedupKey === key)!.event as { payload: { custom_details: Record<string, unknown> } })
        .payload.custom_details;
      expect(Object.hasOwn(sent, name)).toBe(true);
      expect((sent.labels as Record<string, string>)[name]).toBe("odd");

      const stored = await h.store.get(key);
      expect(Object.hasOwn(stored!.lastAlert.labels, name)).toBe(true);
      expect(Object.hasOwn(stored!.lastAlert.details, name)).toBe(true);
      // A redelivery is a plain duplicate, not a second failure.
      expect(await h.router().handleAlert(alert, Date.now() + 5_000)).toMatchObject({ outcome: "deduplicated" });
    });
  }
});
