/**
 * Problem state in DynamoDB. Every change is one conditional single-item write (no transactions,
 * no read-then-write): the conditions are what keep two router instances from both paging, and
 * an old event from overriding a newer one. The steady path (a duplicate) is one write, no read.
 *
 * A problem is two items. Its state item (key: the dedup key) holds only what decisions need and
 * stays well under 1 KB, so a duplicate's write costs one write unit. The firing alert PagerDuty
 * hears (1-3 KB) is its alert item (`alert-body:<dedup key>`), written only when a firing is
 * recorded, before the state item's conditional write: a crash between the two leaves an alert
 * item no state refers to yet (the redelivered message completes it), never a state without its
 * alert. An alert item only ever goes forward (a newer alert replaces an older one, never the
 * reverse), and a state pairs with it only if it is at least as new as the state's firing
 * (`alertAt`), so a reader never gets the alert of an older firing. Resolves and duplicates do
 * not rewrite it; a resolve sets its expiry. Items of the old layout (the alert inline as
 * `lastAlert`) are still read.
 */
import {
  ConditionalCheckFailedException,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand, paginateQuery, paginateScan, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SCHEMA_VERSION, type NormalizedAlert } from "../alert/schema.ts";
import { KEY_PREFIX } from "../alert/relay-keys.ts";
import type { DeliveryClaim, ProblemState, SuppressionMatch, ToldRecord } from "./state.ts";
import { MAX_RECORDED_CHANGES } from "./flapping.ts";

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
  /** The state it returns carries the recorded alert (or, for an older event, the stored one). */
  record(alert: NormalizedAlert, now: Date): Promise<{ outcome: RecordOutcome; state: ProblemState }>;
  /** The state with its stored alert (a placeholder built from the state when it never fired). */
  get(dedupKey: string): Promise<ProblemState | undefined>;
  /** Claims a delivery if no live claim exists and what was told is still `expectedTold`. */
  claim(state: ProblemState, claim: DeliveryClaim, now: Date): Promise<boolean>;
  /**
   * Records what PagerDuty accepted and ends the claim; undefined if the claim was lost meanwhile.
   * The state returned carries no alert (state.ts carryAlert).
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
  /** The problems' state items, without their alerts. */
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

/** The key of the item holding a problem's alert, beside its state item. */
export const alertItemKey = (dedupKey: string) => `${KEY_PREFIX.alertBody}${dedupKey}`;

export const isAlertItem = (item: { dedupKey?: unknown }) => typeof item.dedupKey === "string" && item.dedupKey.startsWith(KEY_PREFIX.alertBody);

/** The alert item's alert if it belongs to the state: written for the state's firing or a newer one. */
function pairedAlert(state: Record<string, unknown>, alertItem: Record<string, unknown> | undefined): NormalizedAlert | undefined {
  if (typeof alertItem?.alert !== "string" || typeof alertItem.occurredAt !== "string" || typeof state.alertAt !== "string") return undefined;
  // Compared as the table's conditions compare them: as stored text.
  return alertItem.occurredAt >= state.alertAt ? (JSON.parse(alertItem.alert) as NormalizedAlert) : undefined;
}

/**
 * A state item as read from the table, with its alert: inline in an item of the old layout (text,
 * or a map in still older ones), else from its alert item when given and paired. Without either
 * the state has no alert (a write's answer; state.ts carryAlert).
 */
export function problemFromItem(item: Record<string, unknown>, alertItem?: Record<string, unknown>): ProblemState {
  const inline = item.lastAlert;
  if (inline !== undefined) return (typeof inline === "string" ? { ...item, lastAlert: JSON.parse(inline) as NormalizedAlert } : item) as unknown as ProblemState;
  const alert = pairedAlert(item, alertItem);
  return (alert ? { ...item, lastAlert: alert } : item) as unknown as ProblemState;
}

/** Alerts made up from a state whose problem has no alert item (it never fired, or the item expired). */
const placeholders = new WeakSet<NormalizedAlert>();
export const isPlaceholderAlert = (alert: NormalizedAlert | undefined) => alert !== undefined && placeholders.has(alert);

/** What the state knows, as an alert: enough to route, decide and send a resolve; labels and details are gone. */
function placeholderAlert(state: ProblemState): NormalizedAlert {
  const alert: NormalizedAlert = {
    schema: SCHEMA_VERSION,
    id: state.lastAlertId ?? state.dedupKey,
    source: state.source,
    dedupKey: state.dedupKey,
    status: state.status,
    severity: state.severity,
    occurredAt: state.eventAt ?? state.transitionAt,
    receivedAt: state.lastSeenAt ?? state.transitionAt,
    summary: state.dedupKey,
    sourceHost: state.source,
    links: [],
    images: [],
    details: {},
    labels: {},
  };
  placeholders.add(alert);
  return alert;
}

