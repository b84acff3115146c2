/**
 * The routing policies that sit beside the routes in the same reviewed config file: incident
 * grouping rules, flapping and storm thresholds, and declared heartbeats. Like routes, they
 * change through review and are read once per cold start, never per alert.
 */
import * as z from "zod/mini";
import { SEVERITIES, addIssue, type Severity } from "../alert/schema.ts";
import { parseMatcherList, type Matcher } from "../matchers/matcher.ts";
import { describeValue } from "../matchers/problems.ts";
import { parseDuration } from "../platform/duration.ts";

/** Related alerts that become one PagerDuty incident. */
export interface GroupRule {
  readonly name: string;
  readonly description?: string;
  readonly matchers: readonly Matcher[];
  /** Labels whose values split the rule into separate incidents (empty: one incident for the rule). */
  readonly groupBy: readonly string[];
  /** A member joins the group's open incident only within this long after the incident opened. */
  readonly windowMs: number;
}

/**
 * A problem that changes state more than `changes` times within `withinMs` is flapping: its resolve waits until it has been resolved for
 * `stableMs`.
 */
export interface FlappingPolicy {
  readonly changes: number;
  readonly withinMs: number;
  readonly stableMs: number;
}

/** Above this many new incidents per minute on one routing key, further new problems join one storm incident. */
export interface StormPolicy {
  readonly newIncidentsPerMinute: number;
}

/** A dead man's switch: alerts matching `matchers` are beats; none for `intervalMs` pages. */
export interface HeartbeatDeclaration {
  readonly name: string;
  readonly description?: string;
  readonly matchers: readonly Matcher[];
  readonly intervalMs: number;
  readonly severity: Severity;
  /** Labels of the "heartbeat missing" alert, so routes and windows can pick it out. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface Policies {
  readonly groups: readonly GroupRule[];
  /** Undefined when turned off with `"flapping": false`. */
  readonly flapping: FlappingPolicy | undefined;
  readonly storm: StormPolicy | undefined;
  readonly heartbeats: readonly HeartbeatDeclaration[];
}

/** What a config without these sections gets: flapping and storm protection on, no groups or heartbeats. */
export const DEFAULT_FLAPPING: FlappingPolicy = { changes: 3, withinMs: 10 * 60_000, stableMs: 5 * 60_000 };
/** PagerDuty takes about 120 events a minute per key; a quarter of that in new incidents is already a storm for people. */
export const DEFAULT_STORM: StormPolicy = { newIncidentsPerMinute: 30 };
export const DEFAULT_POLICIES: Policies = { groups: [], flapping: DEFAULT_FLAPPING, storm: DEFAULT_STORM, heartbeats: [] };

const DEFAULT_GROUP_WINDOW_MS = 10 * 60_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

