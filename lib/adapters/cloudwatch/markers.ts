/**
 * CloudWatch alarms have no labels that travel with their notifications (tags are not sent), so
 * the alarm description carries the routing hints: `severity: critical`, `team=payments`,
 * `[class:disk-full]`. See README.md for the convention.
 */

export interface DescriptionMarkers {
  severity?: string;
  class?: string;
  insufficientData?: string;
  runbook?: string;
  /** `team`, `service`, `env` as written; they become labels. */
  labels: Record<string, string>;
  /** Every http(s) URL in the description, in order. */
  urls: string[];
}

const MARKER_KEYS: Readonly<Record<string, keyof Omit<DescriptionMarkers, "labels" | "urls"> | "team" | "service" | "env">> = {
  severity: "severity",
  class: "class",
  insufficient_data: "insufficientData",
  "insufficient-data": "insufficientData",
  runbook: "runbook",
  runbook_url: "runbook",
  "runbook-url": "runbook",
  team: "team",
  service: "service",
  env: "env",
  environment: "env",
};

/**
 * A key not glued to a preceding word (so `subclass:` is not `class:`), `:` or `=`, then one
 * token. Brackets, parentheses, quotes, commas and semicolons end the token so `[severity:high]`
 * and `severity: high, team: web` both read naturally.
 */
const MARKER =
  /(?<![\w-])(severity|class|insufficient[_-]data|runbook(?:[_-]url)?|team|service|environment|env)[ \t]*[:=][ \t]*["']?([^\s"',;|\])]+)/gi;
const URL_IN_TEXT = /https?:\/\/[^\s<>"'\])]+/g;
const TRAILING_PUNCTUATION = /[.,:;!?]+$/;

export function parseDescriptionMarkers(description: string | undefined): DescriptionMarkers {
  const markers: DescriptionMarkers = { labels: {}, urls: [] };
  if (!description) return markers;
  for (const match of description.matchAll(MARKER)) {
    const key = MARKER_KEYS[match[1]!.toLowerCase()];
    const value = match[2]!.replace(TRAILING_PUNCTUATION, "");
    if (!key || !value) continue;
    if (key === "team" || key === "service" || key === "env") {
      markers.labels[key] ??= value;
    } else {
      markers[key] ??= value;
    }
  }
  for (const match of description.matchAll(URL_IN_TEXT)) {
    const url = match[0].replace(TRAILING_PUNCTUATION, "");
    if (!markers.urls.includes(url)) markers.urls.push(url);
  }
  return markers;
}
