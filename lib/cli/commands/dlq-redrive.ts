import { DeleteMessageBatchCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { plural } from "../format.ts";
import { EXIT, UsageError, type Command } from "../io.ts";
import { SQS_BATCH, alertLine, receiveDeadLetters, release, type DeadLetter } from "../dlq.ts";
import { parseMax } from "./dlq-list.ts";

const OPTIONS = {
  all: { type: "boolean" },
  max: { type: "string" },
  ...WHERE_OPTIONS,
  ...RESOURCE_OPTIONS.deadLetterQueueUrl,
  ...RESOURCE_OPTIONS.alertsQueueUrl,
} as const;

const DEFAULT_MAX = 1000;
/** Covers reading up to --max messages and moving them; if the CLI dies, what it held reappears after this. */
const REDRIVE_VISIBILITY_SECONDS = 300;

interface MoveResult {
  moved: DeadLetter[];
  /** Copied to the alerts queue but still in the DLQ (the delete failed): a later redrive would deliver them twice, harmlessly. */
  undeleted: DeadLetter[];
  /** Not copied: still in the DLQ, visible again. */
  failed: { letter: DeadLetter; error: string }[];
}

/**
 * Copies each message to the alerts queue, then deletes it from the DLQ: in that order, so a
 * crash in between duplicates a message (the router is idempotent) rather than losing it.
 */
async function move(sqs: SQSClient, from: string, to: string, letters: readonly DeadLetter[]): Promise<MoveResult> {
  const result: MoveResult = { moved: [], undeleted: [], failed: [] };
  for (let start = 0; start < letters.length; start += SQS_BATCH) {
    const batch = letters.slice(start, start + SQS_BATCH);
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: to,
        Entries: batch.map((letter, index) => ({
          Id: `m${index}`,
          MessageBody: letter.body,
          ...(Object.keys(letter.carried).length > 0 ? { MessageAttributes: letter.carried } : {}),
        })),
      }),
    );
    const byId = (id: string | undefined) => batch[Number(id?.slice(1))]!;
    for (const failure of sent.Failed ?? [])
      result.failed.push({ letter: byId(failure.Id), error: `${failure.Code}: ${failure.Message ?? ""}` });
    const copied = (sent.Successful ?? []).map((entry) => byId(entry.Id));
    if (copied.length === 0) continue;
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: from,
        Entries: copied.map((letter, index) => ({ Id: `m${index}`, ReceiptHandle: letter.receiptHandle })),
      }),
    );
    const notDeleted = new Set((deleted.Failed ?? []).map((failure) => Number(failure.Id?.slice(1))));
    copied.forEach((letter, index) => (notDeleted.has(index) ? result.undeleted : result.moved).push(letter));
  }
  return result;
}

export const dlqRedriveCommand: Command = {
  name: "dlq redrive",
  summary: "move messages from the dead-letter queue back to the alerts queue",
  usage: "alert-relay dlq redrive (--all | <messageId>…) [--max <n>]",
  details: [
    "Name messages by the MESSAGE ID or ORIGINAL ID that `alert-relay dlq list` shows, or move them all with --all.",
    "Each message is sent to the alerts queue first and deleted from the DLQ second, so a crash duplicates",
    "rather than loses one; the router is idempotent, so a duplicate never pages twice.",
    "An id that is not in the DLQ is an error, and then nothing is moved.",
    "",
    "options:",
    ...optionLines([
      ["--all", "every message in the DLQ"],
      ["--max <n>", `read at most n messages from the DLQ (default ${DEFAULT_MAX}); run again for more`],
    ]),
    "",
    whereHelp(["deadLetterQueueUrl", "alertsQueueUrl"]),
  ].join("\n"),

  async run(args, io) {
    const { values, positionals } = parseFlags(args, OPTIONS, true);
    if (values.all && positionals.length > 0) throw new UsageError("give either --all or message ids, not both");
    if (!values.all && positionals.length === 0)
      throw new UsageError("name the messages to move (alert-relay dlq list shows their ids), or pass --all");
    const max = parseMax(values.max, DEFAULT_MAX);
    return withTarget(io, values, ["deadLetterQueueUrl", "alertsQueueUrl"], async (target) => {
      const { sqs, deadLetterQueueUrl: dlq, alertsQueueUrl: alerts } = target;
      const letters = await receiveDeadLetters(sqs, dlq, { max, visibilitySeconds: REDRIVE_VISIBILITY_SECONDS });
      const wanted = new Set(positionals);
      const chosen = values.all
        ? letters
        : letters.filter(
            (letter) => wanted.has(letter.messageId) || (letter.originalMessageId !== undefined && wanted.has(letter.originalMessageId)),
          );
      const found = new Set(chosen.flatMap((letter) => [letter.messageId, letter.originalMessageId]));
      const unknown = positionals.filter((id) => !found.has(id));
      if (unknown.length > 0) {
        await release(sqs, dlq, letters);
        io.err(
          `not in the dead-letter queue of the ${target.description}: ${unknown.join(", ")}` +
            `${letters.length >= max ? ` (only the first ${max} messages were read; try --max)` : ""}; ` +
            `alert-relay dlq list shows the ids. Nothing was moved.`,
        );
        return EXIT.failed;
      }
      await release(
        sqs,
        dlq,
        letters.filter((letter) => !chosen.includes(letter)),
      );
      if (chosen.length === 0) {
        io.out(`The dead-letter queue of the ${target.description} is empty; nothing to move.`);
        return EXIT.ok;
      }
      const result = await move(sqs, dlq, alerts, chosen);
      await release(
        sqs,
        dlq,
        result.failed.map(({ letter }) => letter),
      );
      io.out(
        `Moved ${plural(result.moved.length + result.undeleted.length, "message")} from the ` +
          `dead-letter queue to the alerts queue of the ${target.description}:`,
      );
      for (const letter of [...result.moved, ...result.undeleted]) io.out(`  ${letter.messageId}  ${alertLine(letter)}`);
      for (const letter of result.undeleted)
        io.err(`copied but not deleted from the DLQ (it will show up there again; redriving it twice is harmless): ${letter.messageId}`);
      for (const { letter, error } of result.failed) io.err(`not moved, still in the DLQ: ${letter.messageId}: ${error}`);
      if (letters.length >= max && values.all) io.out(`Read the first ${max} messages only; run it again to move more.`);
      io.out("The router picks them up within seconds; it is idempotent, so a message it handled before does not page twice.");
      return result.failed.length > 0 || result.undeleted.length > 0 ? EXIT.failed : EXIT.ok;
    });
  },
};
