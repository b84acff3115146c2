/** Lambda entry for the periodic sweep (every minute): windows that ended, held resolves, group updates, missing heartbeats. */
import { createRouterRuntime } from "../lib/handlers/router-runtime.ts";
import { createSweepHandler } from "../lib/handlers/sweep.ts";
import { installSourceMappedStacks } from "../lib/handlers/source-mapped-stacks.ts";

installSourceMappedStacks();
export const handler = createSweepHandler(createRouterRuntime(process.env));
