import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { dateOf, plural, table, toJson, when } from "../format.ts";
import { EXIT, UsageError, type Command } from "../io.ts";
import { LIST_VISIBILITY_SECONDS, NO_REASON, alertLine, approximateCount, receiveDeadLetters, release } from "../dlq.ts";

const OPTIONS = { max: { type: "string" }, json: { type: "boolean" }, ...WHERE_OPTIONS, ...RESOURCE_OPTIONS.deadLetterQueueUrl } as const;

export const DEFAULT_MAX = 100;

/** --max: a whole number of messages, at least 1. */
export function parseMax(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const max = Number(text);
  if (!Number.isInteger(max) || max < 1) throw new UsageError(`--max ${JSON.stringify(text)} must be a whole number ≥ 1`);
  return max;
}

export const dlqListCommand: Command = {
  name: "dlq list",
  summary: "list the messages in the dead-letter queue and why the router gave up on them",
  usage: "alert-relay dlq list [--max <n>] [--json]",
  details: [
    "options:",
    ...optionLines([
      ["--max <n>", `read at most n messages (default ${DEFAULT_MAX})`],
      ["--json", "one JSON array: messageId, originalMessageId, reason, receiveCount, failedAt, alert, body"],
    ]),
    `SQS can only read a message by receiving it: listing hides each message for up to ${LIST_VISIBILITY_SECONDS} s and`,
    "makes it visible again as soon as the listing is done. Nothing is deleted.",
    "",
    whereHelp(["deadLetterQueueUrl"]),
  ].join("\n"),

  async run(args, io) {
    const { values } = parseFlags(args, OPTIONS);
    const max = parseMax(values.max, DEFAULT_MAX);
    return withTarget(io, values, ["deadLetterQueueUrl"], async (target) => {
      const now = io.now();
      const queueUrl = target.deadLetterQueueUrl;
      const letters = await receiveDeadLetters(target.sqs, queueUrl, { max, visibilitySeconds: LIST_VISIBILITY_SECONDS });
      await release(target.sqs, queueUrl, letters);
      if (values.json) {
        io.out(
          toJson(
            letters.map(({ messageId, originalMessageId, reason, receiveCount, failedAt, alert, body }) => ({
              messageId,
              originalMessageId: originalMessageId ?? null,
              reason: reason ?? null,
              receiveCount: receiveCount ?? null,
              failedAt: failedAt ?? null,
              alert: alert ?? null,
              body,
            })),
          ),
        );
        return EXIT.ok;
      }
      io.out(`Dead-letter queue of the ${target.description}: ${queueUrl}`);
      io.out("");
      if (letters.length === 0) {
        io.out("It is empty.");
        return EXIT.ok;
      }
      const rows = letters.map((letter) => {
        const failedAt = dateOf(letter.failedAt);
        return [
          letter.messageId,
          letter.originalMessageId ?? "",
          failedAt ? when(failedAt, now) : "?",
          letter.receiveCount === undefined ? "?" : String(letter.receiveCount),
          alertLine(letter),
          letter.reason ?? NO_REASON,
        ];
      });
      for (const line of table(["MESSAGE ID", "ORIGINAL ID", "FAILED AT", "RECEIVES", "ALERT", "REASON"], rows, {
        maxWidths: { ALERT: 60, REASON: 120 },
      })) {
        io.out(line);
      }
      io.out("");
      const total = letters.length >= max ? await approximateCount(target.sqs, queueUrl) : undefined;
      io.out(
        `${plural(letters.length, "message")}` +
          `${total !== undefined && total > letters.length ? ` shown of about ${total} (--max to read more)` : ""}.`,
      );
      io.out("Move them back to the alerts queue once the cause is fixed: alert-relay dlq redrive <message id>… (or --all)");
      return EXIT.ok;
    });
  },
};
