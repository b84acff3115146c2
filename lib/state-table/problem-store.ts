/**
 * Problem state in DynamoDB. Every change is one conditional single-item write (no transactions,
 * no read-then-write): the conditions are what keep two router instances from both paging, and
 * an old event from overriding a newer one. The steady path (a duplicate) is one write, no read.
 */
import {
  ConditionalCheckFailedException,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand, paginateQuery, paginateScan, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { NormalizedAlert } from "../alert/schema.ts";
import type { DeliveryClaim, ProblemState, SuppressionMatch, ToldRecord } from "../router/state.ts";
import { MAX_RECORDED_CHANGES } from "../router/flapping.ts";

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

/** How a recorded observation related to what was known. */
export type RecordOutcome = "new" | "transition" | "repeat" | "stale";

export interface StateStore {
  record(alert: NormalizedAlert, now: Date): Promise<{ outcome: RecordOutcome; state: ProblemState }>;
  get(dedupKey: string): Promise<ProblemState | undefined>;
  /** Claims a delivery if no live claim exists and what was told is still `expectedTold`. */
  claim(state: ProblemState, claim: DeliveryClaim, now: Date): Promise<boolean>;
  /**
   * Records what PagerDuty accepted and ends the claim; undefined if the claim was lost meanwhile.
   * `transitionAt` is the state the delivery was for: only if it is still current is the problem
   * no longer owed (a resolve recorded meanwhile stays owed).
   */
  confirm(dedupKey: string, claimId: string, told: ToldRecord, transitionAt?: string, options?: { unpaged?: boolean }): Promise<ProblemState | undefined>;
  /** A trigger attempt got no answer: a later resolve is sent once more after a settle delay. */
  markUncertainTrigger(dedupKey: string, now: Date): Promise<void>;
  /** After a confirmed resolve that followed an uncertain trigger: the sweep re-sends the resolve at `at`. */
  scheduleReResolve(state: ProblemState, at: Date): Promise<void>;
  /** The problem's change needs nothing from PagerDuty (a duplicate state, a group member, never paged): no longer owed. */
  settle(state: ProblemState): Promise<void>;
  /** The sweep delivered what the problem's own message did not (lost, or failing longer than the grace period). */
  markRecovered(dedupKey: string, now: Date): Promise<void>;
  /** Ends a claim whose delivery failed, keeping the reason for `state show`. */
  release(dedupKey: string, claimId: string, error: string, options?: { refused?: boolean }): Promise<void>;
  markSuppressed(dedupKey: string, window: SuppressionMatch): Promise<void>;
  /** A flapping problem's resolve waits until `until`: the sweep looks again then. Counted once per hold. */
  markHeld(state: ProblemState, until: string): Promise<void>;
  /**
   * Dedup keys the sweep must look at again: suppressed while firing, a resolve held while
   * flapping, an open group or storm incident, a resolve re-send due by `now` (the caller's clock), and (with `owedBefore`) every problem whose recorded
   * change PagerDuty has not been told since before that instant.
   */
  watched(options?: { owedBefore?: Date; onlyOwed?: boolean; now?: Date }): AsyncIterable<string>;
  list(options?: { firing?: boolean }): AsyncIterable<ProblemState>;
}

export interface DynamoStateStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** How long a resolved problem is remembered (TTL), default 30 days. */
  resolvedRetentionSeconds?: number;
}

/** Keys remembered per instance for the write-order hint; beyond this the oldest are forgotten. */
const LAST_STATUS_ENTRIES = 10_000;

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

