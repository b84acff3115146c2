/**
 * The normalized alert: the one contract on the SQS queue between adapters and the router.
 * Validated when published and again when consumed; bump SCHEMA_VERSION on any breaking change.
 * Field names follow PagerDuty's common event fields so the mapping to PagerDuty stays obvious.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { LIMITS, SAFE_TEXT } from "./limits.ts";
import { RELAY_SOURCE, reservedPrefixOf } from "./relay-keys.ts";

export const SCHEMA_VERSION = 1 as const;

export const STATUSES = ["firing", "resolved"] as const;
export const SEVERITIES = ["critical", "error", "warning", "info"] as const;

export type AlertStatus = (typeof STATUSES)[number];
export type Severity = (typeof SEVERITIES)[number];

/**
 * zod/mini, not zod: the same checks without the JSON-schema and method-chaining code, ~60 KB
 * less in every function bundle (issue 15: bundles ≤ 500 KB). It carries no messages: English is
 * set here, for every schema in the process (zod's config is global; every entry loads this).
 */
z.config(en());

/** A custom issue from a transform: zod/mini's transforms get the parse payload, not classic zod's ctx.addIssue. */
export function addIssue(ctx: z.core.ParsePayload, issue: { message: string; path?: PropertyKey[] }): void {
  ctx.issues.push({ code: "custom", input: ctx.value, ...issue });
}

const isoTimestamp = z.iso.datetime({ offset: true });

/** Text as build.ts makes it (limits.ts safeText): checked again at the queue boundaries. */
const safe = (schema: z.ZodMiniString) => schema.check(z.regex(SAFE_TEXT, "may not hold control characters or bidi overrides"));

const label = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(LIMITS.labelKeyChars),
    z.regex(/^[^\s=!~]+$/, "label names may not contain whitespace, '=', '!' or '~'"),
  );

export const linkSchema = z.object({
  href: z.string().check(z.minLength(1), z.maxLength(LIMITS.urlChars)),
  text: z.optional(z.string().check(z.maxLength(LIMITS.linkTextChars))),
});

export const imageSchema = z.object({
  src: z.string().check(z.startsWith("https://", "image src must be an https:// URL"), z.maxLength(LIMITS.urlChars)),
  href: z.optional(z.string().check(z.maxLength(LIMITS.urlChars))),
  alt: z.optional(z.string().check(z.maxLength(LIMITS.linkTextChars))),
});

/**
 * A JSON object whose names are data: every own name is kept, "__proto__" and "constructor"
 * included. (z.record assigns by name, which drops "__proto__" or turns it into the prototype.)
 * The result is built with Object.fromEntries, which defines own data properties.
 */
function dataMap<V extends z.ZodMiniType>(name: z.ZodMiniType<string>, value: V) {
  const toMap = z.transform((input: unknown, ctx): Record<string, z.output<V>> => {
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      addIssue(ctx, { message: `expected an object, got ${input === null ? "null" : Array.isArray(input) ? "an array" : typeof input}` });
      return z.NEVER;
    }
    const entries: [string, z.output<V>][] = [];
    for (const [key, raw] of Object.entries(input)) {
      const checkedName = name.safeParse(key);
      if (!checkedName.success)
        addIssue(ctx, { path: [key], message: `name ${JSON.stringify(key.slice(0, 64))}: ${checkedName.error.issues[0]?.message}` });
      const checked = value.safeParse(raw);
      if (!checked.success) addIssue(ctx, { path: [key], message: checked.error.issues[0]?.message ?? "invalid value" });
      else entries.push([key, checked.data as z.output<V>]);
    }
    return Object.fromEntries(entries) as Record<string, z.output<V>>;
  });
  return z.pipe(z.unknown(), toMap);
}

export const normalizedAlertSchema = z
  .object({
    schema: z.literal(SCHEMA_VERSION),
    id: z.string().check(z.minLength(1), z.maxLength(LIMITS.idChars)),
    source: z.string().check(z.regex(/^[a-z][a-z0-9-]{1,39}$/, "source must be an adapter name")),
    dedupKey: z.string().check(z.minLength(1), z.maxLength(LIMITS.dedupKeyChars)),
    status: z.enum(STATUSES),
    severity: z.enum(SEVERITIES),
    occurredAt: isoTimestamp,
    receivedAt: isoTimestamp,
    summary: safe(z.string().check(z.minLength(1), z.maxLength(LIMITS.summaryChars))),
    sourceHost: safe(z.string().check(z.minLength(1), z.maxLength(LIMITS.fieldChars))),
    component: z.optional(safe(z.string().check(z.maxLength(LIMITS.fieldChars)))),
    group: z.optional(safe(z.string().check(z.maxLength(LIMITS.fieldChars)))),
    class: z.optional(safe(z.string().check(z.maxLength(LIMITS.fieldChars)))),
    links: z.array(linkSchema).check(z.maxLength(LIMITS.links)),
    images: z.array(imageSchema).check(z.maxLength(LIMITS.images)),
    details: dataMap(z.string(), z.unknown()),
    labels: dataMap(label, z.string().check(z.maxLength(LIMITS.labelValueChars))),
  })
  .check(
    z.superRefine((alert, ctx) => {
      if (Object.keys(alert.labels).length > LIMITS.labels) {
        ctx.addIssue({ code: "custom", path: ["labels"], message: `at most ${LIMITS.labels} labels` });
      }
      if (JSON.stringify(alert.details).length > LIMITS.detailsChars) {
        ctx.addIssue({ code: "custom", path: ["details"], message: `details over ${LIMITS.detailsChars} characters` });
      }
      const reserved = alert.source !== RELAY_SOURCE && reservedPrefixOf(alert.dedupKey);
      if (reserved) {
        ctx.addIssue({
          code: "custom",
          path: ["dedupKey"],
          message: `may not start with "${reserved}": alert-relay keeps such keys for its own records`,
        });
      }
    }),
  );

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
  throw new AlertContractError(result.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })));
}
