/**
 * Every adapter alert-relay knows. Handlers, the CLI and the CDK stack read this list, so adding
 * a source is one module, its fixtures, and one line here (see docs/adding-an-adapter.md).
 */
import type { Adapter } from "./types.ts";
import { cloudwatch } from "./cloudwatch/adapter.ts";
import { prometheus } from "./prometheus/adapter.ts";
import { datadog } from "./datadog/adapter.ts";

export const adapters: readonly Adapter<unknown>[] = [
  cloudwatch as Adapter<unknown>,
  prometheus as Adapter<unknown>,
  datadog as Adapter<unknown>,
];

export function findAdapter(name: string): Adapter<unknown> | undefined {
  return adapters.find((adapter) => adapter.name === name);
}

export function adapterNames(): string[] {
  return adapters.map((adapter) => adapter.name);
}
