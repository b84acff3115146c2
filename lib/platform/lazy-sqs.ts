/**
 * The SQS client for the router and the sweep, imported on first use. They send to SQS only when
 * a message must wait (a delayed redelivery) or is dead-lettered, so most cold invocations never
 * load the client: a 25 KB chunk a cold start neither reads nor runs (issue 15). The adapters
 * publish on every request and import it as usual.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { onFirstUse } from "./on-first-use.ts";

/** The SQS module, for the command classes. */
export const loadSqs = onFirstUse(() => import("./sqs-on-demand-exports.ts"));

/** A client built on its first send, as `new SQSClient({})` would be. */
export function onDemandSqsClient(): Pick<SQSClient, "send"> {
  const client = onFirstUse(async () => new (await loadSqs()).SQSClient({}));
  const send = async (command: Parameters<SQSClient["send"]>[0]) => (await client()).send(command);
  // Only the promise form of send is offered; the callback overloads are never used here.
  return { send } as Pick<SQSClient, "send">;
}
