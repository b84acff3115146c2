/**
 * docs/adding-an-adapter.md's example module, run as written: a newcomer who copies it gets an
 * adapter that keeps the contract. The block is read from the guide; its relative imports are
 * pointed at lib/ and the module is loaded from a scratch directory under node_modules/.cache
 * (so `zod` resolves as it would from lib/adapters/<name>/).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Adapter } from "../../../lib/adapters/types.ts";
import { parseAlert } from "../../../lib/alert/schema.ts";

const GUIDE = "docs/adding-an-adapter.md";
const MARKER = "<!-- tested by test/unit/adapters/adding-an-adapter-guide.test.ts";
const SCRATCH = resolve("node_modules/.cache/alert-relay-guide", String(process.pid));
const ctx = { receivedAt: "2026-11-26T18:00:00.000Z", config: { defaultSeverity: "warning" as const } };

function guideModule(): string {
  const text = readFileSync(GUIDE, "utf8");
  const at = text.indexOf(MARKER);
  const block = /```ts\n([\s\S]*?)\n\s*```/.exec(text.slice(at));
  if (at < 0 || !block) throw new Error(`${GUIDE} has no ts block after ${MARKER}`);
  const indent = /^( *)/.exec(block[1]!)![1]!.length;
  return block[1]!
    .split("\n")
    .map((line) => line.slice(Math.min(indent, /^( *)/.exec(line)![1]!.length)))
    .join("\n")
    .replace(/from "\.\.\/\.\.\/alert\//g, `from "${pathToFileURL(resolve("lib/alert")).href}/`)
    .replace(/from "\.\.\/define\.ts"/g, `from "${pathToFileURL(resolve("lib/adapters/define.ts")).href}"`);
}

let myTool: Adapter<{ defaultSeverity: "warning" }>;
beforeAll(async () => {
  mkdirSync(SCRATCH, { recursive: true });
  const file = join(SCRATCH, "adapter.ts");
  writeFileSync(file, guideModule());
  ({ myTool } = (await import(pathToFileURL(file).href)) as { myTool: typeof myTool });
});
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

const event = (ok: boolean, id: string) => ({
  id,
  checkId: "disk-7",
  checkName: "DiskFull",
  ok,
  time: 1_764_180_000,
  title: "Disk 95% full on db-1",
  service: "postgres",
  team: "storage",
});

describe("the guide's example adapter", () => {
  it("is named as the guide says a name must be", () => {
    expect(myTool.name).toMatch(/^[a-z][a-z0-9-]{1,39}$/);
    expect(myTool.transports).toEqual(["http"]);
  });

  it("maps a firing and a resolved notification of one check to one problem, with the labels windows and routes use", () => {
    const fired = myTool.normalize({ events: [event(false, "n-1")] }, ctx);
    const resolved = myTool.normalize({ events: [event(true, "n-2")] }, ctx);
    if (!fired.ok || !resolved.ok) throw new Error("rejected");
    const [alert] = fired.alerts;
    parseAlert(alert);
    expect(alert).toMatchObject({
      source: "my-tool",
      status: "firing",
      severity: "warning",
      summary: "Disk 95% full on db-1",
      occurredAt: "2025-11-26T18:00:00.000Z",
      labels: { alertname: "DiskFull", service: "postgres", team: "storage" },
    });
    expect(resolved.alerts[0]).toMatchObject({ status: "resolved", dedupKey: alert!.dedupKey });
    // A severity word from the source goes through the shared synonym table; the setting is the default.
    const paged = myTool.normalize({ events: [{ ...event(false, "n-3"), severity: "P1" }] }, ctx);
    expect(paged.ok && paged.alerts[0]!.severity).toBe("critical");
    expect(() => myTool.config({ MY_TOOL_DEFAULT_SEVERITY: "loud" })).toThrow('MY_TOOL_DEFAULT_SEVERITY="loud" is not a severity');
  });

  it("rejects what it cannot read with a path, and never throws for any JSON", () => {
    expect(myTool.normalize({ events: [{ ...event(false, "n-4"), checkId: "" }] }, ctx)).toMatchObject({
      ok: false,
      rejection: { code: "wrong_shape", path: "events.0.checkId" },
    });
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = myTool.normalize(value, ctx);
        if (result.ok) for (const alert of result.alerts) parseAlert(alert);
        else expect(result.rejection.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });
});
