/** Lambda entry for the periodic sweep (every minute): pages for problems whose suppression window ended. */
import { createRouterRuntime } from "../lib/router/runtime.ts";
import { createSweepHandler } from "../lib/router/sweep-handler.ts";

export const handler = createSweepHandler(createRouterRuntime(process.env));
