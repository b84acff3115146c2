/**
 * Routes: which PagerDuty routing key an alert goes to. They live in a JSON file deployed with
 * the stack (or inline JSON in an env var), not in DynamoDB: routes change through review and
 * version control like code, and the router reads them once per cold start instead of per
 * alert. A route names its routing key by reference; the key itself is a secret.
 */
import { readFileSync } from "node:fs";
import * as z from "zod/mini";
import { addIssue } from "../alert/schema.ts";
import { parseMatcherList, type Matcher } from "../matchers/matcher.ts";
import { describeValue, issueSentences } from "../matchers/problems.ts";
import { DEFAULT_POLICIES, policiesShape, toPolicies, type Policies } from "./policies.ts";

export interface Route {
  readonly name: string;
  readonly description?: string;
  readonly matchers: readonly Matcher[];
  /** The name of a routing key (resolved by a RoutingKeyResolver), never the key. */
  readonly routingKeyRef: string;
}

export interface RoutesConfig {
  /** In order: the first route whose matchers all match wins. */
  readonly routes: readonly Route[];
  readonly defaultRoute: { readonly routingKeyRef: string };
  /** Grouping, flapping, storm and heartbeat settings (lib/routes/policies.ts). */
  readonly policies: Policies;
}

/** The name resolveRoute reports for the default route; no configured route may take it. */
export const DEFAULT_ROUTE_NAME = "default";

/** Used when neither ROUTES_FILE nor ROUTES_JSON is set: everything to the key named "default". */
export const DEFAULT_ROUTES_CONFIG: RoutesConfig = { routes: [], defaultRoute: { routingKeyRef: "default" }, policies: DEFAULT_POLICIES };

/**
 * Key names become env var suffixes (`payments-high` → `PAGERDUTY_ROUTING_KEY_PAYMENTS_HIGH`)
 * and secret names (`<prefix>/payments-high`); without `_` and capitals that mapping is one-to-one.
 */
const ROUTING_KEY_REF = /^[a-z][a-z0-9-]{0,63}$/;
/** PagerDuty integration and routing keys are 32 letters and digits. */
const LOOKS_LIKE_ROUTING_KEY = /^[A-Za-z0-9]{32}$/;
const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isRoutingKeyRef(ref: string): boolean {
  return ROUTING_KEY_REF.test(ref);
}

