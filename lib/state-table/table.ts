/**
 * The state table's owner: its layout (shared by the local stack and the CDK stack) and the
 * single-item helpers every record kind is written and read with. Its kinds of record share the
 * table, told apart by key prefix (KEY_PREFIX in lib/alert/relay-keys.ts): problems' state items,
 * problems' alert items (`alert-body:`), group and storm incidents, rate counters, pacing records
 * and heartbeat trackers.
 */
import {
  ConditionalCheckFailedException,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { KEY_PREFIX } from "../alert/relay-keys.ts";
import { SCHEMA_VERSION, type NormalizedAlert } from "../alert/schema.ts";
import type { SampleEntry } from "../router/aggregates.ts";
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

export const isConditionFailure = (error: unknown) =>
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

export const isAlertItem = (item: { dedupKey?: unknown }) =>
  typeof item.dedupKey === "string" && item.dedupKey.startsWith(KEY_PREFIX.alertBody);

/** The alert item's alert if it belongs to the state: written for the state's firing or a newer one. */
function pairedAlert(state: Record<string, unknown>, alertItem: Record<string, unknown> | undefined): NormalizedAlert | undefined {
  if (typeof alertItem?.alert !== "string" || typeof alertItem.occurredAt !== "string" || typeof state.alertAt !== "string")
    return undefined;
  // Compared as the table's conditions compare them: as stored text.
  return alertItem.occurredAt >= state.alertAt ? (JSON.parse(alertItem.alert) as NormalizedAlert) : undefined;
}

/**
 * An aggregate keeps up to 20 sample entries, rewritten on every member change, so on disk their
 * fields have one-letter names (d, s, v, t, m); only this edge knows them.
 */
export function storedSampleEntry(entry: SampleEntry): Record<string, string> {
  return { d: entry.dedupKey, s: entry.status, v: entry.severity, t: entry.since, m: entry.summary };
}

/** Entries already read (a state passed through problemFromItem again) stay as they are. */
function sampleFromItem(stored: Record<string, Record<string, string>>): Record<string, SampleEntry> {
  return Object.fromEntries(
    Object.entries(stored).map(([slot, e]) => [
      slot,
      ("dedupKey" in e ? e : { dedupKey: e.d, status: e.s, severity: e.v, since: e.t, summary: e.m }) as SampleEntry,
    ]),
  );
}

/**
 * A state item as read from the table, with its alert: inline in an item of the old layout (text,
 * or a map in still older ones), else from its alert item when given and paired. Without either
 * the state has no alert (a write's answer; state.ts carryAlert).
 */
export function problemFromItem(stored: Record<string, unknown>, alertItem?: Record<string, unknown>): ProblemState {
  const sample = stored.sample as Record<string, Record<string, string>> | undefined;
  const item = sample ? { ...stored, sample: sampleFromItem(sample) } : stored;
  const inline = item.lastAlert;
  if (inline !== undefined)
    return (typeof inline === "string" ? { ...item, lastAlert: JSON.parse(inline) as NormalizedAlert } : item) as unknown as ProblemState;
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
const isProblemItem = (item: Record<string, unknown>) =>
  item.status !== undefined && item.kind === undefined && item.itemType === undefined && !isAlertItem(item);

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
export async function withStoredAlert(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
): Promise<ProblemState> {
  const bare = problemFromItem(item);
  if (bare.lastAlert !== undefined || !isProblemItem(item)) return bare;
  // Read after the state item: an alert item is written before the state that refers to it.
  const alertItem =
    item.alertAt === undefined
      ? undefined
      : (await doc.send(new GetCommand({ TableName: tableName, Key: { dedupKey: alertItemKey(bare.dedupKey) }, ConsistentRead: true })))
          .Item;
  const state = problemFromItem(item, alertItem);
  return state.lastAlert === undefined ? { ...state, lastAlert: placeholderAlert(state) } : state;
}

/** Problems read without their alerts (a scan), with them: for people, so eventually consistent, 100 at a time. */
export async function withAlerts(doc: DynamoDBDocumentClient, tableName: string, states: readonly ProblemState[]): Promise<ProblemState[]> {
  const alertItems = new Map<string, Record<string, unknown>>();
  const wanted = states
    .filter((state) => state.lastAlert === undefined && state.alertAt !== undefined)
    .map((state) => ({ dedupKey: alertItemKey(state.dedupKey) }));
  for (let start = 0; start < wanted.length; start += 100) {
    let keys: Record<string, unknown>[] | undefined = wanted.slice(start, start + 100);
    while (keys && keys.length > 0) {
      const result: {
        Responses?: Record<string, Record<string, unknown>[]>;
        UnprocessedKeys?: Record<string, { Keys?: Record<string, unknown>[] }>;
      } = await doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }));
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
