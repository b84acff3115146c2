/**
 * What the router and the sweep use of SQS, imported on first use by lazy-sqs.ts. A dynamic
 * import of the package itself would bundle every command.
 */
export { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
