/** The pacer of lib/router/pacing.ts on the state table: one `pace:<routing key ref>` record per routing key. */
import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DEFAULT_EVENTS_PER_MINUTE, SLOTS, decidePace, paceKey, slotName, slotOf, type PaceRecord, type Pacer } from "../router/pacing.ts";
import { conditionalUpdate } from "./table.ts";

/** Events waiting for room come back spread over this much more time, so they do not all return at once. */
const SPREAD_MS = { normal: 10_000, priority: 2_000 };

export interface PacerOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  perMinute?: number;
  now?: () => Date;
  random?: () => number;
}

export function createPacer(options: PacerOptions): Pacer {
  const { doc, tableName } = options;
  const perMinute = options.perMinute ?? DEFAULT_EVENTS_PER_MINUTE;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const update = conditionalUpdate(doc, tableName);
  const expiresAt = (nowMs: number) => Math.floor(nowMs / 1000) + 3600;

  /** One increment of the current slot, unless the key is paused; slots that aged out go in the same write. */
  async function take(routingKeyRef: string, nowMs: number) {
    const current = slotOf(nowMs);
    const aged = Array.from({ length: SLOTS }, (_, i) => slotName(current - SLOTS - i));
    const names = Object.fromEntries([["#w", "w"], ["#cur", slotName(current)], ...aged.map((name, i) => [`#o${i}`, name])]);
    const common = {
      Key: { dedupKey: paceKey(routingKeyRef) },
      ExpressionAttributeValues: {
        ":now": nowMs,
        ":type": "pace",
        ":ref": routingKeyRef,
        ":perMinute": perMinute,
        ":expiresAt": expiresAt(nowMs),
      } as Record<string, unknown>,
    };
    const fields = "recordType = :type, routingKeyRef = :ref, perMinute = :perMinute, expiresAt = :expiresAt";
    const notPaused = "(attribute_not_exists(pausedUntil) OR pausedUntil <= :now)";
    const counted = await update({
      ...common,
      UpdateExpression:
        `SET #w.#cur = if_not_exists(#w.#cur, :zero) + :one, ${fields} ` + `REMOVE ${aged.map((_, i) => `#w.#o${i}`).join(", ")}`,
      ConditionExpression: `attribute_exists(#w) AND ${notPaused}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...common.ExpressionAttributeValues, ":zero": 0, ":one": 1 },
    });
    if (counted) return counted as unknown as PaceRecord;
    // The first event of the key (or after the record expired).
    const first = await update({
      ...common,
      UpdateExpression: `SET #w = :w, ${fields}`,
      ConditionExpression: `attribute_not_exists(#w) AND ${notPaused}`,
      ExpressionAttributeNames: { "#w": "w" },
      ExpressionAttributeValues: { ...common.ExpressionAttributeValues, ":w": { [slotName(current)]: 1 } },
    });
    return first as unknown as PaceRecord | undefined;
  }

  async function giveBack(routingKeyRef: string, nowMs: number): Promise<void> {
    // The slot the place was taken in (it may have ended meanwhile); never below zero.
    await update({
      Key: { dedupKey: paceKey(routingKeyRef) },
      UpdateExpression: "SET #w.#cur = #w.#cur - :one",
      ConditionExpression: "#w.#cur > :zero",
      ExpressionAttributeNames: { "#w": "w", "#cur": slotName(slotOf(nowMs)) },
      ExpressionAttributeValues: { ":one": 1, ":zero": 0 },
    });
  }

  return {
    async admit(routingKeyRef, priority) {
      const nowMs = now().getTime();
      let record = await take(routingKeyRef, nowMs);
      // Not counted: paused (or a racing first event created the record: one more try tells).
      if (!record) record = await take(routingKeyRef, nowMs);
      const decision = record
        ? decidePace(record, nowMs, perMinute, priority)
        : decidePace(
            (await doc.send(new GetCommand({ TableName: tableName, Key: { dedupKey: paceKey(routingKeyRef) }, ConsistentRead: true })))
              .Item as PaceRecord | undefined,
            nowMs,
            perMinute,
            priority,
          );
      if (record && decision.admit) return { admitted: true };
      if (record) await giveBack(routingKeyRef, nowMs);
      const waitMs = decision.admit ? 1_000 : decision.waitMs;
      const why = decision.admit ? "its pacing record is being created by another instance" : decision.why;
      const spread = Math.floor(random() * (priority ? SPREAD_MS.priority : SPREAD_MS.normal));
      return { admitted: false, retryAfterMs: waitMs + spread, reason: `paced: routing key '${routingKeyRef}' waits: ${why}` };
    },

    release: (routingKeyRef, admittedAt) => giveBack(routingKeyRef, admittedAt.getTime()),

    async pause(routingKeyRef, ms) {
      const nowMs = now().getTime();
      const until = nowMs + ms;
      await update({
        Key: { dedupKey: paceKey(routingKeyRef) },
        UpdateExpression: "SET pausedUntil = :until, recordType = :type, routingKeyRef = :ref, expiresAt = :expiresAt",
        ConditionExpression: "attribute_not_exists(pausedUntil) OR pausedUntil < :until",
        ExpressionAttributeValues: { ":until": until, ":type": "pace", ":ref": routingKeyRef, ":expiresAt": expiresAt(until) },
      });
    },
  };
}