export class RoutesConfigError extends Error {
  readonly problems: readonly string[];
  constructor(origin: string, problems: readonly string[]) {
    super(`${origin} is not a valid routes config:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "RoutesConfigError";
    this.problems = problems;
  }
}

const EXAMPLE_REF = '"payments-high"';

/** The value is never echoed once it looks like a key: error messages end up in logs. */
const routingKeyRef = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? `is missing; name the routing key to use, e.g. ${EXAMPLE_REF}`
        : `is ${describeValue(issue.input)}; expected the name of a routing key, e.g. ${EXAMPLE_REF}`,
  })
  .check(
    z.superRefine((ref, ctx) => {
      if (LOOKS_LIKE_ROUTING_KEY.test(ref)) {
        ctx.addIssue({
          code: "custom",
          message:
            `looks like a PagerDuty routing key itself (32 letters and digits); this config is not secret. ` +
            `Give the key a name such as ${EXAMPLE_REF}, store the key in the secret <prefix>/payments-high ` +
            `(locally PAGERDUTY_ROUTING_KEY_PAYMENTS_HIGH), and put the name here`,
        });
      } else if (!isRoutingKeyRef(ref)) {
        ctx.addIssue({
          code: "custom",
          message:
            `${JSON.stringify(ref)} is not a routing key name: use lower-case letters, digits and ` +
            `dashes, starting with a letter (at most 64), e.g. ${EXAMPLE_REF}`,
        });
      }
    }),
  );

const routeSchema = z.strictObject(
  {
    name: z.string({ error: (issue) => `is ${describeValue(issue.input)}; expected a route name like "payments-critical"` }).check(
      z.regex(ROUTE_NAME, { error: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit" }),
      z.refine((name) => name.toLowerCase() !== DEFAULT_ROUTE_NAME, {
        error: `"${DEFAULT_ROUTE_NAME}" is reserved for defaultRoute; give this route another name`,
      }),
    ),
    description: z.optional(z.string({ error: "must be text" })),
    matchers: z.pipe(
      z
        .array(z.unknown(), {
          error: (issue) => `is ${describeValue(issue.input)}; expected a list like ["team=payments", "severity=critical"]`,
        })
        .check(z.minLength(1, { error: "is empty: a route without matchers catches every alert; use defaultRoute for that" })),
      z.transform((texts: unknown[], ctx): Matcher[] => {
        const { matchers, problems } = parseMatcherList(texts);
        for (const { index, problem } of problems) addIssue(ctx, { path: [index], message: problem });
        return matchers;
      }),
    ),
    routingKey: routingKeyRef,
  },
  { error: unknownOrNotObject("a route has only name, description, matchers, routingKey", "a route object") },
);

const routesConfigSchema = z.strictObject(
  {
    routes: z.array(routeSchema, {
      error: (issue) => `is ${describeValue(issue.input)}; expected a list of routes (it may be empty)`,
    }),
    defaultRoute: z.strictObject(
      { routingKey: routingKeyRef },
      {
        error: (issue) =>
          issue.input === undefined
            ? `is missing: every alert needs somewhere to go; add "defaultRoute": { "routingKey": "default" }`
            : unknownOrNotObject("defaultRoute has only routingKey", '{ "routingKey": "default" }')(issue),
      },
    ),
    ...policiesShape,
  },
  {
    error: unknownOrNotObject(
      "the config has only routes, defaultRoute, groups, flapping, storm and heartbeats",
      'an object with "routes" and "defaultRoute"',
    ),
  },
);

function unknownOrNotObject(allowed: string, expected: string) {
  return (issue: { code?: string; input?: unknown; keys?: readonly string[] }): string =>
    issue.code === "unrecognized_keys"
      ? `has unknown ${issue.keys?.map((key) => JSON.stringify(key)).join(", ")}: ${allowed}`
      : `is ${describeValue(issue.input)}; expected ${expected}`;
}

/** Validates a parsed JSON value; throws RoutesConfigError listing every problem. */
export function parseRoutesConfig(value: unknown, origin = "the routes config"): RoutesConfig {
  const problems = duplicateNames(value);
  const result = routesConfigSchema.safeParse(value);
  if (!result.success) {
    problems.unshift(...issueSentences(result.error.issues, "the config"));
  }
  if (!result.success || problems.length > 0) throw new RoutesConfigError(origin, problems);
  return {
    routes: result.data.routes.map(({ routingKey, description, ...route }) => ({
      ...route,
      ...(description === undefined ? {} : { description }),
      routingKeyRef: routingKey,
    })),
    defaultRoute: { routingKeyRef: result.data.defaultRoute.routingKey },
    policies: toPolicies(result.data),
  };
}

/**
 * Names that must be unique within their list (routes, groups, heartbeats: they name routes in
 * logs, dedup keys and `state show`). Checked on the raw value so a duplicate is reported together
 * with every other problem.
 */
function duplicateNames(value: unknown): string[] {
  const problems: string[] = [];
  for (const [section, what] of [
    ["routes", "route names"],
    ["groups", "names"],
    ["heartbeats", "names"],
  ] as const) {
    const list = (value as Record<string, unknown> | null)?.[section];
    if (!Array.isArray(list)) continue;
    const firstIndex = new Map<string, number>();
    list.forEach((entry: unknown, index) => {
      const name = (entry as { name?: unknown } | null)?.name;
      if (typeof name !== "string") return;
      const earlier = firstIndex.get(name);
      if (earlier === undefined) firstIndex.set(name, index);
      else
        problems.push(
          `${section}[${index}].name ${JSON.stringify(name)} is already used by ${section}[${earlier}]; ${what} must be unique`,
        );
    });
  }
  return problems;
}

/**
 * Reads the routes from `ROUTES_FILE` (a path) or `ROUTES_JSON` (the JSON itself); with
 * neither, every alert goes to the key named "default". Both at once is refused as ambiguous.
 */
export function loadRoutesConfig(
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): RoutesConfig {
  const file = env.ROUTES_FILE?.trim();
  const inline = env.ROUTES_JSON?.trim();
  if (file && inline) throw new RoutesConfigError("the environment", ["ROUTES_FILE and ROUTES_JSON are both set; set one of them"]);
  if (!file && !inline) return DEFAULT_ROUTES_CONFIG;
  const origin = file ? `ROUTES_FILE ${JSON.stringify(file)}` : "ROUTES_JSON";
  let text: string;
  try {
    text = file ? readFile(file) : (inline as string);
  } catch (error) {
    throw new RoutesConfigError(origin, [`could not be read: ${(error as Error).message}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RoutesConfigError(origin, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return parseRoutesConfig(value, origin);
}

/** Every routing key name the config uses, e.g. to check at start-up that each one resolves. */
export function routingKeyRefs(config: RoutesConfig): string[] {
  return [...new Set([config.defaultRoute.routingKeyRef, ...config.routes.map((route) => route.routingKeyRef)])];
}
