/**
 * The windows table: what the router's cache scans and what the CLI writes. Every write is one
 * conditional single-item write (dynalite, the local emulator, has no transactions).
 */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand, paginateScan, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { WindowSource } from "./window-cache.ts";
import { parseIsoInstant, parseWindowItem, type WindowItem } from "./window-item.ts";

/** The key, shared with the local stack and the CDK stack (`type` is the DynamoDB attribute type, `S` = string). */
export const WINDOWS_TABLE_KEY = { partitionKey: { name: "id", type: "S" } } as const;

/** CreateTable input for the windows table (local stack and tests); the CDK stack uses WINDOWS_TABLE_KEY. */
export function windowsTableDefinition(tableName: string): CreateTableCommandInput {
  const { name, type } = WINDOWS_TABLE_KEY.partitionKey;
  return {
    TableName: tableName,
    KeySchema: [{ AttributeName: name, KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: name, AttributeType: type }],
    BillingMode: "PAY_PER_REQUEST",
  };
}

export class InvalidWindowError extends Error {
  readonly problems: readonly string[];
  constructor(id: string, problems: readonly string[]) {
    super(`window ${JSON.stringify(id)} is not valid: ${problems.join("; ")}`);
    this.name = "InvalidWindowError";
    this.problems = problems;
  }
}

export class WindowExistsError extends Error {
  constructor(id: string) {
    super(`a window with id ${JSON.stringify(id)} already exists; choose another id, or overwrite it on purpose`);
    this.name = "WindowExistsError";
  }
}

export class WindowNotFoundError extends Error {
  constructor(id: string) {
    super(`there is no window with id ${JSON.stringify(id)}`);
    this.name = "WindowNotFoundError";
  }
}

export interface DynamoWindowStore extends WindowSource {
  /** Every item, read with a consistent Scan so a write just acknowledged is included. */
  loadAll(): Promise<Record<string, unknown>[]>;
  /**
   * Validates and writes a window, stamping updatedAt (and createdAt when absent). Refuses an
   * item the router would ignore, and an existing id unless `overwrite`.
   */
  put(item: WindowItem, options?: { overwrite?: boolean; now?: Date }): Promise<WindowItem>;
  /**
   * Ends a window now by setting endsAt (a pending window gets startsAt = endsAt = now, an empty
   * window, since endsAt before startsAt would make the item malformed). `enabled` is left as
   * is so the item still reads "ended at" rather than "switched off". A window already ended is
   * not rewritten (`changed: false`).
   */
  end(id: string, now: Date): Promise<{ changed: boolean; item: Record<string, unknown> }>;
}

/** Re-reads and retries this often when someone edits the same window between our read and write. */
const END_ATTEMPTS = 3;

export function createDynamoWindowStore(options: { doc: DynamoDBDocumentClient; tableName: string }): DynamoWindowStore {
  const { doc, tableName } = options;
  const keyName = WINDOWS_TABLE_KEY.partitionKey.name;

  return {
    async loadAll() {
      const items: Record<string, unknown>[] = [];
      for await (const page of paginateScan({ client: doc }, { TableName: tableName, ConsistentRead: true })) {
        items.push(...(page.Items ?? []));
      }
      return items;
    },

    async put(item, { overwrite = false, now = new Date() } = {}) {
      const stamped: WindowItem = { ...item, createdAt: item.createdAt ?? now.toISOString(), updatedAt: now.toISOString() };
      const parsed = parseWindowItem(withoutUndefined(stamped));
      if (!parsed.ok) throw new InvalidWindowError(item.id, parsed.problems);
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: withoutUndefined(stamped),
            ...(overwrite ? {} : { ConditionExpression: "attribute_not_exists(#key)", ExpressionAttributeNames: { "#key": keyName } }),
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) throw new WindowExistsError(item.id);
        throw error;
      }
      return stamped;
    },

    async end(id, now) {
      for (let attempt = 1; ; attempt += 1) {
        const { Item: item } = await doc.send(new GetCommand({ TableName: tableName, Key: { [keyName]: id }, ConsistentRead: true }));
        if (!item) throw new WindowNotFoundError(id);
        const endsAt = readInstant(item.endsAt);
        if (endsAt && endsAt <= now) return { changed: false, item };
        const startsAt = readInstant(item.startsAt);
        const stamp = now.toISOString();
        const updates: Record<string, string> = { endsAt: stamp, updatedAt: stamp };
        if (startsAt && startsAt > now) updates.startsAt = stamp;
        try {
          const { Attributes } = await doc.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { [keyName]: id },
              ...endUpdate(keyName, updates, { startsAt: item.startsAt, endsAt: item.endsAt }),
              ReturnValues: "ALL_NEW",
            }),
          );
          return { changed: true, item: Attributes ?? {} };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          if (attempt === END_ATTEMPTS)
            throw new Error(`window ${JSON.stringify(id)} kept changing while being ended; try again`, { cause: error });
        }
      }
    },
  };
}

/**
 * The update for `end`, conditional on the item still existing and on startsAt/endsAt being
 * what the decision was based on: a concurrent console edit makes us re-read, not overwrite.
 */
function endUpdate(keyName: string, updates: Record<string, string>, seen: Record<"startsAt" | "endsAt", unknown>) {
  const names: Record<string, string> = { "#key": keyName };
  const values: Record<string, unknown> = {};
  const assignments = Object.entries(updates).map(([field, value]) => {
    names[`#${field}`] = field;
    values[`:new_${field}`] = value;
    return `#${field} = :new_${field}`;
  });
  const conditions = ["attribute_exists(#key)"];
  for (const [field, value] of Object.entries(seen)) {
    names[`#${field}`] = field;
    if (value === undefined) {
      conditions.push(`attribute_not_exists(#${field})`);
    } else if (value === null) {
      // DynamoDB cannot compare a NULL attribute with `=`; its type is what we saw.
      values[":null_type"] = "NULL";
      conditions.push(`attribute_type(#${field}, :null_type)`);
    } else {
      values[`:seen_${field}`] = value;
      conditions.push(`#${field} = :seen_${field}`);
    }
  }
  return {
    UpdateExpression: `SET ${assignments.join(", ")}`,
    ConditionExpression: conditions.join(" AND "),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function readInstant(value: unknown): Date | undefined {
  if (typeof value !== "string") return undefined;
  const parsed = parseIsoInstant(value);
  return "date" in parsed ? parsed.date : undefined;
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/** DocumentClient refuses undefined attribute values; an absent optional field is simply not written. */
function withoutUndefined<T extends object>(item: T): T {
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== undefined)) as T;
}
