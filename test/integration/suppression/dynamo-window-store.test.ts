/** The windows table against real dynalite: what the CLI writes, the router's cache reads back. */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import {
  InvalidWindowError,
  WINDOWS_TABLE_KEY,
  WindowExistsError,
  WindowNotFoundError,
  createDynamoWindowStore,
  windowsTableDefinition,
  type DynamoWindowStore,
} from "../../../lib/suppression/dynamo-window-store.ts";
import { createWindowCache } from "../../../lib/suppression/window-cache.ts";
import { parseWindowItem, type WindowItem } from "../../../lib/suppression/window-item.ts";
import { windowState } from "../../../lib/suppression/suppress.ts";
import { createTable, dynamoClient, startDynalite, type Dynalite } from "../../support/dynalite.ts";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { alertAt } from "../../support/alerts.ts";

const NOW = new Date("2026-11-27T02:00:00Z");
const WINDOW: WindowItem = {
  id: "checkout-db-maintenance",
  enabled: true,
  matchers: ["service=checkout", "env=~prod|staging"],
  startsAt: "2026-11-27T01:00:00Z",
  endsAt: "2026-11-27T03:00:00Z",
  reason: "database failover drill",
  createdBy: "ops@example.com",
};

let db: Dynalite;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tableName: string;
let store: DynamoWindowStore;
let tables = 0;

beforeAll(async () => {
  db = await startDynalite();
  client = dynamoClient(db.endpoint);
  doc = DynamoDBDocumentClient.from(client);
});

afterAll(async () => {
  client.destroy();
  await db.close();
});

beforeEach(async () => {
  tableName = `windows-${(tables += 1)}`;
  await createTable(db.endpoint, windowsTableDefinition(tableName));
  store = createDynamoWindowStore({ doc, tableName });
});

/** Runs `interfere` just before each of the store's first `times` UpdateItems reaches the table. */
function interfereBeforeUpdates(interfere: () => Promise<unknown>, times = 1) {
  const send = doc.send.bind(doc);
  let left = times;
  return vi.spyOn(doc, "send").mockImplementation((async (command: unknown) => {
    if (left > 0 && command instanceof UpdateCommand) {
      left -= 1;
      await interfere();
    }
    return send(command as never);
  }) as never);
}

async function storedItems() {
  return (await doc.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
}

describe("windows table definition", () => {
  it("keys on id (string), the same for the local stack and CDK", () => {
    expect(WINDOWS_TABLE_KEY).toEqual({ partitionKey: { name: "id", type: "S" } });
    expect(windowsTableDefinition("windows")).toMatchObject({
      TableName: "windows",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    });
  });
});

describe("put", () => {
  it("writes the contract fields with createdAt/updatedAt stamped, and the router reads it back", async () => {
    const written = await store.put(WINDOW, { now: NOW });
    expect(written).toEqual({ ...WINDOW, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() });
    expect(await storedItems()).toEqual([written]);
    const cache = createWindowCache({ source: store, now: () => NOW });
    const alert = alertAt("HighLatency", "firing", 0, { labels: { service: "checkout", env: "staging" } });
    expect((await cache.findSuppressingWindow(alert))?.id).toBe(WINDOW.id);
  });

  it("keeps a createdAt that was given", async () => {
    const written = await store.put({ ...WINDOW, createdAt: "2026-11-01T00:00:00Z" }, { now: NOW });
    expect(written.createdAt).toBe("2026-11-01T00:00:00Z");
    expect(written.updatedAt).toBe(NOW.toISOString());
  });

  it("does not write absent optional fields", async () => {
    const { startsAt: _s, endsAt: _e, ...open } = WINDOW;
    await store.put(open, { now: NOW });
    const [stored] = await storedItems();
    expect(stored).not.toHaveProperty("startsAt");
    expect(stored).not.toHaveProperty("endsAt");
  });

  it("refuses an existing id unless told to overwrite", async () => {
    await store.put(WINDOW, { now: NOW });
    await expect(store.put({ ...WINDOW, reason: "changed" }, { now: NOW })).rejects.toBeInstanceOf(WindowExistsError);
    expect((await storedItems())[0]?.reason).toBe(WINDOW.reason);
    await store.put({ ...WINDOW, reason: "changed" }, { now: NOW, overwrite: true });
    expect((await storedItems())[0]?.reason).toBe("changed");
  });

  it("refuses a window the router would ignore, and writes nothing", async () => {
    const attempt = store.put({ ...WINDOW, matchers: ["env=~(prod"] }, { now: NOW });
    await expect(attempt).rejects.toBeInstanceOf(InvalidWindowError);
    await expect(attempt).rejects.toThrow('matchers[0] "env=~(prod" is not a valid regex');
    expect(await storedItems()).toEqual([]);
  });
});

describe("loadAll", () => {
  it("returns every item, across Scan pages, with console-typed values as DocumentClient gives them", async () => {
    // Three items of ~350 KB pass DynamoDB's 1 MB Scan page, so the store must follow LastEvaluatedKey.
    const bulky = "x".repeat(350_000);
    for (const id of ["a", "b", "c"]) await store.put({ ...WINDOW, id, reason: bulky }, { now: NOW });
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...WINDOW, id: "typed-in-console", enabled: "true", matchers: new Set(["service=checkout"]) },
      }),
    );
    const send = vi.spyOn(doc, "send");
    const items = await store.loadAll();
    const scans = send.mock.calls.filter(([command]) => command instanceof ScanCommand);
    send.mockRestore();
    expect(scans.length).toBeGreaterThan(1);
    expect(scans.every(([command]) => (command as ScanCommand).input.ConsistentRead === true)).toBe(true);
    expect(items.map((item) => item.id).sort()).toEqual(["a", "b", "c", "typed-in-console"]);
    const typed = items.find((item) => item.id === "typed-in-console");
    expect(typed?.matchers).toBeInstanceOf(Set);
    expect(parseWindowItem(typed).ok).toBe(true);
  });

  it("returns an empty list for an empty table", async () => {
    expect(await store.loadAll()).toEqual([]);
  });
});

