/**
 * Group and storm incidents in the state table. Membership is a map of member entries plus a
 * string set of the members firing; every change is one conditional write, idempotent for a
 * redelivered member, and the aggregate's derived status is written only from a newer view, so
 * racing members cannot leave it behind.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { KEY_PREFIX } from "../alert/relay-keys.ts";
import { MAX_MEMBERS, deriveAggregate, memberEntry, openerOf, type AggregateRef, type AggregateTarget } from "./aggregates.ts";
import type { ProblemState } from "./state.ts";
import { DEFAULT_RESOLVED_RETENTION_SECONDS, conditionalUpdate, readState, storedAlert, type UpdateInput } from "./state-store.ts";

export interface AggregateStore {
  /** Adds a firing member; undefined when the aggregate is open but past its join window (or full). */
  join(target: AggregateTarget, member: ProblemState, now: Date): Promise<ProblemState | undefined>;
  /** Takes in a member's resolve; undefined when it is no longer a member (the aggregate reopened without it). */
  leave(ref: AggregateRef, member: ProblemState): Promise<ProblemState | undefined>;
  /** Writes the status, severity and alert derived from the members; returns the newest aggregate state. */
  writeView(aggregate: ProblemState, now: Date): Promise<ProblemState | undefined>;
  /** Records on the member the aggregate it pages through (and, once done, which of its states that aggregate has taken in). */
  setMembership(member: ProblemState, ref: AggregateRef): Promise<void>;
  /** Counts one new incident for a routing key; returns the counts of this clock minute (including it) and the one before. */
  countNewIncident(routingKeyRef: string, now: Date): Promise<{ thisMinute: number; lastMinute: number }>;
}

export interface AggregateStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  resolvedRetentionSeconds?: number;
}