export function createDynamoStateStore(options: DynamoStateStoreOptions): StateStore {
  const { doc, tableName } = options;
  const retention = options.resolvedRetentionSeconds ?? DEFAULT_RESOLVED_RETENTION_SECONDS;
  const key = (dedupKey: string) => ({ dedupKey });
  const update = conditionalUpdate(doc, tableName);

  function observationValues(alert: NormalizedAlert, now: Date) {
    return {
      ":status": alert.status,
      ":severity": alert.severity,
      ":at": alert.occurredAt,
      ":now": now.toISOString(),
      ":nowEpoch": Math.floor(now.getTime() / 1000),
      ":id": alert.id,
      ":alert": storedAlert(alert),
      ":one": 1,
    };
  }

  /** Resolved problems expire after the retention; firing ones never do. */
  const expiry = (alert: NormalizedAlert, now: Date) =>
    alert.status === "resolved"
      ? { set: ", expiresAt = :expiresAt", remove: "", values: { ":expiresAt": Math.floor(now.getTime() / 1000) + retention } }
      : { set: "", remove: ", expiresAt", values: {} };

  /** Same status, not older than what is recorded: the steady path, one conditional write. */
  async function recordRepeat(alert: NormalizedAlert, now: Date) {
    const exp = expiry(alert, now);
    return update({
      Key: key(alert.dedupKey),
      UpdateExpression: `SET lastSeenAt = :now, lastAlertId = :id, severity = :severity, lastAlert = :alert, eventAt = :at${exp.set} ADD seen :one, deduplicated :one`,
      ConditionExpression: "#status = :status AND eventAt <= :at AND (attribute_not_exists(expiresAt) OR expiresAt > :nowEpoch)",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ...observationValues(alert, now), ...exp.values },
    });
  }

  /** A new problem, or a change of status newer than everything recorded. */
  async function recordTransition(alert: NormalizedAlert, now: Date) {
    const exp = expiry(alert, now);
    return update({
      Key: key(alert.dedupKey),
      UpdateExpression:
        `SET #status = :status, severity = :severity, transitionAt = :at, eventAt = :at, lastSeenAt = :now, lastAlertId = :id, lastAlert = :alert, ` +
        `#source = :source, firstSeenAt = if_not_exists(firstSeenAt, :now), deduplicated = if_not_exists(deduplicated, :zero), ` +
        `suppressed = if_not_exists(suppressed, :zero), stale = if_not_exists(stale, :zero), changes = list_append(if_not_exists(changes, :noChanges), :change)${exp.set} ` +
        `, watch = :owed, watchAt = :now ADD seen :one REMOVE suppressedBy, suppressedReason${exp.remove}`,
      ConditionExpression: "attribute_not_exists(dedupKey) OR expiresAt <= :nowEpoch OR (#status <> :status AND eventAt < :at)",
      ExpressionAttributeNames: { "#status": "status", "#source": "source" },
      ExpressionAttributeValues: { ...observationValues(alert, now), ...exp.values, ":source": alert.source, ":zero": 0, ":noChanges": [], ":change": [alert.occurredAt], ":owed": "owed" },
    });
  }

  /**
   * Keeps the change list short: once it is twice the kept length, back to the kept length, so the
   * extra write comes once every MAX_RECORDED_CHANGES changes. Older entries are harmless meanwhile
   * (flapping counts by time); a lost race only means the list is trimmed on a later change.
   */
  async function trimChanges(state: ProblemState): Promise<ProblemState> {
    const changes = state.changes ?? [];
    if (changes.length <= 2 * MAX_RECORDED_CHANGES) return state;
    const kept = changes.slice(-MAX_RECORDED_CHANGES);
    const trimmed = await update({
      Key: key(state.dedupKey),
      UpdateExpression: "SET changes = :kept",
      ConditionExpression: "size(changes) = :length",
      ExpressionAttributeValues: { ":kept": kept, ":length": changes.length },
    });
    return trimmed ?? { ...state, changes: kept };
  }

  /** Older than what is recorded: counted, never applied. An old copy of the current status is a duplicate, else stale. */
  async function recordOlder(alert: NormalizedAlert, now: Date) {
    const sameStatus = await update({
      Key: key(alert.dedupKey),
      UpdateExpression: "SET lastSeenAt = :now ADD seen :one, deduplicated :one",
      ConditionExpression: "#status = :status",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":now": now.toISOString(), ":one": 1, ":status": alert.status },
    });
    if (sameStatus) return { outcome: "repeat" as const, state: sameStatus };
    const stale = await update({
      Key: key(alert.dedupKey),
      UpdateExpression: "SET lastSeenAt = :now ADD seen :one, stale :one",
      ConditionExpression: "attribute_exists(dedupKey) AND #status <> :status",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":now": now.toISOString(), ":one": 1, ":status": alert.status },
    });
    return stale ? { outcome: "stale" as const, state: stale } : undefined;
  }

  const tryRepeat = async (alert: NormalizedAlert, now: Date) => {
    const state = await recordRepeat(alert, now);
    return state && { outcome: "repeat" as const, state };
  };
  const tryTransition = async (alert: NormalizedAlert, now: Date) => {
    const state = await recordTransition(alert, now);
    return state && { outcome: state.seen === 1 ? ("new" as const) : ("transition" as const), state: await trimChanges(state) };
  };

  /** Last status this instance recorded per key: only a hint for which write to try first. */
  const lastStatus = new Map<string, ProblemState["status"]>();
  function remember(dedupKey: string, status: ProblemState["status"]): void {
    lastStatus.delete(dedupKey);
    lastStatus.set(dedupKey, status);
    if (lastStatus.size > LAST_STATUS_ENTRIES) lastStatus.delete(lastStatus.keys().next().value!);
  }

  return {
    async record(alert, now) {
      // A conditional write that fails costs as much as one that succeeds, so guess right: a key
      // this instance last saw in the same status is most likely a repeat (Alertmanager re-sends,
      // SQS redelivers), anything else most likely new or a transition. One write either way.
      const expectRepeat = lastStatus.get(alert.dedupKey) === alert.status;
      const attempts: readonly ((a: NormalizedAlert, n: Date) => Promise<{ outcome: RecordOutcome; state: ProblemState } | undefined>)[] =
        expectRepeat ? [tryRepeat, tryTransition, recordOlder] : [tryTransition, tryRepeat, recordOlder];
      for (let round = 0; round < 3; round += 1) {
        for (const attempt of attempts) {
          const result = await attempt(alert, now);
          if (result) {
            remember(alert.dedupKey, result.state.status);
            return result;
          }
        }
      }
      throw new Error(`state of ${alert.dedupKey} kept changing under concurrent writes; the message will be retried`);
    },

    get: (dedupKey) => readState(doc, tableName, dedupKey),

    async claim(state, claim, now) {
      const told = state.told;
      const toldCondition = told ? "told.alertId = :toldAlertId AND told.#at = :toldAt AND told.#action = :toldAction" : "attribute_not_exists(told)";
      const opens = claim.action === "trigger" ? ", openIn = :openIn" : "";
      // A problem counted into a group or storm incident never pages on its own as well (a raced copy may have joined meanwhile).
      const notMember = claim.action === "trigger" ? " AND (attribute_not_exists(#aggregate) OR #aggregate.synced.#status = :resolved)" : "";
      const result = await update({
        Key: key(state.dedupKey),
        UpdateExpression: `SET delivery = :claim${opens}`,
        ConditionExpression: `(attribute_not_exists(delivery) OR delivery.#until < :now) AND #status = :status AND transitionAt = :transitionAt AND ${toldCondition}${notMember}`,
        ExpressionAttributeNames: {
          "#status": "status",
          "#until": "until",
          ...(told ? { "#at": "at", "#action": "action" } : {}),
          ...(claim.action === "trigger" ? { "#aggregate": "aggregate" } : {}),
        },
        ExpressionAttributeValues: {
          ":claim": claim,
          ":now": now.toISOString(),
          ":status": state.status,
          ":transitionAt": state.transitionAt,
          ...(claim.action === "trigger" ? { ":openIn": { routingKeyRef: claim.routingKeyRef, route: claim.route }, ":resolved": "resolved" } : {}),
          ...(told ? { ":toldAlertId": told.alertId, ":toldAt": told.at, ":toldAction": told.action } : {}),
        },
      });
      return result !== undefined;
    },

    async confirm(dedupKey, claimId, told, transitionAt, options = {}) {
      // A confirmed resolve closes what was open, ends flapping (it was stable) and any re-send; a confirmed trigger ends any suppression.
      const extra = told.action === "resolve" ? ", openIn, flappingSince, reResolveAt" : ", suppressedBy, suppressedReason";
      // A group or storm incident (told carries its counts) stays watched while open: the sweep sends its updates.
      const keepsWatch = told.action === "trigger" && told.members !== undefined;
      const unpaged = options.unpaged ? " ADD unpaged :one" : "";
      const confirmWith = (settled: boolean) =>
        update({
          Key: key(dedupKey),
          UpdateExpression: `SET told = :told${unpaged} REMOVE delivery, lastDeliveryError${extra}${settled && !keepsWatch ? ", watch, watchAt" : ""}`,
          ConditionExpression: `delivery.claimId = :claimId${settled && transitionAt ? " AND transitionAt = :transitionAt" : ""}`,
          ExpressionAttributeValues: {
            ":told": told,
            ":claimId": claimId,
            ...(settled && transitionAt ? { ":transitionAt": transitionAt } : {}),
            ...(options.unpaged ? { ":one": 1 } : {}),
          },
        });
      // The usual case is one write; a change recorded while delivering keeps its mark (second write).
      return (await confirmWith(true)) ?? (transitionAt ? confirmWith(false) : undefined);
    },

    async markUncertainTrigger(dedupKey, now) {
      await update({
        Key: key(dedupKey),
        UpdateExpression: "SET uncertainTriggerAt = :now",
        ConditionExpression: "attribute_exists(dedupKey)",
        ExpressionAttributeValues: { ":now": now.toISOString() },
      });
    },

    async scheduleReResolve(state, at) {
      await update({
        Key: key(state.dedupKey),
        UpdateExpression: "SET reResolveAt = :at, watch = :reresolve, watchAt = :at REMOVE uncertainTriggerAt",
        ConditionExpression: "#status = :resolved AND transitionAt = :transitionAt AND told.#action = :resolve AND attribute_not_exists(watch)",
        ExpressionAttributeNames: { "#status": "status", "#action": "action" },
        ExpressionAttributeValues: { ":at": at.toISOString(), ":reresolve": "reresolve", ":resolved": "resolved", ":resolve": "resolve", ":transitionAt": state.transitionAt },
      });
    },

    async settle(state) {
      if (state.watch !== "owed") return;
      await update({
        Key: key(state.dedupKey),
        UpdateExpression: "REMOVE watch, watchAt",
        ConditionExpression: "watch = :owed AND transitionAt = :transitionAt",
        ExpressionAttributeValues: { ":owed": "owed", ":transitionAt": state.transitionAt },
      });
    },

    async markRecovered(dedupKey, now) {
      await update({
        Key: key(dedupKey),
        UpdateExpression: "SET recoveredAt = :now ADD recovered :one",
        ConditionExpression: "attribute_exists(dedupKey)",
        ExpressionAttributeValues: { ":now": now.toISOString(), ":one": 1 },
      });
    },

    async release(dedupKey, claimId, error, options = {}) {
      // Refused by PagerDuty (400): resending cannot help, so the sweep stops trying; the message is in the DLQ with the reason.
      await update({
        Key: key(dedupKey),
        UpdateExpression: `SET lastDeliveryError = :error REMOVE delivery${options.refused ? ", watch, watchAt" : ""}`,
        ConditionExpression: "delivery.claimId = :claimId",
        ExpressionAttributeValues: { ":error": error, ":claimId": claimId },
      });
    },

    async markSuppressed(dedupKey, window) {
      await update({
        Key: key(dedupKey),
        UpdateExpression: "SET suppressedBy = :id, suppressedReason = :reason, watch = :watch, watchAt = :watchAt ADD suppressed :one",
        ConditionExpression: "#status = :firing AND (attribute_not_exists(suppressedBy) OR suppressedBy <> :id)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":id": window.id,
          ":reason": window.reason ?? "",
          ":watch": "suppressed",
          // Open-ended windows sort last; the sweep reads the whole (small) suppressed partition anyway.
          ":watchAt": window.endsAt ?? "9999-12-31T23:59:59Z",
          ":one": 1,
          ":firing": "firing",
        },
      });
    },

    async markHeld(state, until) {
      await update({
        Key: key(state.dedupKey),
        UpdateExpression: "SET watch = :held, watchAt = :until, flappingSince = if_not_exists(flappingSince, :transitionAt) ADD held :one",
        ConditionExpression: "#status = :resolved AND transitionAt = :transitionAt AND attribute_exists(openIn) AND (attribute_not_exists(watch) OR watch <> :held)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":held": "held", ":until": until, ":one": 1, ":resolved": "resolved", ":transitionAt": state.transitionAt },
      });
    },

    async *watched(options = {}) {
      const others = [
        ...(["suppressed", "held", "aggregate"] as const).map((watch) => ({ KeyConditionExpression: "watch = :watch", ExpressionAttributeValues: { ":watch": watch } })),
        // Re-sends of a resolve, once due.
        { KeyConditionExpression: "watch = :watch AND watchAt <= :now", ExpressionAttributeValues: { ":watch": "reresolve", ":now": (options.now ?? new Date()).toISOString() } },
      ];
      const queries = [
        ...(options.onlyOwed ? [] : others),
        ...(options.owedBefore
          ? [{ KeyConditionExpression: "watch = :watch AND watchAt < :before", ExpressionAttributeValues: { ":watch": "owed", ":before": options.owedBefore.toISOString() } }]
          : []),
      ];
      for (const query of queries) {
        const pages = paginateQuery({ client: doc }, { TableName: tableName, IndexName: STATE_TABLE.watchIndex, ...query });
        for await (const page of pages) for (const item of page.Items ?? []) yield item.dedupKey as string;
      }
    },

    async *list(options = {}) {
      const filter = options.firing
        ? { FilterExpression: "#status = :firing", ExpressionAttributeNames: { "#status": "status" }, ExpressionAttributeValues: { ":firing": "firing" } }
        : {};
      for await (const page of paginateScan({ client: doc }, { TableName: tableName, ...filter })) {
        // Counters kept in the same table (e.g. the storm gate's) have no status: not problems.
        for (const item of page.Items ?? []) if (item.status !== undefined) yield problemFromItem(item);
      }
    },
  };
}