const name = (example: string) =>
  z
    .string({ error: (issue) => `is ${describeValue(issue.input)}; expected a name like ${JSON.stringify(example)}` })
    .check(z.regex(NAME, { error: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit" }));

/** Durations are whole seconds or more: parseDuration refuses "0s" and anything finer. */
const duration = (example: string) =>
  z.pipe(
    z.string({ error: (issue) => `is ${describeValue(issue.input)}; expected a duration like ${JSON.stringify(example)}` }),
    z.transform((text: string, ctx) => {
      const ms = parseDuration(text);
      if (ms !== undefined) return ms;
      addIssue(ctx, { message: `${JSON.stringify(text)} is not a duration; write it like ${JSON.stringify(example)} (s, m, h, d)` });
      return z.NEVER;
    }),
  );

const wholeNumber = (min: number, max: number) =>
  z
    .int({
      error: (issue) =>
        typeof issue.input === "number" && Number.isFinite(issue.input)
          ? `must be a whole number from ${min} to ${max}`
          : `is ${describeValue(issue.input)}; expected a whole number from ${min} to ${max}`,
    })
    .check(z.minimum(min, { error: `must be at least ${min}` }), z.maximum(max, { error: `must be at most ${max}` }));

const matcherList = (example: string) =>
  z.pipe(
    z
      .array(z.unknown(), { error: (issue) => `is ${describeValue(issue.input)}; expected a list like ${example}` })
      .check(z.minLength(1, { error: `is empty: give at least one matcher, e.g. ${example}` })),
    z.transform((texts: unknown[], ctx): Matcher[] => {
      const { matchers, problems } = parseMatcherList(texts);
      for (const { index, problem } of problems) addIssue(ctx, { path: [index], message: problem });
      return matchers;
    }),
  );

const strict = <T extends z.core.$ZodLooseShape>(shape: T, allowed: string, expected: string) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `has unknown ${(issue as { keys?: string[] }).keys?.map((key) => JSON.stringify(key)).join(", ")}: ${allowed}`
        : `is ${describeValue(issue.input)}; expected ${expected}`,
  });

const groupRuleSchema = strict(
  {
    name: name("checkout-outage"),
    description: z.optional(z.string({ error: "must be text" })),
    matchers: matcherList('["service=checkout"]'),
    groupBy: z._default(
      z.array(z.string().check(z.regex(LABEL_NAME, { error: 'must be a label name like "service"' })), {
        error: 'expected a list of label names like ["service", "env"]',
      }),
      [],
    ),
    window: z.optional(duration("10m")),
  },
  "a group has only name, description, matchers, groupBy, window",
  "a grouping rule object",
);

const flappingSchema = strict(
  { changes: wholeNumber(2, 20), within: duration("10m"), stableFor: duration("5m") },
  "flapping has only changes, within, stableFor (or is false to turn it off)",
  '{ "changes": 3, "within": "10m", "stableFor": "5m" } or false',
);

const stormSchema = strict(
  { newIncidentsPerMinute: wholeNumber(1, 10_000) },
  "storm has only newIncidentsPerMinute (or is false to turn it off)",
  '{ "newIncidentsPerMinute": 30 } or false',
);

const heartbeatSchema = strict(
  {
    name: name("prometheus-watchdog"),
    description: z.optional(z.string({ error: "must be text" })),
    matchers: matcherList('["alertname=Watchdog"]'),
    interval: duration("5m"),
    severity: z._default(z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(", ")}` }), "critical"),
    labels: z._default(
      z.record(z.string().check(z.regex(LABEL_NAME, { error: "must be a label name" })), z.string({ error: "must be text" }), {
        error: 'expected labels like {"team": "platform"}',
      }),
      {},
    ),
  },
  "a heartbeat has only name, description, matchers, interval, severity, labels",
  "a heartbeat object",
);

/**
 * `false`, or the section's object. Not a zod union: a union reports only "Invalid input" when
 * neither fits, and the person fixing the file needs the field and what is wrong with it.
 */
function offOr<S extends z.ZodMiniType>(schema: S) {
  return z.pipe(
    z.unknown(),
    z.transform((value, ctx): false | z.output<S> => {
      if (value === false) return false;
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      for (const issue of result.error.issues) addIssue(ctx, { path: issue.path, message: issue.message });
      return z.NEVER;
    }),
  );
}

/** The policy sections of the config file, each optional. */
export const policiesShape = {
  groups: z.optional(z.array(groupRuleSchema, { error: (issue) => `is ${describeValue(issue.input)}; expected a list of grouping rules` })),
  flapping: z.optional(offOr(flappingSchema)),
  storm: z.optional(offOr(stormSchema)),
  heartbeats: z.optional(z.array(heartbeatSchema, { error: (issue) => `is ${describeValue(issue.input)}; expected a list of heartbeats` })),
};

type ParsedPolicies = { [K in keyof typeof policiesShape]?: z.output<(typeof policiesShape)[K]> };

export function toPolicies(parsed: ParsedPolicies): Policies {
  const { flapping, storm } = parsed;
  return {
    groups: (parsed.groups ?? []).map(({ window, description, ...rule }) => ({
      ...rule,
      ...(description === undefined ? {} : { description }),
      windowMs: window ?? DEFAULT_GROUP_WINDOW_MS,
    })),
    flapping:
      flapping === false
        ? undefined
        : flapping
          ? { changes: flapping.changes, withinMs: flapping.within, stableMs: flapping.stableFor }
          : DEFAULT_FLAPPING,
    storm: storm === false ? undefined : (storm ?? DEFAULT_STORM),
    heartbeats: (parsed.heartbeats ?? []).map(({ interval, description, ...beat }) => ({
      ...beat,
      ...(description === undefined ? {} : { description }),
      intervalMs: interval,
    })),
  };
}
