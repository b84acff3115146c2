/**
 * The severity words alert sources use, mapped onto PagerDuty's four. One table for every
 * adapter, so `severity=page` means the same thing whether it came from Alertmanager or Datadog.
 */
import type { Severity } from "./schema.ts";

export const SEVERITY_SYNONYMS: Readonly<Record<string, Severity>> = {
  critical: "critical",
  crit: "critical",
  page: "critical",
  fatal: "critical",
  emergency: "critical",
  disaster: "critical",
  sev0: "critical",
  sev1: "critical",
  p0: "critical",
  p1: "critical",
  error: "error",
  err: "error",
  high: "error",
  major: "error",
  sev2: "error",
  p2: "error",
  warning: "warning",
  warn: "warning",
  medium: "warning",
  minor: "warning",
  average: "warning",
  sev3: "warning",
  p3: "warning",
  info: "info",
  informational: "info",
  information: "info",
  low: "info",
  notice: "info",
  none: "info",
  ok: "info",
  sev4: "info",
  sev5: "info",
  p4: "info",
  p5: "info",
};

/** Maps a severity word (any case, surrounding space ignored) to a PagerDuty severity, or undefined. */
export function parseSeverity(word: string | undefined | null): Severity | undefined {
  if (!word) return undefined;
  const key = word.trim().toLowerCase();
  // hasOwn: "constructor" or "__proto__" must not find Object's own properties.
  return Object.hasOwn(SEVERITY_SYNONYMS, key) ? SEVERITY_SYNONYMS[key] : undefined;
}
