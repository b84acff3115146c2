/**
 * What windows and routes match on: the alert's labels plus the fields DESIGN.md names. The
 * alert's own fields win over labels of the same name, because `severity` is already the
 * result of the adapter's label override and `source` must be the adapter that ran.
 *
 * `status` is deliberately absent: a window or route that treated firing and resolved
 * differently would split one problem, e.g. trigger an incident on one routing key and send
 * its resolve to another, or suppress a resolve and leave an incident open forever.
 */
import type { NormalizedAlert } from "../alert/schema.ts";

export const SUBJECT_FIELDS = ["source", "severity", "dedupKey"] as const;

export type MatchableAlert = Pick<NormalizedAlert, "labels" | (typeof SUBJECT_FIELDS)[number]>;

export function matchSubject(alert: MatchableAlert): Readonly<Record<string, string>> {
  // fromEntries defines own properties, so a label named `__proto__` stays a plain label.
  return Object.fromEntries([...Object.entries(alert.labels), ...SUBJECT_FIELDS.map((field) => [field, alert[field]] as const)]);
}
