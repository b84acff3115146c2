/** Lambda entry for the router: SQS alerts queue → decisions in DynamoDB → PagerDuty. */
import { createRouterHandler } from "../lib/handlers/router.ts";
import { createRouterRuntime } from "../lib/handlers/router-runtime.ts";
import { installSourceMappedStacks } from "../lib/handlers/source-mapped-stacks.ts";

installSourceMappedStacks();
const runtime = createRouterRuntime(process.env);

export const handler = createRouterHandler({ ...runtime.telemetry, ...runtime, deadLetters: runtime.deadLetterSink() });
