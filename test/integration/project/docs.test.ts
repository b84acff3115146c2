/**
 * Every copy-paste example in the README and docs/ must work: the window item in DynamoDB's typed
 * JSON is written with PutItem, as `aws dynamodb put-item` does, and must read back as a valid
 * window. The README's length and the links: test/unit/project/docs.test.ts.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { createDynamoWindowStore, windowsTableDefinition } from "../../../lib/suppression/dynamo-window-store.ts";
import { documentClient } from "../../../lib/handlers/router-runtime.ts";
import { parseWindowItem } from "../../../lib/suppression/window-item.ts";
import { createTable, dynamoClient, startDynalite, type Dynalite } from "../../support/dynalite.ts";

describe("the window item in DynamoDB's typed JSON (README, docs/windows.md)", () => {
  let db: Dynalite;
  beforeAll(async () => {
    db = await startDynalite();
    await createTable(db.endpoint, windowsTableDefinition("windows"));
  });
  afterAll(async () => db.close());

  it.each(["README.md", "docs/windows.md"])("%s: put-item writes a valid window", async (page) => {
    const text = readFileSync(page, "utf8");
    const typed = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!).find((block) => block.includes('"BOOL"'));
    expect(typed, `${page} has a typed-JSON window item`).toBeDefined();
    const item = JSON.parse(typed!) as Record<string, AttributeValue>;
    const client = dynamoClient(db.endpoint);
    await client.send(new PutItemCommand({ TableName: "windows", Item: item }));
    const [stored] = await createDynamoWindowStore({ doc: documentClient(client), tableName: "windows" }).loadAll();
    const parsed = parseWindowItem(stored);
    expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    expect(parsed.ok && parsed.window).toMatchObject({ id: "checkout-db-maintenance", enabled: true, reason: "database failover drill" });
  });
});
