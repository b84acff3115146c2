/** Problem state as the state commands present it: what PagerDuty was told, in a few words or in sentences. */
import { SEVERITY_RANK, type ProblemState } from "../router/state.ts";
import { TALLY_LABELS, activeMembership, topTallies } from "../router/aggregates.ts";
import { dateOf, plural, relative, when } from "./format.ts";

/** `trigger 5m ago`, `resolve in flight`, `not told (delivery failed)`. */
export function toldCell(state: ProblemState, now: Date): string {
  if (deliveryInFlight(state, now)) return `${state.delivery!.action} in flight`;
  const toldAt = dateOf(state.told?.at);
  if (state.told) return `${state.told.action}${toldAt ? ` ${relative(toldAt, now)}` : ""}`;
  return state.lastDeliveryError ? "not told (delivery failed)" : "not told";
}

export function deliveryInFlight(state: ProblemState, now: Date): boolean {
  const until = dateOf(state.delivery?.until);
  return until !== undefined && until > now;
}

const at = (value: string | undefined, now: Date) => {
  const date = dateOf(value);
  return date ? when(date, now) : "an unknown time";
};

const keyRef = (target: { routingKeyRef: string; route: string }) => `routing key ref '${target.routingKeyRef}' (route ${target.route})`;

/** What PagerDuty knows and what it is still owed, one sentence per line. */
export function pagerDutySentences(state: ProblemState, now: Date): string[] {
  const { told, openIn, delivery } = state;
  const lines: string[] = [];
  if (told) {
    lines.push(
      `PagerDuty was told: ${told.action} at ${at(told.at, now)} on ${keyRef(told)}, severity ${told.severity} (alert ${told.alertId}).`,
    );
  } else {
    lines.push("PagerDuty has not been told anything about this problem.");
  }

  if (state.status === "firing") {
    if (told?.action === "trigger" && (SEVERITY_RANK[state.severity] ?? 0) > (SEVERITY_RANK[told.severity] ?? 0)) {
      lines.push(`The severity has risen to ${state.severity} since, so a new trigger is owed.`);
    } else if (told?.action === "trigger") {
      lines.push("So PagerDuty has it open: nothing more to send while it keeps firing.");
    } else if (state.suppressedBy) {
      lines.push(
        `It is held back by suppression window ${state.suppressedBy}${state.suppressedReason ? ` (${state.suppressedReason})` : ""}.`,
      );
      lines.push("If the window ends while the problem still fires, the sweep pages for it.");
    } else if (openIn) {
      lines.push(`A trigger to ${keyRef(openIn)} was started but not confirmed; the next attempt sends it again there.`);
    } else {
      lines.push("A trigger is owed: the router sends it on the next attempt.");
    }
  } else if (openIn) {
    lines.push(`A resolve is owed on ${keyRef(openIn)}, where the trigger went (or may have gone).`);
  } else if (told) {
    lines.push("So PagerDuty is up to date: the problem is resolved there too.");
  } else {
    lines.push("Nothing to resolve: PagerDuty never heard of it.");
  }

  if (delivery) {
    const until = dateOf(delivery.until);
    lines.push(
      deliveryInFlight(state, now)
        ? `A delivery is in flight until ${at(delivery.until, now)}: ` +
            `${delivery.action} on ${keyRef(delivery)}, claimed by a router instance.`
        : `A delivery claim (${delivery.action} on ${keyRef(delivery)}) lapsed at ` +
            `${until ? when(until, now) : "an unknown time"} without an answer; the next attempt takes over.`,
    );
  }
  if (state.lastDeliveryError) lines.push(`Last delivery error: ${state.lastDeliveryError}`);
  if (state.watch === "owed") {
    lines.push(
      `Its change of ${at(state.watchAt, now)} is owed to PagerDuty: its queue message ` +
        `delivers it, and if that message is lost or keeps failing, ` +
        "the sweep delivers it from this record after the grace period (OWED_GRACE, two router timeouts).",
    );
  }
  if (state.watch === "reresolve") {
    lines.push(
      `A trigger attempt got no answer and may reach PagerDuty late, so the resolve is sent ` +
        `once more ${at(state.reResolveAt, now)} (idempotent at PagerDuty).`,
    );
  }
  if (state.unpaged) {
    lines.push(
      `${plural(state.unpaged, "firing episode")} of this problem ` +
        `${state.unpaged === 1 ? "was" : "were"} over before PagerDuty could be reached: not paged after the fact ` +
        "(only a resolve went out, in case a trigger had reached it).",
    );
  }
  if (state.recovered) {
    lines.push(
      `The sweep delivered ${plural(state.recovered, "change")} of this problem that its ` +
        `queue message had not (last ${at(state.recoveredAt, now)}).`,
    );
  }
  return lines;
}

