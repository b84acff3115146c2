/** Lambda entry for every adapter; the stack sets ADAPTER_NAME, so a new adapter needs no new entry. */
import { adapterNames, findAdapter } from "../lib/adapters/registry.ts";
import { createAdapterHandlerFromEnv } from "../lib/handlers/adapter.ts";

const name = process.env.ADAPTER_NAME ?? "";
const adapter = findAdapter(name);
if (!adapter) throw new Error(`ADAPTER_NAME="${name}" is not a registered adapter; known: ${adapterNames().join(", ")}`);

export const handler = createAdapterHandlerFromEnv(adapter);
