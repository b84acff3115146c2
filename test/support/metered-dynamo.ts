/**
 * A DynamoDB document client that records what it sends: every write with its key, the units
 * dynalite charges it and whether its condition failed, and every other command. For tests that
 * count what an operation costs (issue 15).
 */
import { DynamoDBClient, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { TEST_CREDENTIALS } from "./local-sqs.ts";

export interface MeteredWrite {
  /** The command, with " (condition failed)" when its condition did not hold. */
  command: string;
  units: number;
  key: string;
}

export function meteredDocClient(endpoint: string) {
  const writes: MeteredWrite[] = [];
  const reads: string[] = [];
  const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: TEST_CREDENTIALS });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        ReturnConsumedCapacity?: string;
        Key?: Record<string, AttributeValue>;
        Item?: Record<string, AttributeValue>;
      };
      const command = context.commandName!;
      if (!/^(Update|Put|Delete)Item/.test(command)) {
        reads.push(command);
        return next(args);
      }
      input.ReturnConsumedCapacity = "TOTAL";
      const named = (input.Key ?? input.Item)!.dedupKey as unknown;
      const key = typeof named === "string" ? named : (named as AttributeValue).S!;
      try {
        const output = await next(args);
        writes.push({
          command,
          key,
          units: (output.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity?.CapacityUnits ?? Number.NaN,
        });
        return output;
      } catch (error) {
        writes.push({ command: `${command} (condition failed)`, key, units: Number.NaN });
        throw error;
      }
    },
    { step: "initialize", name: "meterWrites" },
  );
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    doc,
    writes,
    reads,
    failedWrites: () => writes.filter((w) => w.command.endsWith("(condition failed)")),
    reset: () => void ((writes.length = 0), (reads.length = 0)),
  };
}
