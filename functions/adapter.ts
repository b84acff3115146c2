/** Lambda entry for every adapter; the stack sets ADAPTER_NAME, so a new adapter needs no new entry. */
import { createNamedAdapterHandlerFromEnv } from "../lib/handlers/adapter.ts";
import { installSourceMappedStacks } from "../lib/handlers/source-mapped-stacks.ts";

installSourceMappedStacks();
export const handler = createNamedAdapterHandlerFromEnv(process.env);
