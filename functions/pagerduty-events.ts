/** Lambda entry for the PagerDuty-compatible ingest: POST /v2/enqueue and POST /v2/change/enqueue (Events API v2 bodies). */
import { createPagerDutyEventsHandlerFromEnv } from "../lib/handlers/pagerduty-events.ts";

export const handler = createPagerDutyEventsHandlerFromEnv(process.env);
