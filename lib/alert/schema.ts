/**
 * The normalized alert: the one contract on the SQS queue between adapters and the router.
 * Validated when published and again when consumed; bump SCHEMA_VERSION on any breaking change.
 * Field names follow PagerDuty's common event fields so the mapping to PagerDuty stays obvious.
 */
import * as z from "zod";
import { LIMITS } from "./limits.ts";
import { RELAY_SOURCE, reservedPrefixOf } from "./relay-keys.ts";

export const SCHEMA_VERSION = 1 as const;

export const STATUSES = ["firing", "resolved"] as const;
export const SEVERITIES = ["critical", "error", "warning", "info"] as const;

export type AlertStatus = (typeof STATUSES)[number];
export type Severity = (typeof SEVERITIES)[number];

const isoTimestamp = z.iso.datetime({ offset: true });

const label = z
  .string()
  .min(1)
  .max(LIMITS.labelKeyChars)
  .regex(/^[^\s=!~]+$/, "label names may not contain whitespace, '=', '!' or '~'");

export const linkSchema = z.object({
  href: z.string().min(1).max(LIMITS.urlChars),
  text: z.string().max(LIMITS.linkTextChars).optional(),
});

export const imageSchema = z.object({
  src: z.string().startsWith("https://", "image src must be an https:// URL").max(LIMITS.urlChars),
  href: z.string().max(LIMITS.urlChars).optional(),
  alt: z.string().max(LIMITS.linkTextChars).optional(),
});

/**
 * A JSON object whose names are data: every own name is kept, "__proto__" and "constructor"
 * included. (z.record assigns by name, which drops "__proto__" or turns it into the prototype.)
 * The result is built with Object.fromEntries, which defines own data properties.
 */
function dataMap<V extends z.ZodType>(name: z.ZodType<string>, value: V) {
  return z.unknown().transform((input, ctx): Record<string, z.output<V>> => {
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      ctx.addIssue({ code: "custom", message: `expected an object, got ${input === null ? "null" : Array.isArray(input) ? "an array" : typeof input}` });
      return z.NEVER;
    }
    const entries: [string, z.output<V>][] = [];
    for (const [key, raw] of Object.entries(input)) {
      const checkedName = name.safeParse(key);
      if (!checkedName.success) ctx.addIssue({ code: "custom", path: [key], message: `name ${JSON.stringify(key.slice(0, 64))}: ${checkedName.error.issues[0]?.message}` });
      const checked = value.safeParse(raw);
      if (!checked.success) ctx.addIssue({ code: "custom", path: [key], message: checked.error.issues[0]?.message ?? "invalid value" });
      else entries.push([key, checked.data as z.output<V>]);
    }
    return Object.fromEntries(entries) as Record<string, z.output<V>>;
  });
}

export const normalizedAlertSchema = z
  .object({
    schema: z.literal(SCHEMA_VERSION),
    id: z.string().min(1).max(LIMITS.idChars),
    source: z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, "source must be an adapter name"),
    dedupKey: z.string().min(1).max(LIMITS.dedupKeyChars),
    status: z.enum(STATUSES),
    severity: z.enum(SEVERITIES),
    occurredAt: isoTimestamp,
    receivedAt: isoTimestamp,
    summary: z.string().min(1).max(LIMITS.summaryChars),
    sourceHost: z.string().min(1).max(LIMITS.fieldChars),
    component: z.string().max(LIMITS.fieldChars).optional(),
    group: z.string().max(LIMITS.fieldChars).optional(),
    class: z.string().max(LIMITS.fieldChars).optional(),
    links: z.array(linkSchema).max(LIMITS.links),
    images: z.array(imageSchema).max(LIMITS.images),
    details: dataMap(z.string(), z.unknown()),
    labels: dataMap(label, z.string().max(LIMITS.labelValueChars)),
  })
  .superRefine((alert, ctx) => {
    if (Object.keys(alert.labels).length > LIMITS.labels) {
      ctx.addIssue({ code: "custom", path: ["labels"], message: `at most ${LIMITS.labels} labels` });
    }
    if (JSON.stringify(alert.details).length > LIMITS.detailsChars) {
      ctx.addIssue({ code: "custom", path: ["details"], message: `details over ${LIMITS.detailsChars} characters` });
    }
    const reserved = alert.source !== RELAY_SOURCE && reservedPrefixOf(alert.dedupKey);
    if (reserved) {
      ctx.addIssue({ code: "custom", path: ["dedupKey"], message: `may not start with "${reserved}": alert-relay keeps such keys for its own records` });
    }
  });

export type NormalizedAlert = z.infer<typeof normalizedAlertSchema>;
export type AlertLink = z.infer<typeof linkSchema>;
export type AlertImage = z.infer<typeof imageSchema>;

/** Validation error naming the first failing field path, e.g. `labels.team: expected string`. */
export class AlertContractError extends Error {
  readonly issues: readonly { path: string; message: string }[];
  constructor(issues: readonly { path: string; message: string }[]) {
    super(`alert does not match schema v${SCHEMA_VERSION}: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`);
    this.name = "AlertContractError";
    this.issues = issues;
  }
}

/** Parses an unknown value as a normalized alert or throws AlertContractError. */
export function parseAlert(value: unknown): NormalizedAlert {
  const result = normalizedAlertSchema.safeParse(value);
  if (result.success) return result.data;
  throw new AlertContractError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })),
  );
}
