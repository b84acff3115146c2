/** Lambda entry for the router: SQS alerts queue → decisions in DynamoDB → PagerDuty. */
import { createRouterHandler } from "../lib/router/sqs-handler.ts";
import { createRouterRuntime } from "../lib/router/runtime.ts";

const runtime = createRouterRuntime(process.env);

export const handler = createRouterHandler({ ...runtime.telemetry, ...runtime, deadLetters: runtime.deadLetterSink() });
