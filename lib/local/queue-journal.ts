/**
 * Makes the local stack's queue survive a crash. local-aws-sqs keeps messages in memory only, so
 * an alert answered 2xx but not yet routed would die with a `kill -9`. Every message put on the
 * alerts queue is first appended to a journal in the data directory (and flushed to disk) before
 * the send, and so before the 2xx; the poller marks it done once the router has finished with it
 * (the message was deleted: routed, or dead-lettered with its reason). On start, whatever is not
 * marked done is put on the queue again. A message routed twice is harmless: the router's
 * conditional writes make the second a duplicate.
 *
 * Hand-rolled because no emulator we can embed persists SQS; it is one append-only file of JSON
 * lines (`{"id","body","attributes"}` for a message, `{"done":[ids]}` for finished ones),
 * compacted at start and whenever it has grown well past what is pending.
 */
import { randomUUID } from "node:crypto";
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { SendMessageBatchCommand, type MessageAttributeValue, type SQSClient } from "@aws-sdk/client-sqs";

/** The message attribute that carries a message's journal id through the queue to the poller. */
export const JOURNAL_ID_ATTRIBUTE = "journalId";

export const JOURNAL_FILE_NAME = "queue-journal.jsonl";

/** Rewrite the file once this many lines were appended since the last rewrite. */
const COMPACT_AFTER_LINES = 20_000;

interface JournalEntry {
  id: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
}

export interface QueueJournal {
  /** Messages accepted but not yet finished by the router, oldest first. */
  pending(): readonly JournalEntry[];
  /** Records messages before they are sent; returns their ids. */
  append(entries: readonly Omit<JournalEntry, "id">[]): string[];
  /** The router finished these (their messages were deleted). Unknown ids are ignored. */
  done(ids: readonly string[]): void;
  close(): void;
}

export function openQueueJournal(path: string): QueueJournal {
  const pending = new Map<string, JournalEntry>();
  if (existsSync(path)) {
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!line.trim()) continue;
      let record: Partial<JournalEntry> & { done?: string[] };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        // A line cut short by the crash itself: its message was never sent (the send follows the write).
        continue;
      }
      if (Array.isArray(record.done)) for (const id of record.done) pending.delete(id);
      else if (typeof record.id === "string" && typeof record.body === "string")
        pending.set(record.id, { id: record.id, body: record.body, attributes: record.attributes ?? {} });
    }
  }
  let fd = -1;
  let linesSinceCompaction = 0;

  function rewrite(): void {
    if (fd >= 0) closeSync(fd);
    const temporary = `${path}.tmp`;
    writeFileSync(temporary, [...pending.values()].map((entry) => `${JSON.stringify(entry)}\n`).join(""));
    renameSync(temporary, path);
    fd = openSync(path, "a");
    linesSinceCompaction = 0;
  }
  rewrite();

  function write(lines: string, durable: boolean): void {
    writeSync(fd, lines);
    // Only an accepted message must reach the disk before the answer; a lost done mark is just a harmless replay.
    if (durable) fdatasyncSync(fd);
    linesSinceCompaction += 1;
    if (linesSinceCompaction >= COMPACT_AFTER_LINES && pending.size < COMPACT_AFTER_LINES / 4) rewrite();
  }

  return {
    pending: () => [...pending.values()],
    append(entries) {
      const added = entries.map((entry) => ({ ...entry, id: randomUUID() }));
      if (added.length === 0) return [];
      write(added.map((entry) => `${JSON.stringify(entry)}\n`).join(""), true);
      for (const entry of added) pending.set(entry.id, entry);
      return added.map((entry) => entry.id);
    },
    done(ids) {
      const known = ids.filter((id) => pending.delete(id));
      if (known.length > 0) write(`${JSON.stringify({ done: known })}\n`, false);
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}

/**
 * An SQS client whose sends to `queueUrl` are journaled first. Each entry gets its journal id as a
 * message attribute; an entry that already has one (the publisher retrying a partial failure) is
 * not journaled twice.
 */
export function journaledSqs<Client extends Pick<SQSClient, "send">>(
  sqs: Client,
  journal: QueueJournal,
  queueUrl: string,
): Pick<SQSClient, "send"> {
  return {
    send: ((command: unknown, ...rest: unknown[]) => {
      if (command instanceof SendMessageBatchCommand && command.input.QueueUrl === queueUrl) {
        const fresh = (command.input.Entries ?? []).filter((entry) => !entry.MessageAttributes?.[JOURNAL_ID_ATTRIBUTE]);
        const ids = journal.append(fresh.map((entry) => ({ body: entry.MessageBody ?? "", attributes: entry.MessageAttributes ?? {} })));
        fresh.forEach((entry, index) => {
          entry.MessageAttributes = { ...entry.MessageAttributes, [JOURNAL_ID_ATTRIBUTE]: { DataType: "String", StringValue: ids[index] } };
        });
      }
      return (sqs.send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as SQSClient["send"],
  };
}

/** Puts every message the journal still holds back on the queue, with its journal id, in batches of 10. */
export async function replayJournal(sqs: Pick<SQSClient, "send">, journal: QueueJournal, queueUrl: string): Promise<number> {
  const entries = journal.pending();
  for (let start = 0; start < entries.length; start += 10) {
    const batch = entries.slice(start, start + 10);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((entry, index) => ({
          Id: String(index),
          MessageBody: entry.body,
          MessageAttributes: { ...entry.attributes, [JOURNAL_ID_ATTRIBUTE]: { DataType: "String", StringValue: entry.id } },
        })),
      }),
    );
    if (result.Failed?.length)
      throw new Error(
        `could not put ${result.Failed.length} journaled messages back on the queue: ` +
          `${result.Failed[0]?.Message ?? result.Failed[0]?.Code}`,
      );
  }
  return entries.length;
}
