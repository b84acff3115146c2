/** Which route an alert takes: the first route whose matchers all match, else the default. */
import { matches } from "../matchers/matcher.ts";
import { matchSubject, type MatchableAlert } from "../matchers/subject.ts";
import { DEFAULT_ROUTE_NAME, type RoutesConfig } from "./routes-config.ts";

export interface ResolvedRoute {
  /** The matching route's name, or "default". */
  readonly route: string;
  readonly routingKeyRef: string;
}

export function resolveRoute(config: RoutesConfig, alert: MatchableAlert): ResolvedRoute {
  const subject = matchSubject(alert);
  const route = config.routes.find((candidate) => matches(candidate.matchers, subject));
  return route
    ? { route: route.name, routingKeyRef: route.routingKeyRef }
    : { route: DEFAULT_ROUTE_NAME, routingKeyRef: config.defaultRoute.routingKeyRef };
}
