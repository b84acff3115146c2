/** Lambda entry for the PagerDuty-compatible ingest: POST /v2/enqueue and POST /v2/change/enqueue (Events API v2 bodies). */
import { createPagerDutyEventsHandlerFromEnv } from "../lib/handlers/pagerduty-events.ts";
import { installSourceMappedStacks } from "../lib/handlers/source-mapped-stacks.ts";

installSourceMappedStacks();
export const handler = createPagerDutyEventsHandlerFromEnv(process.env);