describe("end", () => {
  it("ends an active window now, leaving enabled as it was", async () => {
    await store.put(WINDOW, { now: new Date("2026-11-26T00:00:00Z") });
    const { changed, item } = await store.end(WINDOW.id, NOW);
    expect(changed).toBe(true);
    expect(item).toMatchObject({ endsAt: NOW.toISOString(), updatedAt: NOW.toISOString(), enabled: true, startsAt: WINDOW.startsAt });
    const parsed = parseWindowItem((await storedItems())[0]);
    expect(parsed.ok && windowState(parsed.window, NOW)).toBe("expired");
  });

  it("ends an open-ended window", async () => {
    const { endsAt: _e, ...open } = WINDOW;
    await store.put(open, { now: NOW });
    expect((await store.end(WINDOW.id, NOW)).item.endsAt).toBe(NOW.toISOString());
  });

  it("cancels a pending window as an empty one, which stays valid", async () => {
    await store.put({ ...WINDOW, startsAt: "2026-11-28T01:00:00Z", endsAt: "2026-11-28T03:00:00Z" }, { now: NOW });
    const { item } = await store.end(WINDOW.id, NOW);
    expect(item).toMatchObject({ startsAt: NOW.toISOString(), endsAt: NOW.toISOString() });
    const parsed = parseWindowItem(item);
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && windowState(parsed.window, new Date("2026-11-28T02:00:00Z"))).toBe("expired");
  });

  it("does not rewrite a window that already ended", async () => {
    await store.put({ ...WINDOW, endsAt: "2026-11-27T01:30:00Z" }, { now: NOW });
    const { changed, item } = await store.end(WINDOW.id, NOW);
    expect(changed).toBe(false);
    expect(item.endsAt).toBe("2026-11-27T01:30:00Z");
    expect((await storedItems())[0]?.endsAt).toBe("2026-11-27T01:30:00Z");
  });

  it("handles a NULL endsAt typed in the console", async () => {
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...WINDOW, endsAt: null } }));
    expect((await store.end(WINDOW.id, NOW)).item.endsAt).toBe(NOW.toISOString());
  });

  it("says clearly when there is no such window, and creates nothing", async () => {
    await expect(store.end("no-such-window", NOW)).rejects.toThrow(new WindowNotFoundError("no-such-window"));
    expect(await storedItems()).toEqual([]);
  });

  it("re-reads instead of overwriting when someone edits the window between read and write", async () => {
    await store.put({ ...WINDOW, startsAt: "2026-11-28T01:00:00Z", endsAt: "2026-11-28T03:00:00Z" }, { now: NOW });
    // A console edit moves the window to today just before our write.
    const spy = interfereBeforeUpdates(() =>
      doc.send(new PutCommand({ TableName: tableName, Item: { ...WINDOW, startsAt: "2026-11-27T01:00:00Z" } })),
    );
    const { item } = await store.end(WINDOW.id, NOW);
    spy.mockRestore();
    // Decided on the edited item: active, so startsAt stays; not the stale pending one.
    expect(item).toMatchObject({ startsAt: "2026-11-27T01:00:00Z", endsAt: NOW.toISOString() });
  });

  it("gives up with a clear error when the window keeps changing under it", async () => {
    await store.put(WINDOW, { now: NOW });
    let edits = 0;
    const spy = interfereBeforeUpdates(
      () => doc.send(new PutCommand({ TableName: tableName, Item: { ...WINDOW, endsAt: `2026-11-27T03:0${(edits += 1)}:00Z` } })),
      Infinity,
    );
    await expect(store.end(WINDOW.id, NOW)).rejects.toThrow(`window "${WINDOW.id}" kept changing while being ended; try again`);
    spy.mockRestore();
    expect(edits).toBe(3);
  });

  it("reports a window deleted between read and write as not found", async () => {
    await store.put(WINDOW, { now: NOW });
    const spy = interfereBeforeUpdates(() => doc.send(new DeleteCommand({ TableName: tableName, Key: { id: WINDOW.id } })));
    await expect(store.end(WINDOW.id, NOW)).rejects.toBeInstanceOf(WindowNotFoundError);
    spy.mockRestore();
    expect(await storedItems()).toEqual([]);
  });
});
