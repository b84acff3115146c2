/**
 * An embedded DynamoDB (dynalite, in memory) on an ephemeral loopback port, reached with the
 * normal SDK clients. Tables become ACTIVE immediately (createTableMs: 0) to keep tests fast.
 */
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { TEST_CREDENTIALS } from "./local-sqs.ts";

/** dynalite ships no type declarations; this is the part of its API the tests use. */
type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
const dynalite = createRequire(import.meta.url)("dynalite") as DynaliteFactory;

export interface Dynalite {
  /** e.g. `http://127.0.0.1:49152`, for `endpoint` in an SDK client or AWS_ENDPOINT_URL_DYNAMODB. */
  endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // SDK clients keep connections alive, and close() waits for every open connection.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A DynamoDB client for the emulator (region us-east-1, fake credentials). Destroy it when done. */
export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: "us-east-1", credentials: TEST_CREDENTIALS });
}

/** Creates a table and waits until it is ACTIVE (dynalite refuses item writes while CREATING). */
export async function createTable(endpoint: string, input: CreateTableCommandInput): Promise<void> {
  const client = dynamoClient(endpoint);
  try {
    await client.send(new CreateTableCommand(input));
    for (;;) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
      if (Table?.TableStatus === "ACTIVE") return;
      await sleep(2);
    }
  } finally {
    client.destroy();
  }
}
