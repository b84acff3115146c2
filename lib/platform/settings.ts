import { parseDuration } from "./duration.ts";

/** Reading required and numeric settings with messages that name the variable and what to do. */
export type Env = Readonly<Record<string, string | undefined>>;

export function requiredSetting(env: Env, name: string, what: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${name} is not set: it must name ${what}`);
  return value;
}

export function integerSetting(env: Env, name: string, fallback: number, min = 0): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}="${env[name]}" must be a whole number ≥ ${min}`);
  return value;
}

/** A duration as people write it ("30s", "10m", "6h", "1h30m"), in milliseconds. */
export function durationSetting(env: Env, name: string, fallbackMs: number): number {
  const text = env[name]?.trim();
  if (!text) return fallbackMs;
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`${name}="${env[name]}" is not a duration: write it like "90s", "10m" or "6h"`);
  return ms;
}
