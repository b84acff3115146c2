/** `suppress add|list|end|validate` against a real windows table (dynalite), found through a stack descriptor. */
import { hostname, userInfo } from "node:os";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { parseWindowItem } from "../../../lib/suppression/window-item.ts";
import { whoAmI } from "../../../lib/cli/commands/suppress-add.ts";
import { startCliHarness, type CliHarness } from "../../support/cli-harness.ts";
import { NOW, parseTable } from "../../support/cli-run.ts";

let h: CliHarness;
beforeAll(async () => {
  h = await startCliHarness();
});
afterAll(async () => h.close());

const TABLE = "cli-windows";
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();
const getWindow = async (id: string) => (await h.doc.send(new GetCommand({ TableName: TABLE, Key: { id } }))).Item;
const putRaw = (item: Record<string, unknown>) => h.doc.send(new PutCommand({ TableName: TABLE, Item: item }));
const window = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  enabled: true,
  matchers: [`case=${id}`],
  reason: `reason of ${id}`,
  createdBy: "ops@example.com",
  ...extra,
});

async function clearWindows(): Promise<void> {
  const { Items = [] } = await h.doc.send(new ScanCommand({ TableName: TABLE }));
  await Promise.all(Items.map((item) => h.doc.send(new DeleteCommand({ TableName: TABLE, Key: { id: item.id } }))));
}

/** The row of one window in `suppress list`'s table. */
const rowOf = (output: string, id: string) => parseTable(output, "STATE").find((row) => row.ID === id);

beforeEach(clearWindows);

