import { describe, expect, it } from "vitest";
import { resolveRoute } from "../../../lib/routes/resolve-route.ts";
import { DEFAULT_ROUTES_CONFIG, parseRoutesConfig } from "../../../lib/routes/routes-config.ts";
import { alertAt } from "../../support/alerts.ts";

const config = parseRoutesConfig({
  routes: [
    { name: "payments-critical", matchers: ["team=payments", "severity=critical"], routingKey: "payments-high" },
    { name: "payments", matchers: ["team=payments"], routingKey: "payments-low" },
    { name: "cloudwatch-prod", matchers: ["source=cloudwatch", "env=~prod|production"], routingKey: "platform" },
  ],
  defaultRoute: { routingKey: "catch-all" },
});

describe("resolveRoute", () => {
  it("takes the first route whose matchers all match, even when a later one matches too", () => {
    const alert = alertAt("PaymentsDown", "firing", 0, { severity: "critical", labels: { team: "payments" } });
    expect(resolveRoute(config, alert)).toEqual({ route: "payments-critical", routingKeyRef: "payments-high" });
  });

  it("falls through to a later route when one matcher of an earlier route fails", () => {
    const alert = alertAt("PaymentsSlow", "firing", 0, { severity: "warning", labels: { team: "payments" } });
    expect(resolveRoute(config, alert)).toEqual({ route: "payments", routingKeyRef: "payments-low" });
  });

  it("matches on source like on labels", () => {
    const alert = alertAt("HighCPU", "firing", 0, { source: "cloudwatch", labels: { env: "production" } });
    expect(resolveRoute(config, alert).route).toBe("cloudwatch-prod");
    expect(resolveRoute(config, { ...alert, source: "datadog" }).route).toBe("default");
  });

  it("takes the default route when nothing matches", () => {
    const alert = alertAt("DiskFull", "firing", 0, { labels: { team: "search" } });
    expect(resolveRoute(config, alert)).toEqual({ route: "default", routingKeyRef: "catch-all" });
  });

  it("sends everything to the key named default without a routes config", () => {
    const alert = alertAt("DiskFull", "firing", 0, { labels: { team: "payments" } });
    expect(resolveRoute(DEFAULT_ROUTES_CONFIG, alert)).toEqual({ route: "default", routingKeyRef: "default" });
  });

  it("routes a resolve like its trigger, since status is not matchable", () => {
    const firing = alertAt("PaymentsDown", "firing", 0, { severity: "critical", labels: { team: "payments" } });
    const resolved = alertAt("PaymentsDown", "resolved", 5, { severity: "critical", labels: { team: "payments" } });
    expect(resolveRoute(config, resolved)).toEqual(resolveRoute(config, firing));
  });
});
