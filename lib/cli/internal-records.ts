/**
 * Records alert-relay keeps in the state table beside the problems: the storm gate's counters
 * (`rate:<routing key>`), the pacing records (`pace:<routing key>`) and each problem's stored
 * alert (`alert-body:<dedup key>`). `state show` describes them as what they are; `state list`
 * counts the counters and pacing records apart from the problems (a stored alert is part of its problem).
 */
import { KEY_PREFIX } from "../alert/relay-keys.ts";
import { isHeartbeatItem } from "../heartbeat/heartbeat.ts";
import { eventsInWindow, type PaceRecord } from "../router/pacing.ts";
import { dateOf, plural, when } from "./format.ts";

/** An item without a problem's status that is not a heartbeat tracker (those have their own view). */
export function isInternalRecord(item: object): boolean {
  return (item as { status?: unknown }).status === undefined && !isHeartbeatItem(item);
}

/** What kind of internal record an item is, in a word or two. */
export function internalKind(item: { dedupKey: string }): string {
  if (item.dedupKey.startsWith(KEY_PREFIX.rate)) return "storm-gate counter";
  if (item.dedupKey.startsWith(KEY_PREFIX.pace)) return "pacing record";
  if (item.dedupKey.startsWith(KEY_PREFIX.alertBody)) return "stored alert";
  return "internal record";
}

interface RateRecord {
  dedupKey: string;
  minute?: string;
  thisMinute?: number;
  lastMinute?: number;
}

export function describeInternalRecord(item: { dedupKey: string } & Record<string, unknown>, now: Date, where: string): string[] {
  const kind = internalKind(item);
  const head = `${item.dedupKey} in the ${where} is a ${kind} of alert-relay, not a problem.`;
  if (item.dedupKey.startsWith(KEY_PREFIX.rate)) {
    const rate = item as RateRecord;
    const ref = item.dedupKey.slice(KEY_PREFIX.rate.length);
    return [
      head,
      "",
      `The storm gate of routing key '${ref}' counts the new incidents per clock minute; above ` +
        `the storm rate, new problems join the storm incident storm:${ref}.`,
      `  Minute ${rate.minute ?? "?"}: ${plural(rate.thisMinute ?? 0, "new incident")}; the minute before: ${rate.lastMinute ?? 0}.`,
    ];
  }
  if (item.dedupKey.startsWith(KEY_PREFIX.pace)) {
    const pace = item as unknown as PaceRecord;
    const recent = eventsInWindow(pace.w, now.getTime());
    const paused =
      pace.pausedUntil !== undefined && pace.pausedUntil > now.getTime() ? dateOf(new Date(pace.pausedUntil).toISOString()) : undefined;
    return [
      head,
      "",
      `Pacing of routing key '${pace.routingKeyRef ?? item.dedupKey.slice(KEY_PREFIX.pace.length)}': at most ` +
        `${pace.perMinute ?? "?"} events a minute go to PagerDuty, shared by every router instance.`,
      `  Sent in the last minute: ${recent}.`,
      paused ? `  Paused after PagerDuty answered 429, until ${when(paused, now)}.` : "  Not paused.",
    ];
  }
  if (item.dedupKey.startsWith(KEY_PREFIX.alertBody)) {
    const problem = item.dedupKey.slice(KEY_PREFIX.alertBody.length);
    return [
      head,
      "",
      `The alert of problem ${problem} that PagerDuty hears (its firing, occurred ` +
        `${typeof item.occurredAt === "string" ? item.occurredAt : "?"}), kept apart from the problem's small state item so a ` +
        `duplicate rewrites only that.`,
      `  alert-relay state show ${problem} explains the problem.`,
    ];
  }
  return [head, "", `  Fields: ${Object.keys(item).sort().join(", ")}`];
}