describe("suppress add", () => {
  it("writes a window the router's parser accepts, and says when it ends and takes effect", async () => {
    const run = await h.run([
      "suppress",
      "add",
      "--match",
      "service=checkout",
      "--match",
      "env=~prod|staging",
      "--for",
      "2h",
      "--reason",
      "database failover drill",
      "--by",
      "ops@example.com",
    ]);
    expect(run.code).toBe(0);
    const id = /Created suppression window (\S+)/.exec(run.out)?.[1];
    expect(id).toMatch(/^checkout-prod-staging-[0-9a-f]{4}$/);
    const item = await getWindow(id!);
    expect(parseWindowItem(item).ok).toBe(true);
    expect(item).toMatchObject({
      enabled: true,
      matchers: ["service=checkout", "env=~prod|staging"],
      startsAt: NOW.toISOString(),
      endsAt: "2026-11-26T20:00:00.000Z",
      reason: "database failover drill",
      createdBy: "ops@example.com",
    });
    expect(run.out).toContain("ends        2026-11-26T20:00:00Z (in 2h)");
    expect(run.out).toContain("local time");
    expect(run.out).toContain("takes effect within ~15 s");
  });

  it("defaults createdBy to $USER@hostname and accepts an explicit id", async () => {
    const run = await h.run(["suppress", "add", "--match", "team=db", "--for", "1h30m", "--reason", "upgrade", "--id", "db-upgrade"], {
      env: { USER: "alice" },
    });
    expect(run.code).toBe(0);
    expect(await getWindow("db-upgrade")).toMatchObject({ createdBy: `alice@${hostname()}`, endsAt: at(90) });
  });

  it("uses the OS account when $USER, $LOGNAME and $USERNAME are unset", async () => {
    const run = await h.run(["suppress", "add", "--match", "team=db", "--for", "1h", "--reason", "upgrade", "--id", "no-user"], {
      env: {},
    });
    expect(run.code).toBe(0);
    expect((await getWindow("no-user"))?.createdBy).toBe(`${userInfo().username}@${hostname()}`);
    expect(whoAmI({ USER: "" }, () => undefined)).toBe(`unknown@${hostname()}`);
  });

  it("prints the fields first (ends, reason, created by), then when it takes effect, as docs/cli.md shows", async () => {
    const run = await h.run([
      "suppress",
      "add",
      "--match",
      "team=db",
      "--for",
      "1h",
      "--reason",
      "upgrade",
      "--by",
      "ops@example.com",
      "--id",
      "ordered",
    ]);
    const lines = run.out.split("\n");
    const index = (prefix: string) => lines.findIndex((line) => line.trimStart().startsWith(prefix));
    expect(index("ends")).toBeGreaterThan(0);
    expect(index("ends")).toBeLessThan(index("reason"));
    expect(index("reason")).toBeLessThan(index("created by"));
    expect(index("created by")).toBeLessThan(index("It takes effect within ~15 s"));
  });

  it("takes --from and --until as ISO times with a zone, and says a later start takes effect then", async () => {
    const run = await h.run([
      "suppress",
      "add",
      "--match",
      "service=api",
      "--from",
      "2026-11-26T20:00:00+01:00",
      "--until",
      "2026-11-26T21:00:00Z",
      "--reason",
      "x",
      "--id",
      "later",
    ]);
    expect(run.code).toBe(0);
    expect(await getWindow("later")).toMatchObject({ startsAt: "2026-11-26T19:00:00.000Z", endsAt: "2026-11-26T21:00:00.000Z" });
    expect(run.out).toContain("It takes effect at 2026-11-26T19:00:00Z (in 1h).");
  });

  it("takes relative times: --from +1h --for 30m", async () => {
    expect((await h.run(["suppress", "add", "--match", "a=b", "--from", "+1h", "--for", "30m", "--reason", "x", "--id", "rel"])).code).toBe(
      0,
    );
    expect(await getWindow("rel")).toMatchObject({ startsAt: at(60), endsAt: at(90) });
  });

  it("prints the stored item with --json", async () => {
    const run = await h.run(["suppress", "add", "--match", "a=b", "--for", "1d", "--reason", "x", "--id", "as-json", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual(await getWindow("as-json"));
  });

  it("refuses an invalid matcher with the validator's problem, exit 1, and writes nothing", async () => {
    const run = await h.run(["suppress", "add", "--match", "service~checkout", "--for", "1h", "--reason", "x", "--id", "bad"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain('matchers[0] "service~checkout" has no operator after "service"');
    expect(await getWindow("bad")).toBeUndefined();
  });

  it("refuses matchers that would suppress nearly everything", async () => {
    const run = await h.run(["suppress", "add", "--match", "alertname!=Watchdog", "--for", "1h", "--reason", "x"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain("would suppress nearly everything");
  });

  it("refuses a window that ends before it could suppress anything", async () => {
    const run = await h.run(["suppress", "add", "--match", "a=b", "--until", "2026-11-26T17:00:00Z", "--reason", "x", "--id", "past"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain("before it could suppress anything");
    expect(await getWindow("past")).toBeUndefined();
  });

  it("refuses an id that exists instead of overwriting it", async () => {
    await putRaw(window("taken"));
    const run = await h.run(["suppress", "add", "--match", "a=b", "--for", "1h", "--reason", "x", "--id", "taken"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain('a window with id "taken" already exists');
    expect(await getWindow("taken")).toMatchObject({ matchers: ["case=taken"] });
  });

  it.each([
    ["no --reason", ["--match", "a=b", "--for", "1h"], "--reason"],
    ["no --match", ["--for", "1h", "--reason", "x"], "--match"],
    ["neither --for nor --until", ["--match", "a=b", "--reason", "x"], "exactly one of --for"],
    [
      "both --for and --until",
      ["--match", "a=b", "--for", "1h", "--until", "2026-11-27T00:00:00Z", "--reason", "x"],
      "exactly one of --for",
    ],
    ["a duration it cannot read", ["--match", "a=b", "--for", "2 hours", "--reason", "x"], "is not a duration like 30m, 2h, 1d or 1h30m"],
    ["a time without a zone", ["--match", "a=b", "--until", "2026-11-27T03:00", "--reason", "x"], "has no time zone; add Z for UTC"],
  ])("is a usage error (exit 2) with %s", async (_case, args, message) => {
    const run = await h.run(["suppress", "add", ...args]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(message);
    expect(run.err).toContain("usage: alert-relay suppress add");
    expect((await h.doc.send(new ScanCommand({ TableName: TABLE }))).Count).toBe(0);
  });
});

describe("suppress list", () => {
  beforeEach(async () => {
    await Promise.all([
      putRaw(window("w-active", { startsAt: at(-60), endsAt: at(80) })),
      putRaw(window("w-pending", { startsAt: at(30), endsAt: at(90) })),
      putRaw(window("w-expired", { startsAt: at(-300), endsAt: at(-180) })),
      putRaw(window("w-disabled", { enabled: false })),
      putRaw(window("w-malformed", { matchers: [] })),
    ]);
  });

  it("shows active, pending and malformed windows in aligned columns, with relative ends", async () => {
    const run = await h.run(["suppress", "list"]);
    expect(run.code).toBe(0);
    expect(rowOf(run.out, "w-active")).toEqual({
      STATE: "active",
      ID: "w-active",
      MATCHERS: "case=w-active",
      SCHEDULE: "once",
      STARTS: "2026-11-26T17:00:00Z (1h ago)",
      ENDS: "2026-11-26T19:20:00Z (in 1h 20m)",
      REASON: "reason of w-active",
      "CREATED BY": "ops@example.com",
    });
    expect(rowOf(run.out, "w-pending")?.STATE).toBe("pending");
    expect(rowOf(run.out, "w-malformed")?.STATE).toBe("MALFORMED");
    expect(rowOf(run.out, "w-expired")).toBeUndefined();
    expect(rowOf(run.out, "w-disabled")).toBeUndefined();
    expect(run.out).toContain("2 expired or disabled not shown (--all)");
  });

  it("names malformed windows loudly, with why, under the table", async () => {
    const run = await h.run(["suppress", "list"]);
    expect(run.out).toContain("1 malformed window: the router ignores it, so it suppresses NOTHING");
    expect(run.out).toContain("w-malformed: matchers is empty: a window must name what it suppresses");
  });

  it("shows a malformed item's zone-less times as written, not with the Z whose absence is the problem", async () => {
    await putRaw(window("w-no-zone", { startsAt: "2026-11-26T19:00:00", endsAt: "2026-11-26T21:00:00+01:00" }));
    const run = await h.run(["suppress", "list"]);
    expect(rowOf(run.out, "w-no-zone")).toMatchObject({
      STATE: "MALFORMED",
      STARTS: "2026-11-26T19:00:00",
      ENDS: "2026-11-26T20:00:00Z (in 2h)",
    });
    expect(run.out).toContain('w-no-zone: startsAt "2026-11-26T19:00:00" has no time zone');
  });

  it("shows everything with --all, an ended window as 'ended … ago'", async () => {
    const run = await h.run(["suppress", "list", "--all"]);
    expect(rowOf(run.out, "w-expired")).toMatchObject({
      STATE: "expired",
      STARTS: "2026-11-26T13:00:00Z (5h ago)",
      ENDS: "2026-11-26T15:00:00Z (ended 3h ago)",
    });
    expect(rowOf(run.out, "w-disabled")).toMatchObject({ STATE: "disabled", STARTS: "when written", ENDS: "never (until disabled)" });
  });

  it("prints JSON with --json: state, item, and problems for malformed ones", async () => {
    const listed = JSON.parse((await h.run(["suppress", "list", "--json"])).out) as {
      id: string;
      state: string;
      item: { id: string };
      problems?: string[];
    }[];
    expect(Object.fromEntries(listed.map((entry) => [entry.id, entry.state]))).toEqual({
      "w-active": "active",
      "w-pending": "pending",
      "w-malformed": "malformed",
    });
    expect(listed.find((entry) => entry.id === "w-malformed")?.problems).toEqual([expect.stringContaining("matchers is empty")]);
    expect(listed.find((entry) => entry.id === "w-active")?.item).toEqual(window("w-active", { startsAt: at(-60), endsAt: at(80) }));
    const all = JSON.parse((await h.run(["suppress", "list", "--all", "--json"])).out) as unknown[];
    expect(all).toHaveLength(5);
  });

  it("says so when nothing is active or pending", async () => {
    await clearWindows();
    await putRaw(window("w-expired", { startsAt: at(-300), endsAt: at(-180) }));
    const run = await h.run(["suppress", "list"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("No active or pending windows (1 expired; --all shows them).");
  });
});

describe("recurring windows (suppress add --weekly, suppress list)", () => {
  // NOW is Thursday 2026-11-26 18:00Z; Sunday 02:00 Berlin (CET) is 2026-11-29T01:00Z.
  const weekly = { days: ["sun"], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" };

  it("lists a recurring window with its schedule in words and the next occurrence", async () => {
    await putRaw(window("w-weekly", { schedule: weekly }));
    const run = await h.run(["suppress", "list"]);
    expect(rowOf(run.out, "w-weekly")).toMatchObject({
      STATE: "pending",
      SCHEDULE: "Sun 02:00–04:00 Europe/Berlin",
      STARTS: "next: 2026-11-29T01:00:00Z (in 2d 7h)",
      ENDS: "never (until disabled)",
    });
  });

  it("says 'now, until' the occurrence's end while one is in progress", async () => {
    await putRaw(window("w-nightly", { schedule: { days: ["thu"], start: "17:30", end: "20:00", timeZone: "UTC" } }));
    expect(rowOf((await h.run(["suppress", "list"])).out, "w-nightly")).toMatchObject({
      STATE: "active",
      STARTS: "now, until 2026-11-26T20:00:00Z (in 2h)",
    });
  });

  it("gives the current and next occurrence as UTC instants with --json", async () => {
    await putRaw(window("j-weekly", { schedule: weekly }));
    await putRaw(window("j-nightly", { schedule: { days: ["thu"], start: "17:30", end: "20:00", timeZone: "UTC" } }));
    const listed = JSON.parse((await h.run(["suppress", "list", "--json"])).out) as {
      id: string;
      currentOccurrence?: unknown;
      nextOccurrence?: unknown;
    }[];
    expect(listed.find((window) => window.id === "j-weekly")).toMatchObject({
      nextOccurrence: { start: "2026-11-29T01:00:00.000Z", end: "2026-11-29T03:00:00.000Z" },
    });
    expect(listed.find((window) => window.id === "j-weekly")?.currentOccurrence).toBeUndefined();
    expect(listed.find((window) => window.id === "j-nightly")).toMatchObject({
      currentOccurrence: { start: "2026-11-26T17:30:00.000Z", end: "2026-11-26T20:00:00.000Z" },
      nextOccurrence: { start: "2026-12-03T17:30:00.000Z", end: "2026-12-03T20:00:00.000Z" },
    });
  });

  it("names a malformed schedule loudly", async () => {
    await putRaw(window("w-bad-zone", { schedule: { ...weekly, timeZone: "Europe/Berln" } }));
    const run = await h.run(["suppress", "list"]);
    expect(rowOf(run.out, "w-bad-zone")).toMatchObject({ STATE: "MALFORMED", SCHEDULE: "?" });
    expect(run.out).toContain('w-bad-zone: schedule.timeZone "Europe/Berln" is not a time zone this system knows');
  });

  it("add --weekly writes the schedule the router reads, without inventing bounds", async () => {
    const run = await h.run([
      "suppress",
      "add",
      "--match",
      "service=postgres",
      "--match",
      "env=prod",
      "--weekly",
      "sun 02:00-04:00 Europe/Berlin",
      "--reason",
      "weekly vacuum",
      "--id",
      "weekly-db-maintenance",
      "--by",
      "dba@example.com",
    ]);
    expect(run.code).toBe(0);
    const item = await getWindow("weekly-db-maintenance");
    expect(item).toMatchObject({
      matchers: ["service=postgres", "env=prod"],
      schedule: weekly,
      reason: "weekly vacuum",
      createdBy: "dba@example.com",
    });
    expect(item?.startsAt).toBeUndefined();
    expect(item?.endsAt).toBeUndefined();
    expect(parseWindowItem(item).ok).toBe(true);
    expect(run.out).toContain("repeats     Sun 02:00–04:00 Europe/Berlin");
    expect(run.out).toContain("next        2026-11-29T01:00:00Z (in 2d 7h)");
  });

  it("add --weekly takes several days, an overnight range and --until for the end of the series", async () => {
    const run = await h.run([
      "suppress",
      "add",
      "--match",
      "a=b",
      "--weekly",
      "Fri,sat 22:00-02:00 utc",
      "--until",
      "2026-12-31T00:00:00Z",
      "--reason",
      "x",
      "--id",
      "nights",
    ]);
    expect(run.code).toBe(0);
    expect(await getWindow("nights")).toMatchObject({
      schedule: { days: ["Fri", "sat"], start: "22:00", end: "02:00", timeZone: "UTC" },
      endsAt: "2026-12-31T00:00:00.000Z",
    });
    expect(run.out).toContain("repeats     Fri, Sat 22:00–02:00 (next day) UTC");
  });

  it.each([
    ["a schedule it cannot read", ["--weekly", "sundays at 2"], "write <days> <start>-<end> <time zone>"],
    ["an unknown day", ["--weekly", "sun,funday 02:00-04:00 UTC"], '"funday" is not a day'],
    ["an unknown zone", ["--weekly", "sun 02:00-04:00 Europe/Berln"], '"Europe/Berln" is not a time zone this system knows'],
    ["a bad time", ["--weekly", "sun 2am-4am UTC"], '"2am" is not a 24-hour time'],
    [
      "--for with --weekly",
      ["--weekly", "sun 02:00-04:00 UTC", "--for", "2h"],
      "with --weekly each occurrence's times are in the schedule",
    ],
  ])("is a usage error (exit 2) with %s", async (_case, args, message) => {
    const run = await h.run(["suppress", "add", "--match", "a=b", "--reason", "x", ...args]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(message);
    expect((await h.doc.send(new ScanCommand({ TableName: TABLE }))).Count).toBe(0);
  });
});

describe("suppress end", () => {
  it("ends an active window now; it then lists as expired", async () => {
    await putRaw(window("w-end", { startsAt: at(-10), endsAt: at(60) }));
    const run = await h.run(["suppress", "end", "w-end"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("Ended suppression window w-end at 2026-11-26T18:00:00Z");
    expect(await getWindow("w-end")).toMatchObject({ endsAt: NOW.toISOString(), enabled: true });
    expect(rowOf((await h.run(["suppress", "list", "--all"], { now: new Date(NOW.getTime() + 1000) })).out, "w-end")?.STATE).toBe(
      "expired",
    );
  });

  it("says a window already ended, and changes nothing", async () => {
    await putRaw(window("w-done", { startsAt: at(-300), endsAt: at(-180) }));
    const run = await h.run(["suppress", "end", "w-done"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("Window w-done already ended at 2026-11-26T15:00:00Z (3h ago); nothing changed.");
    expect(await getWindow("w-done")).toMatchObject({ endsAt: at(-180) });
  });

  it("fails clearly on an unknown id", async () => {
    const run = await h.run(["suppress", "end", "nope"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain('there is no window with id "nope"');
  });

  it("needs exactly one id", async () => {
    expect((await h.run(["suppress", "end"])).code).toBe(2);
    expect((await h.run(["suppress", "end", "a", "b"])).code).toBe(2);
  });
});

describe("suppress validate", () => {
  it("exits 0 with a summary when every window is valid", async () => {
    await Promise.all([putRaw(window("ok-1")), putRaw(window("ok-2", { enabled: "true" }))]);
    const run = await h.run(["suppress", "validate"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("2 windows checked");
    expect(run.out).toContain("all valid");
  });

  it("names each malformed item and why, and exits 1", async () => {
    await Promise.all([putRaw(window("ok-1")), putRaw(window("typo", { endAt: "2026-11-27T03:00:00Z" }))]);
    const run = await h.run(["suppress", "validate"]);
    expect(run.code).toBe(1);
    expect(run.out).toContain("MALFORMED typo:");
    expect(run.out).toContain('the item has unknown attribute "endAt"');
    expect(run.out).not.toContain("MALFORMED ok-1");
    expect(run.out).toContain("2 windows checked in the local stack at http://127.0.0.1:9 (table cli-windows): 1 valid, 1 malformed");
  });
});