/** Only a problem's own state has an alert: not a group or storm incident, a heartbeat tracker or a counter. */
const isProblemItem = (item: Record<string, unknown>) => item.status !== undefined && item.kind === undefined && item.itemType === undefined && !isAlertItem(item);

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

/** The problem's stored alert added to a state read or written without it. */
async function withStoredAlert(doc: DynamoDBDocumentClient, tableName: string, item: Record<string, unknown>): Promise<ProblemState> {
  const bare = problemFromItem(item);
  if (bare.lastAlert !== undefined || !isProblemItem(item)) return bare;
  // Read after the state item: an alert item is written before the state that refers to it.
  const alertItem = item.alertAt === undefined ? undefined : (await doc.send(new GetCommand({ TableName: tableName, Key: { dedupKey: alertItemKey(bare.dedupKey) }, ConsistentRead: true }))).Item;
  const state = problemFromItem(item, alertItem);
  return state.lastAlert === undefined ? { ...state, lastAlert: placeholderAlert(state) } : state;
}

/** Problems read without their alerts (a scan), with them: for people, so eventually consistent, 100 at a time. */
export async function withAlerts(doc: DynamoDBDocumentClient, tableName: string, states: readonly ProblemState[]): Promise<ProblemState[]> {
  const alertItems = new Map<string, Record<string, unknown>>();
  const wanted = states.filter((state) => state.lastAlert === undefined && state.alertAt !== undefined).map((state) => ({ dedupKey: alertItemKey(state.dedupKey) }));
  for (let start = 0; start < wanted.length; start += 100) {
    let keys: Record<string, unknown>[] | undefined = wanted.slice(start, start + 100);
    while (keys && keys.length > 0) {
      const result: { Responses?: Record<string, Record<string, unknown>[]>; UnprocessedKeys?: Record<string, { Keys?: Record<string, unknown>[] }> } = await doc.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }),
      );
      for (const item of result.Responses?.[tableName] ?? []) alertItems.set(item.dedupKey as string, item);
      keys = result.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return states.map((state) => problemFromItem(state as unknown as Record<string, unknown>, alertItems.get(alertItemKey(state.dedupKey))));
}