/** Why the problem is not simply paging on its own: a window, a flapping hold, a group or storm. Empty when none. */
export function noteCell(state: ProblemState, now: Date): string {
  if (state.kind) return `${state.kind} of ${state.memberCount ?? 0}, ${state.firingCount ?? 0} firing`;
  const membership = activeMembership(state);
  if (membership) return `via ${membership.key}`;
  if (state.watch === "held") {
    const until = dateOf(state.watchAt);
    return `flapping: resolve held${until ? ` until ${relative(until, now)}` : ""}`;
  }
  if (state.flappingSince) return `flapped: ${plural(state.held ?? 0, "resolve")} held`;
  return state.suppressedBy ? `window ${state.suppressedBy}` : "";
}

/** Groups, storms and flapping, explained: empty for a problem that pages on its own and is calm. */
export function aggregateSentences(state: ProblemState, now: Date): string[] {
  const lines: string[] = [];
  if (state.kind) {
    lines.push(
      state.kind === "storm"
        ? `This is the storm incident of routing key '${state.rule}': new problems beyond the ` +
            `storm rate joined it instead of opening incidents of their own.`
        : `This is a group incident of grouping rule '${state.rule}': related alerts page through it as one PagerDuty incident.`,
    );
    lines.push(
      `Opened ${at(state.openedAt, now)}; ${plural(state.memberCount ?? 0, "member")}, ${state.firingCount ?? 0} firing. ` +
        (state.status === "firing" ? "It resolves when every member has resolved." : "Every member has resolved."),
    );
    for (const label of TALLY_LABELS) {
      const top = topTallies(state, label, 5);
      if (top.length > 0) lines.push(`Firing by ${label}: ${top.map(([value, n]) => `${value} ${n}`).join(", ")}.`);
    }
    if (state.told?.members !== undefined) {
      lines.push(
        `PagerDuty's alert counts ` +
          `${plural(state.told.members, "member")}${state.told.firing === undefined ? "" : `, ${state.told.firing} firing`}; ` +
          `changes reach it in one update a minute.`,
      );
    }
    const pending = Object.keys(state.pending ?? {}).length;
    if (pending > 0) lines.push(`${plural(pending, "member change")} being counted by a router instance right now.`);
    return lines;
  }
  const membership = activeMembership(state);
  if (membership) {
    lines.push(
      `It pages through ${membership.kind === "storm" ? "the storm incident" : "the group incident"} ${membership.key}, not on its own; ` +
        (membership.synced
          ? `PagerDuty has seen it ${membership.synced.status} there since ${at(membership.synced.at, now)}.`
          : "It joined, and that incident's PagerDuty state is being brought up to date.") +
        ` alert-relay state show ${membership.key} explains it.`,
    );
  }
  if (state.watch === "held") {
    lines.push(
      `It is flapping (${plural(state.changes?.length ?? 0, "recent change")}), so its resolve is held until ${at(state.watchAt, now)}; ` +
        "the sweep sends it then unless the problem fires again, which keeps the incident open instead of paging again.",
    );
  } else if (state.flappingSince) {
    lines.push(
      `It started flapping ${at(state.flappingSince, now)} and PagerDuty's incident has stayed open since; ` +
        "a resolve while it still flaps waits until it has been stable.",
    );
  }
  if (state.held) lines.push(`Resolves held while flapping so far: ${state.held}.`);
  return lines;
}

/** One line per member of a group or storm incident, newest change first (from the members' own items). */
export function memberLines(members: readonly ProblemState[], now: Date): string[] {
  return [...members]
    .sort((a, b) => (a.transitionAt < b.transitionAt ? 1 : a.transitionAt > b.transitionAt ? -1 : 0))
    .map(
      (member) =>
        `${member.status.padEnd(8)} ${member.severity.padEnd(8)} since ` +
        `${at(member.transitionAt, now)}  ${member.dedupKey}: ${member.lastAlert?.summary ?? ""}`,
    );
}
