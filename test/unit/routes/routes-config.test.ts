import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { problemsOf } from "./problems-of.ts";
import { DEFAULT_ROUTES_CONFIG, loadRoutesConfig, parseRoutesConfig, routingKeyRefs } from "../../../lib/routes/routes-config.ts";

const EXAMPLE_PATH = new URL("../../../config/routes.example.json", import.meta.url);
const example = () => JSON.parse(readFileSync(EXAMPLE_PATH, "utf8")) as { routes: Record<string, unknown>[]; defaultRoute: unknown };

const route = (overrides: Record<string, unknown> = {}) => ({
  name: "payments-critical",
  matchers: ["team=payments", "severity=critical"],
  routingKey: "payments-high",
  ...overrides,
});

describe("parseRoutesConfig", () => {
  it("reads config/routes.example.json", () => {
    const config = parseRoutesConfig(example());
    expect(config.routes.map((r) => r.name)).toEqual([
      "payments-critical",
      "payments",
      "databases-prod",
      "platform-cloudwatch",
      "kubernetes-staging",
    ]);
    expect(config.routes[0]).toMatchObject({ routingKeyRef: "payments-high", description: expect.stringContaining("payments") });
    expect(config.routes[0]?.matchers.map((m) => m.name)).toEqual(["team", "severity"]);
    expect(config.defaultRoute).toEqual({ routingKeyRef: "default" });
    expect(routingKeyRefs(config)).toEqual(["default", "payments-high", "payments-low", "dba", "platform", "platform-low"]);
    expect(config.policies.groups.map((g) => [g.name, g.groupBy, g.windowMs])).toEqual([["service-down", ["service"], 600_000]]);
    expect(config.policies.flapping).toEqual({ changes: 3, withinMs: 600_000, stableMs: 300_000 });
    expect(config.policies.storm).toEqual({ newIncidentsPerMinute: 30 });
    expect(config.policies.heartbeats.map((h) => [h.name, h.intervalMs, h.severity])).toEqual([
      ["prometheus-watchdog", 300_000, "critical"],
    ]);
  });

  it("accepts an empty route list: everything takes the default route", () => {
    expect(parseRoutesConfig({ routes: [], defaultRoute: { routingKey: "default" } })).toEqual(DEFAULT_ROUTES_CONFIG);
  });

  const withRoutes = (...routes: unknown[]) => ({ routes, defaultRoute: { routingKey: "default" } });

  it.each<[string, unknown, string]>([
    [
      "a missing default route",
      { routes: [] },
      'defaultRoute is missing: every alert needs somewhere to go; add "defaultRoute": { "routingKey": "default" }',
    ],
    ["missing routes", { defaultRoute: { routingKey: "default" } }, "routes is missing; expected a list of routes (it may be empty)"],
    [
      "a bad matcher",
      withRoutes(route({ matchers: ["team=payments", "env=~(prod"] })),
      'routes[0].matchers[1] "env=~(prod" is not a valid regex',
    ],
    [
      "no matchers",
      withRoutes(route({ matchers: [] })),
      "routes[0].matchers is empty: a route without matchers catches every alert; use defaultRoute for that",
    ],
    ["matchers as one text", withRoutes(route({ matchers: "team=payments" })), 'routes[0].matchers is "team=payments"; expected a list'],
    [
      "a missing routing key name",
      withRoutes(route({ routingKey: undefined })),
      "routes[0].routingKey is missing; name the routing key to use",
    ],
    [
      "an upper-case key name",
      withRoutes(route({ routingKey: "Payments_High" })),
      'routes[0].routingKey "Payments_High" is not a routing key name',
    ],
    ["a route named default", withRoutes(route({ name: "Default" })), 'routes[0].name "default" is reserved for defaultRoute'],
    ["a name with spaces", withRoutes(route({ name: "payments critical" })), "routes[0].name must be 1-64 letters, digits"],
    [
      "a misspelt field",
      withRoutes(route({ matcher: ["team=x"] })),
      'routes[0] has unknown "matcher": a route has only name, description, matchers, routingKey',
    ],
    ["an unknown top-level field", { ...withRoutes(), default: {} }, 'the config has unknown "default"'],
    ["a default route with extras", { routes: [], defaultRoute: { routingKey: "default", name: "x" } }, 'defaultRoute has unknown "name"'],
    ["a config that is a list", [], "the config is a list; expected an object"],
  ])("refuses %s", (_what, value, problem) => {
    expect(problemsOf(value).join("\n")).toContain(problem);
  });

  it("refuses duplicate route names, naming both places, alongside other problems", () => {
    const problems = problemsOf({
      routes: [route(), route({ name: "other", matchers: [] }), route()],
      defaultRoute: { routingKey: "default" },
    });
    expect(problems).toEqual([
      "routes[1].matchers is empty: a route without matchers catches every alert; use defaultRoute for that",
      'routes[2].name "payments-critical" is already used by routes[0]; route names must be unique',
    ]);
  });

  describe("a real routing key where a name belongs", () => {
    const KEY = "R0ABCDEF1234567890ABCDEF12345678";

    it.each([
      ["in a route", { routes: [route({ routingKey: KEY })], defaultRoute: { routingKey: "default" } }, "routes[0].routingKey"],
      ["as the default", { routes: [], defaultRoute: { routingKey: KEY.toLowerCase() } }, "defaultRoute.routingKey"],
    ])("is refused %s, pointing at Secrets Manager, without repeating the key", (_where, value, field) => {
      let message = "";
      try {
        parseRoutesConfig(value);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`${field} looks like a PagerDuty routing key itself`);
      expect(message).toContain("store the key in the secret <prefix>/");
      expect(message.toLowerCase()).not.toContain(KEY.toLowerCase());
    });

    it("still accepts a long name that has dashes", () => {
      expect(
        parseRoutesConfig({ routes: [], defaultRoute: { routingKey: "payments-high-urgency-primary-1" } }).defaultRoute.routingKeyRef,
      ).toBe("payments-high-urgency-primary-1");
    });
  });

  it("says where the config came from", () => {
    expect(() => parseRoutesConfig({ routes: [] }, 'ROUTES_FILE "config/routes.json"')).toThrow(
      /^ROUTES_FILE "config\/routes.json" is not a valid routes config:\n {2}- defaultRoute is missing/,
    );
  });
});

