import { createRequire } from "node:module";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CreateTableCommand, DynamoDBClient, PutItemCommand, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { startDynamodbServer, type RunningServer } from "../../../lib/local/emulator-servers.ts";
import { LOCAL_CREDENTIALS, LOCAL_HOST, LOCAL_REGION } from "../../../lib/local/settings.ts";

// The abstract-level instance dynalite's stores are built on (the same module the emulator patches).
const requireStore = createRequire(createRequire(import.meta.url).resolve("dynalite"));
const { AbstractValueIterator } = createRequire(requireStore.resolve("level"))("abstract-level") as {
  AbstractValueIterator: { prototype: { close(): Promise<void> } };
};

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  vi.restoreAllMocks();
});

describe("the DynamoDB emulator", () => {
  it("closes the store iterator of every Query and Scan once it has been read (dynalite left them open)", async () => {
    server = await startDynamodbServer(undefined);
    const client = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: `http://${LOCAL_HOST}:${server.port}`,
    });
    try {
      await client.send(
        new CreateTableCommand({
          TableName: "iterators",
          KeySchema: [{ AttributeName: "k", KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: "k", AttributeType: "S" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
      for (const k of ["a", "b", "c"]) await client.send(new PutItemCommand({ TableName: "iterators", Item: { k: { S: k } } }));
      const close = vi.spyOn(AbstractValueIterator.prototype, "close");
      for (let i = 0; i < 10; i += 1) {
        await client.send(new ScanCommand({ TableName: "iterators" }));
        await client.send(
          new QueryCommand({ TableName: "iterators", KeyConditionExpression: "k = :k", ExpressionAttributeValues: { ":k": { S: "a" } } }),
        );
      }
      await vi.waitFor(() => expect(close.mock.calls.length).toBeGreaterThanOrEqual(20));
    } finally {
      client.destroy();
    }
  });
});