export function createAggregateStore(options: AggregateStoreOptions): AggregateStore {
  const { doc, tableName } = options;
  const retention = options.resolvedRetentionSeconds ?? DEFAULT_RESOLVED_RETENTION_SECONDS;
  const plainUpdate = conditionalUpdate(doc, tableName);
  /** Names every `#word` the expressions use after the attribute it stands for: members, firing, kind... are reserved words. */
  const update = (input: UpdateInput) => {
    const names: Record<string, string> = { ...input.ExpressionAttributeNames };
    for (const [token, word] of `${input.UpdateExpression} ${input.ConditionExpression ?? ""}`.matchAll(/#(\w+)/g)) names[token] ??= word!;
    return plainUpdate({ ...input, ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}) });
  };
  const key = (dedupKey: string) => ({ dedupKey });

  return {
    async join(target, member, now) {
      const entry = memberEntry(member);
      const names = { "#k": member.dedupKey };
      const cutoff = target.windowMs === undefined ? "" : new Date(now.getTime() - target.windowMs).toISOString();
      const episode = { ":single": { [member.dedupKey]: entry }, ":now": now.toISOString(), ":opener": openerOf(member), ":one": 1, ":member": new Set([member.dedupKey]) };
      const attempts = [
        // Open and within its window, or already a member for this episode (a redelivery).
        () =>
          update({
            Key: key(target.key),
            UpdateExpression: "SET #members.#k = :entry, #version = #version + :one ADD #firing :member",
            ConditionExpression: "attribute_exists(#firing) AND ((attribute_exists(#members.#k) AND #members.#k.t = :t) OR (#openedAt >= :cutoff AND size(#members) < :max))",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ":entry": entry, ":t": entry.t, ":cutoff": cutoff, ":max": MAX_MEMBERS, ":one": 1, ":member": episode[":member"] },
          }),
        // The first member ever.
        () =>
          update({
            Key: key(target.key),
            UpdateExpression: "SET #members = :single, #openedAt = :now, #opener = :opener, #version = :one, #kind = :kind, #rule = :rule ADD #firing :member",
            ConditionExpression: "attribute_not_exists(dedupKey)",
            ExpressionAttributeNames: { "#rule": "rule" },
            ExpressionAttributeValues: { ...episode, ":kind": target.kind, ":rule": target.rule },
          }),
        // Every member had resolved: this one opens a new episode.
        () =>
          update({
            Key: key(target.key),
            UpdateExpression: "SET #members = :single, #openedAt = :now, #opener = :opener, #version = #version + :one ADD #firing :member",
            ConditionExpression: "attribute_exists(dedupKey) AND attribute_not_exists(#firing)",
            ExpressionAttributeValues: episode,
          }),
      ];
      // When the first three fail, the aggregate is open (the reopen failed) and either past its
      // window or full, or it was created by a racing member after the first attempt: one more
      // join tells which. Four failed writes at most before the problem pages on its own.
      for (const attempt of [...attempts, attempts[0]!]) {
        const joined = await attempt();
        if (joined) return joined;
      }
      return undefined;
    },

    async leave(ref, member) {
      return update({
        Key: key(ref.key),
        UpdateExpression: "SET #members.#k.s = :status, #members.#k.t = :t, #members.#k.v = :severity, #members.#k.m = :summary, #version = #version + :one DELETE #firing :member",
        ConditionExpression: "attribute_exists(#members.#k) AND #members.#k.t <= :t",
        ExpressionAttributeNames: { "#k": member.dedupKey },
        ExpressionAttributeValues: { ":status": member.status, ":t": member.transitionAt, ":severity": member.severity, ":summary": memberEntry(member).m, ":one": 1, ":member": new Set([member.dedupKey]) },
      });
    },

    async writeView(aggregate, now) {
      const view = deriveAggregate(aggregate, now);
      const changed = aggregate.status !== view.status;
      const nowIso = now.toISOString();
      // A firing aggregate stays on the sweep's list so new members reach PagerDuty even if no more arrive.
      const expiry =
        view.status === "resolved"
          ? { set: ", expiresAt = :expiresAt", remove: " REMOVE watch, watchAt", values: { ":expiresAt": Math.floor(now.getTime() / 1000) + retention } }
          : { set: ", watch = :watch, watchAt = :now", remove: " REMOVE expiresAt", values: { ":watch": "aggregate" } };
      const written = await update({
        Key: key(aggregate.dedupKey),
        UpdateExpression:
          `SET #status = :status, severity = :severity, lastAlert = :alert, lastAlertId = :alertId, eventAt = :now, lastSeenAt = :now, viewVersion = :version, ` +
          `#source = :source, firstSeenAt = if_not_exists(firstSeenAt, :now), seen = if_not_exists(seen, :zero) + :one, deduplicated = if_not_exists(deduplicated, :zero), ` +
          `suppressed = if_not_exists(suppressed, :zero), stale = if_not_exists(stale, :zero)${changed ? ", transitionAt = :now" : ""}${expiry.set}${expiry.remove}`,
        ConditionExpression: "attribute_not_exists(viewVersion) OR viewVersion < :version",
        ExpressionAttributeNames: { "#status": "status", "#source": "source" },
        ExpressionAttributeValues: {
          ":status": view.status,
          ":severity": view.severity,
          ":alert": storedAlert(view.alert),
          ":alertId": view.alert.id,
          ":now": nowIso,
          ":version": aggregate.version ?? 0,
          ":source": view.alert.source,
          ":zero": 0,
          ":one": 1,
          ...expiry.values,
        },
      });
      if (written) return written;
      // A newer view was written meanwhile: reconcile from that one.
      return readState(doc, tableName, aggregate.dedupKey);
    },

    async setMembership(member, ref) {
      await update({
        Key: key(member.dedupKey),
        UpdateExpression: "SET #aggregate = :ref",
        ConditionExpression: "#status = :status AND transitionAt = :t",
        ExpressionAttributeValues: { ":ref": ref, ":status": member.status, ":t": member.transitionAt },
      });
    },

    async countNewIncident(routingKeyRef, now) {
      const minute = now.toISOString().slice(0, 16);
      const previous = new Date(now.getTime() - 60_000).toISOString().slice(0, 16);
      const common = { Key: key(`${KEY_PREFIX.rate}${routingKeyRef}`), ExpressionAttributeNames: { "#minute": "minute" } };
      const values = { ":one": 1, ":minute": minute, ":expiresAt": Math.floor(now.getTime() / 1000) + 3600 };
      const attempts = [
        // The usual case: another new incident in the same minute.
        () => update({ ...common, UpdateExpression: "SET expiresAt = :expiresAt ADD thisMinute :one", ConditionExpression: "#minute = :minute", ExpressionAttributeValues: values }),
        // The first of a minute that follows one with new incidents: that count becomes lastMinute.
        () =>
          update({
            ...common,
            UpdateExpression: "SET lastMinute = thisMinute, thisMinute = :one, #minute = :minute, expiresAt = :expiresAt",
            ConditionExpression: "#minute = :previous",
            ExpressionAttributeValues: { ...values, ":previous": previous },
          }),
        // The first after a quiet minute or more (or ever).
        () =>
          update({
            ...common,
            UpdateExpression: "SET lastMinute = :zero, thisMinute = :one, #minute = :minute, expiresAt = :expiresAt",
            ConditionExpression: "attribute_not_exists(#minute) OR #minute < :previous",
            ExpressionAttributeValues: { ...values, ":previous": previous, ":zero": 0 },
          }),
      ];
      for (let round = 0; round < 2; round += 1) {
        for (const attempt of attempts) {
          const counted = (await attempt()) as unknown as { thisMinute: number; lastMinute: number } | undefined;
          if (counted) return { thisMinute: counted.thisMinute, lastMinute: counted.lastMinute };
        }
      }
      // Another instance is ahead by a minute (clock skew): count as calm rather than fail the alert.
      return { thisMinute: 0, lastMinute: 0 };
    },
  };
}
