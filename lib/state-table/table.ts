/**
 * The state table's owner: its layout (shared by the local stack and the CDK stack) and the
 * single-item helpers every record kind is written and read with. Five kinds of record share the
 * table, told apart by key prefix (KEY_PREFIX in lib/alert/relay-keys.ts): problems, group and
 * storm incidents, pacing records and heartbeat trackers.
 */
import {
  ConditionalCheckFailedException,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { NormalizedAlert } from "../alert/schema.ts";
import type { ProblemState } from "../router/state.ts";

/** The table layout, shared by the local stack and the CDK stack so both create it the same way. */
export const STATE_TABLE = {
  partitionKey: "dedupKey",
  watchIndex: "watch-index",
  ttlAttribute: "expiresAt",
  keySchema: [{ AttributeName: "dedupKey", KeyType: "HASH" }] as KeySchemaElement[],
  attributeDefinitions: [
    { AttributeName: "dedupKey", AttributeType: "S" },
    { AttributeName: "watch", AttributeType: "S" },
    { AttributeName: "watchAt", AttributeType: "S" },
  ] as AttributeDefinition[],
  globalSecondaryIndexes: [
    {
      IndexName: "watch-index",
      KeySchema: [
        { AttributeName: "watch", KeyType: "HASH" },
        { AttributeName: "watchAt", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "KEYS_ONLY" },
    },
  ] as GlobalSecondaryIndex[],
} as const;

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string } | null)?.name === "ConditionalCheckFailedException";

/** The table's TTL deletes lazily (up to days late), so an expired item is treated as absent here. */
export function isExpired(state: Pick<ProblemState, "expiresAt">, now: Date): boolean {
  return state.expiresAt !== undefined && state.expiresAt * 1000 <= now.getTime();
}

export type UpdateInput = Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">;

/**
 * The alert kept on a state item is stored as its JSON text, not as a DynamoDB map: label and
 * detail names are the sources' data, and as map keys names such as "constructor" or "toString"
 * break the SDK's marshalling ("Unsupported type passed") while "__proto__" would be object
 * machinery on the way back. As text they are inert both ways. Items written before this change
 * hold a map, which is still read.
 */
export function storedAlert(alert: NormalizedAlert): string {
  return JSON.stringify(alert);
}

/** A state item as read from the table: the stored alert text parsed back. */
export function problemFromItem(item: Record<string, unknown>): ProblemState {
  const lastAlert = item.lastAlert;
  return (typeof lastAlert === "string" ? { ...item, lastAlert: JSON.parse(lastAlert) as NormalizedAlert } : item) as unknown as ProblemState;
}

/** One conditional UpdateItem returning the item after it, or undefined when the condition failed. */
export function conditionalUpdate(doc: DynamoDBDocumentClient, tableName: string) {
  return async function update(input: UpdateInput): Promise<ProblemState | undefined> {
    try {
      const result = await doc.send(new UpdateCommand({ TableName: tableName, ReturnValues: "ALL_NEW", ...input }));
      return result.Attributes && problemFromItem(result.Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  };
}

export const DEFAULT_RESOLVED_RETENTION_SECONDS = 30 * 24 * 3600;

/** One item, read consistently: a decision must see the newest conditional write. */
export async function readState(doc: DynamoDBDocumentClient, tableName: string, dedupKey: string): Promise<ProblemState | undefined> {
  const result = await doc.send(new GetCommand({ TableName: tableName, Key: { dedupKey }, ConsistentRead: true }));
  return result.Item && problemFromItem(result.Item);
}
