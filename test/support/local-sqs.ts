/** An embedded SQS (local-aws-sqs) on an ephemeral loopback port, reached with the normal SDK client. */
import type { AddressInfo } from "node:net";
import { createSqsServer } from "local-aws-sqs";
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";

export const TEST_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export interface LocalSqs {
  endpoint: string;
  client: SQSClient;
  createQueue(name: string, attributes?: Record<string, string>): Promise<{ url: string; arn: string }>;
  close(): Promise<void>;
}

export async function startLocalSqs(): Promise<LocalSqs> {
  const server = await createSqsServer({ port: 0, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SQSClient({ endpoint, region: "us-east-1", credentials: TEST_CREDENTIALS });
  return {
    endpoint,
    client,
    async createQueue(name, attributes) {
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
      return { url: QueueUrl!, arn: attrs.Attributes!.QueueArn! };
    },
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