describe("loadRoutesConfig", () => {
  const json = JSON.stringify({ routes: [route()], defaultRoute: { routingKey: "default" } });

  it("uses the default route for everything when neither ROUTES_FILE nor ROUTES_JSON is set", () => {
    expect(loadRoutesConfig({})).toBe(DEFAULT_ROUTES_CONFIG);
    expect(loadRoutesConfig({ ROUTES_FILE: " ", ROUTES_JSON: "" })).toBe(DEFAULT_ROUTES_CONFIG);
  });

  it("reads ROUTES_FILE", () => {
    expect(loadRoutesConfig({ ROUTES_FILE: EXAMPLE_PATH.pathname }).routes).toHaveLength(5);
  });

  it("reads ROUTES_JSON", () => {
    expect(loadRoutesConfig({ ROUTES_JSON: json }).routes[0]?.name).toBe("payments-critical");
  });

  it("refuses both at once", () => {
    expect(() => loadRoutesConfig({ ROUTES_FILE: "a.json", ROUTES_JSON: json })).toThrow("ROUTES_FILE and ROUTES_JSON are both set");
  });

  it("names the file it could not read", () => {
    expect(() => loadRoutesConfig({ ROUTES_FILE: "/nonexistent/routes.json" })).toThrow(
      /ROUTES_FILE "\/nonexistent\/routes.json" is not a valid routes config:\n {2}- could not be read: ENOENT/,
    );
  });

  it("names the variable holding invalid JSON", () => {
    expect(() => loadRoutesConfig({ ROUTES_JSON: "{ routes: [" })).toThrow(
      /ROUTES_JSON is not a valid routes config:\n {2}- is not valid JSON/,
    );
  });

  it("validates what it read", () => {
    expect(() => loadRoutesConfig({ ROUTES_FILE: "routes.json" }, () => '{"routes": []}')).toThrow("defaultRoute is missing");
  });
});
