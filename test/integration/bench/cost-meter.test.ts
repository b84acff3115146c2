/**
 * The cost bench charges DynamoDB as DynamoDB bills it (issue 15): a write on the larger of the
 * item before and after (1 KB units), a failed conditional write on the item as it stood, one
 * unit per KEYS_ONLY index entry written or removed, reads in the units dynalite reports.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELIVERY_SHAPES, emptyTally, meterDynamo, requestFeeFloor, type DynamoTally } from "../../../bench/cost.ts";
import { stateTableDefinition } from "../../../lib/local/emulators.ts";
import { documentClient } from "../../../lib/handlers/router-runtime.ts";
import { dynamoClient, startDynalite, type Dynalite } from "../../support/dynalite.ts";

let db: Dynalite;
let tally: DynamoTally;
const TABLE = "meter-state";

beforeAll(async () => {
  db = await startDynalite();
  await dynamoClient(db.endpoint).send(new CreateTableCommand(stateTableDefinition(TABLE)));
});
afterAll(() => db.close());

describe("the cost bench's DynamoDB meter", () => {
  it("charges writes on the larger item, failed conditions on the item as it stood, index entries one unit each", async () => {
    const client = dynamoClient(db.endpoint);
    tally = emptyTally();
    await meterDynamo(client, dynamoClient(db.endpoint), () => tally, TABLE);
    const doc = documentClient(client);
    const big = "x".repeat(2_500);

    await doc.send(new PutCommand({ TableName: TABLE, Item: { dedupKey: "k", payload: big } }));
    expect(tally.writeUnits).toBe(3); // ~2.5 KB → 3 units
    // Shrinking the item is charged on the larger, earlier one.
    await doc.send(new UpdateCommand({ TableName: TABLE, Key: { dedupKey: "k" }, UpdateExpression: "REMOVE payload" }));
    expect(tally.writeUnits).toBe(6);
    // A small item stays at one unit; entering the watch index adds one index unit.
    await doc.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { dedupKey: "k" },
        UpdateExpression: "SET watch = :w, watchAt = :a",
        ExpressionAttributeValues: { ":w": "due", ":a": "2026-12-02T00:00:00Z" },
      }),
    );
    expect([tally.writeUnits, tally.indexWriteUnits]).toEqual([7, 1]);
    // Moving within the index: the old entry removed, the new one written.
    await doc.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { dedupKey: "k" },
        UpdateExpression: "SET watchAt = :a",
        ExpressionAttributeValues: { ":a": "2026-12-02T00:01:00Z" },
      }),
    );
    expect(tally.indexWriteUnits).toBe(3);

    await doc.send(new PutCommand({ TableName: TABLE, Item: { dedupKey: "c", payload: big } }));
    const before = tally.writeUnits;
    await expect(
      doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { dedupKey: "c" },
          UpdateExpression: "SET x = :x",
          ConditionExpression: "attribute_not_exists(dedupKey)",
          ExpressionAttributeValues: { ":x": 1 },
        }),
      ),
    ).rejects.toThrow();
    expect(tally.writeUnits - before).toBe(3);
    expect(tally.failedConditionalWrites).toBe(1);

    await doc.send(new GetCommand({ TableName: TABLE, Key: { dedupKey: "c" }, ConsistentRead: true }));
    expect([tally.readRequests, tally.readUnits]).toEqual([1, 1]);
  });
});

describe("the cost bench's floor from request fees", () => {
  it("charges each request's fees to its alerts and the router's receive, delete and invocation to full batches", () => {
    // API Gateway 1.00 + adapter 0.20 + SendMessage 0.40, then (2 × 0.40 + 0.20) / 10 per alert.
    expect(requestFeeFloor(DELIVERY_SHAPES.webhook)).toBeCloseTo(1.7, 10);
    // No API Gateway under SNS.
    expect(requestFeeFloor(DELIVERY_SHAPES.sns)).toBeCloseTo(0.7, 10);
    // Ten alerts share one webhook, one invocation and one SendMessageBatch.
    expect(requestFeeFloor(DELIVERY_SHAPES.grouped)).toBeCloseTo(0.26, 10);
  });
});
