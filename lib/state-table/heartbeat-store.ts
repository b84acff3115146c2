/**
 * Heartbeat tracker items in the state table (key `heartbeat:<name>`, `itemType: "heartbeat"`,
 * no `status`, so the problem listings skip them). A beat is one conditional UpdateItem that only
 * moves lastBeatAt forwards; the sweep's check is one unconditional UpdateItem. Only GetItem and
 * UpdateItem on the Lambda paths (what the functions' roles allow); `state list` finds the
 * trackers in its own scan of the table (lib/cli/commands/state-list.ts).
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { conditionalUpdate } from "./table.ts";
import { HEARTBEAT_ITEM_TYPE, trackerKey, type HeartbeatRecord, type HeartbeatStore } from "../heartbeat/heartbeat.ts";

export function createHeartbeatStore(options: { doc: DynamoDBDocumentClient; tableName: string }): HeartbeatStore {
  const { doc, tableName } = options;
  const identity = (name: string) => ({ ":type": HEARTBEAT_ITEM_TYPE, ":name": name });
  const update = conditionalUpdate(doc, tableName);

  return {
    async beat(name, beat, now) {
      // Undefined when the condition failed; the item after the write otherwise.
      const after = await update({
        Key: { dedupKey: trackerKey(name) },
        UpdateExpression:
          "SET itemType = :type, #name = :name, lastBeatAt = :at, " +
          "lastBeatAlertId = :id, lastBeatSource = :source, lastBeatRecordedAt = :now, " +
          "watchingSince = if_not_exists(watchingSince, :now) ADD beats :one",
        // Monotonic: an older or equal beat (SQS redelivery, a late copy) changes nothing.
        ConditionExpression: "attribute_not_exists(lastBeatAt) OR lastBeatAt < :at",
        ExpressionAttributeNames: { "#name": "name" },
        ExpressionAttributeValues: {
          ...identity(name),
          ":at": beat.at,
          ":id": beat.alertId,
          ":source": beat.source,
          ":now": now.toISOString(),
          ":one": 1,
        },
      });
      return after !== undefined;
    },

    async watch(name, intervalMs, now) {
      const result = await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { dedupKey: trackerKey(name) },
          UpdateExpression:
            "SET itemType = :type, #name = :name, intervalMs = :interval, " +
            "checkedAt = :now, watchingSince = if_not_exists(watchingSince, :now)",
          ExpressionAttributeNames: { "#name": "name" },
          ExpressionAttributeValues: { ...identity(name), ":interval": intervalMs, ":now": now.toISOString() },
          ReturnValues: "ALL_NEW",
        }),
      );
      return result.Attributes as HeartbeatRecord;
    },

    async get(name) {
      const result = await doc.send(new GetCommand({ TableName: tableName, Key: { dedupKey: trackerKey(name) }, ConsistentRead: true }));
      return result.Item as HeartbeatRecord | undefined;
    },
  };
}