/** One item (and a problem's alert item), read consistently: a decision must see the newest conditional write. */
export async function readState(doc: DynamoDBDocumentClient, tableName: string, dedupKey: string): Promise<ProblemState | undefined> {
  const result = await doc.send(new GetCommand({ TableName: tableName, Key: { dedupKey }, ConsistentRead: true }));
  return result.Item && withStoredAlert(doc, tableName, result.Item);
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
      UpdateExpression: `SET lastSeenAt = :now, lastAlertId = :id, severity = :severity, eventAt = :at${exp.set} ADD seen :one, deduplicated :one`,
      ConditionExpression: "#status = :status AND eventAt <= :at AND (attribute_not_exists(expiresAt) OR expiresAt > :nowEpoch)",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ...observationValues(alert, now), ...exp.values },
    });
  }

  /**
   * A firing's alert, written before its state: never back to an older alert. Not written because
   * a newer one is there: that one pairs with this state too (see pairedAlert).
   */
  async function writeAlertItem(alert: NormalizedAlert): Promise<void> {
    try {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { dedupKey: alertItemKey(alert.dedupKey), alert: storedAlert(alert), occurredAt: alert.occurredAt },
          ConditionExpression: "attribute_not_exists(occurredAt) OR occurredAt <= :at",
          ExpressionAttributeValues: { ":at": alert.occurredAt },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** A resolved problem's alert is forgotten with its state, unless a newer firing wrote it meanwhile. */
  async function expireAlertItem(state: ProblemState): Promise<void> {
    if (state.expiresAt === undefined) return;
    await update({
      Key: key(alertItemKey(state.dedupKey)),
      UpdateExpression: "SET expiresAt = :expiresAt",
      ConditionExpression: "occurredAt <= :at",
      ExpressionAttributeValues: { ":expiresAt": state.expiresAt, ":at": state.transitionAt },
      ReturnValues: "NONE",
    });
  }

  /** A new problem, or a change of status newer than everything recorded. A firing refers to its alert item (written first). */
  async function recordTransition(alert: NormalizedAlert, now: Date) {
    const exp = expiry(alert, now);
    const firing = alert.status === "firing";
    return update({
      Key: key(alert.dedupKey),
      UpdateExpression:
        `SET #status = :status, severity = :severity, transitionAt = :at, eventAt = :at, lastSeenAt = :now, lastAlertId = :id${firing ? ", alertAt = :at" : ""}, ` +
        `#source = :source, firstSeenAt = if_not_exists(firstSeenAt, :now), deduplicated = if_not_exists(deduplicated, :zero), ` +
        `suppressed = if_not_exists(suppressed, :zero), stale = if_not_exists(stale, :zero), changes = list_append(if_not_exists(changes, :noChanges), :change)${exp.set} ` +
        // An item of the old layout sheds its inline alert at its next firing.
        `, watch = :owed, watchAt = :now ADD seen :one REMOVE suppressedBy, suppressedReason${exp.remove}${firing ? ", lastAlert" : ""}`,
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
    return trimmed ? { ...trimmed, lastAlert: state.lastAlert } : { ...state, changes: kept };
  }

  /**
   * Older than what is recorded: counted, never applied, and decided with the stored alert. An old
   * copy of the current status is a duplicate, else stale. The conditions are exact (the four
   * outcomes' conditions do not overlap), so the cheap ones can be tried before a transition's alert write.
   */
  const live = "(attribute_not_exists(expiresAt) OR expiresAt > :nowEpoch)";
  async function recordOlder(alert: NormalizedAlert, now: Date, same: boolean) {
    const older = await update({
      Key: key(alert.dedupKey),
      UpdateExpression: `SET lastSeenAt = :now ADD seen :one, ${same ? "deduplicated" : "stale"} :one`,
      ConditionExpression: same ? `#status = :status AND eventAt > :at AND ${live}` : `#status <> :status AND eventAt >= :at AND ${live}`,
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":now": now.toISOString(), ":one": 1, ":status": alert.status, ":at": alert.occurredAt, ":nowEpoch": Math.floor(now.getTime() / 1000) },
    });
    return older && { outcome: same ? ("repeat" as const) : ("stale" as const), state: await withStoredAlert(doc, tableName, older as unknown as Record<string, unknown>) };
  }
  const tryOlderRepeat = (alert: NormalizedAlert, now: Date) => recordOlder(alert, now, true);
  const tryStale = (alert: NormalizedAlert, now: Date) => recordOlder(alert, now, false);

  const tryRepeat = async (alert: NormalizedAlert, now: Date) => {
    const state = await recordRepeat(alert, now);
    return state && { outcome: "repeat" as const, state: { ...state, lastAlert: alert } };
  };
  const tryTransition = async (alert: NormalizedAlert, now: Date) => {
    const state = await recordTransition(alert, now);
    if (!state) return undefined;
    const outcome = state.seen === 1 ? ("new" as const) : ("transition" as const);
    if (state.status === "resolved" && state.alertAt !== undefined) await expireAlertItem(state);
    return { outcome, state: await trimChanges({ ...state, lastAlert: alert }) };
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
      // A conditional write that fails costs as much as one that succeeds, so guess right. A key
      // this instance never saw: most likely a repeat (another instance saw it first), else new.
      // Last seen in the same status: a repeat, or an older copy of it. In another status: a
      // transition, or a stale copy (Alertmanager re-sends a firing after its resolve), which is
      // ruled out first for a firing so its alert write is not wasted. A wrong guess costs one
      // unit on the small state item.
      const known = lastStatus.get(alert.dedupKey);
      const expectRepeat = known === undefined || known === alert.status;
      let alertWritten = false;
      const transition = async (a: NormalizedAlert, n: Date) => {
        if (a.status === "firing" && !alertWritten) {
          await writeAlertItem(a);
          alertWritten = true;
        }
        return tryTransition(a, n);
      };
      const attempts: readonly ((a: NormalizedAlert, n: Date) => Promise<{ outcome: RecordOutcome; state: ProblemState } | undefined>)[] =
        known === undefined
          ? [tryRepeat, transition, tryStale, tryOlderRepeat]
          : expectRepeat
            ? [tryRepeat, tryOlderRepeat, tryStale, transition]
            : alert.status === "firing"
              ? [tryStale, transition, tryRepeat, tryOlderRepeat]
              : [transition, tryStale, tryRepeat, tryOlderRepeat];
      for (let round = 0; round < 3; round += 1) {
        for (const attempt of attempts) {
          const result = await attempt(alert, now);
          if (result) {
            // A stale firing's alert item belongs to no state: it is forgotten with the resolved state.
            if (alertWritten && result.outcome === "stale") await expireAlertItem(result.state);
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
