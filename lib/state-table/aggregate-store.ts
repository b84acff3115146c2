/**
 * Group and storm incidents in the state table, for any number of members. Membership lives on
 * each member's own item (its `aggregate` ref); the aggregate item keeps counts, a bounded tally
 * and sample, and the count changes in progress. A member's change is counted exactly once with
 * single-item conditional writes, in four steps:
 *   claim   (member)    the member is being counted by this instance (a lease, like a delivery claim);
 *                       a new problem's claim to be judged, and a member's for its resolve, may be
 *                       taken by the write that records the change (StateStore.record's options),
 *                       which leaves the same item state;
 *   apply   (aggregate) the counts change and `pending.<member>` records the change, only if no
 *                       change of that member is pending: a retry after a crash finds it and knows;
 *   commit  (member)    the member records what the aggregate counted and drops the claim;
 *   finish  (aggregate) the pending entry goes, and the aggregate resolves when nothing fires.
 * A crash between any two steps leaves a state the redelivered message (or the sweep) completes
 * without counting twice.
 */
import { GetCommand, paginateScan, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { KEY_PREFIX, RELAY_SOURCE } from "../alert/relay-keys.ts";
import { RecentMap } from "../platform/recent-map.ts";
import { SEVERITIES, type Severity } from "../alert/schema.ts";
import {
  MAX_TALLY_KEYS,
  openerOf,
  sampleEntry,
  sampleSlot,
  type AggregateRef,
  type AggregateTarget,
  type CountChange,
  type PendingCount,
} from "../router/aggregates.ts";
import type { ProblemState } from "../router/state.ts";
import type { AggregateStore, ApplyResult } from "../router/stores.ts";
import {
  DEFAULT_RESOLVED_RETENTION_SECONDS,
  conditionalUpdate,
  problemFromItem,
  readState,
  storedSampleEntry,
  type UpdateInput,
} from "./table.ts";

export interface AggregateStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  resolvedRetentionSeconds?: number;
}

/** Routing keys whose storm-gate minute is remembered per instance; beyond this the oldest are forgotten. */
const COUNTERS_REMEMBERED = 1_000;

const ZERO_SEVERITIES = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;

export function createAggregateStore(options: AggregateStoreOptions): AggregateStore {
  const { doc, tableName } = options;
  const retention = options.resolvedRetentionSeconds ?? DEFAULT_RESOLVED_RETENTION_SECONDS;
  const plainUpdate = conditionalUpdate(doc, tableName);
  /** Names every `#word` the expressions use after the attribute it stands for: status, source, kind... are reserved words. */
  const update = (input: UpdateInput) => {
    const names: Record<string, string> = { ...input.ExpressionAttributeNames };
    for (const [token, word] of `${input.UpdateExpression} ${input.ConditionExpression ?? ""}`.matchAll(/#(\w+)/g)) names[token] ??= word!;
    return plainUpdate({ ...input, ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}) });
  };
  const key = (dedupKey: string) => ({ dedupKey });
  const expiresAt = (now: Date) => Math.floor(now.getTime() / 1000) + retention;
  /** The clock minute this instance last counted in, per storm-gate counter: only a hint for which write to try. */
  const minuteCounted = new RecentMap<string, string>(COUNTERS_REMEMBERED);
  /** Aggregates this instance last saw resolved: a firing member opens their next episode first (only a hint, as above). */
  const lastSeenResolved = new RecentMap<string, boolean>(COUNTERS_REMEMBERED);
  const sawAggregate = <T extends ProblemState | undefined>(aggregate: T): T => {
    if (aggregate) lastSeenResolved.set(aggregate.dedupKey, aggregate.status === "resolved");
    return aggregate;
  };

  /** The counts, severity and tally part of a change: SET clauses and their values. */
  function countClauses(change: CountChange, tally: readonly string[]) {
    const sets: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (change.firing !== 0 && change.severity) {
      sets.push("#severities.#v = if_not_exists(#severities.#v, :zero) + :delta");
      names["#v"] = change.severity;
    }
    tally.forEach((tallyKey, i) => {
      sets.push(`#tally.#t${i} = if_not_exists(#tally.#t${i}, :zero) + :delta`);
      names[`#t${i}`] = tallyKey;
    });
    values[":delta"] = change.firing;
    if (sets.length > 0) values[":zero"] = 0;
    return { sets, names, values };
  }

  async function join(
    target: AggregateTarget,
    member: ProblemState,
    change: CountChange,
    now: Date,
    tallyFull: boolean,
  ): Promise<ApplyResult | undefined> {
    const nowIso = now.toISOString();
    const cutoff = target.windowMs === undefined ? "" : new Date(now.getTime() - target.windowMs).toISOString();
    const slot = sampleSlot(member.dedupKey);
    const pending = (tally: string[]): PendingCount => ({ op: change.op, tally });
    const common = { ":now": nowIso, ":entry": storedSampleEntry(sampleEntry(member)), ":firing": "firing", ":members": change.members };
    const memberNames = { "#m": member.dedupKey, "#slot": slot };
    const requested = change.firing === 1 ? (change.tally ?? []) : [];
    // Open and within its window. The tally counts a member's keys while there is room for them; else
    // (known from a read after a failed attempt) it is counted as untallied.
    const joinOpen = async (): Promise<ApplyResult | undefined> => {
      const tallied = requested.length > 0 && !tallyFull;
      const tally = tallied ? requested : [];
      const counts = countClauses(change, tally);
      const room = tallied
        ? ` AND (size(#tally) < :maxTally OR (${tally.map((_, i) => `attribute_exists(#tally.#t${i})`).join(" AND ")}))`
        : "";
      const joined = await update({
        Key: key(target.key),
        UpdateExpression:
          `SET #pending.#m = :pending, #sample.#slot = :entry, lastSeenAt = :now${counts.sets.map((clause) => `, ${clause}`).join("")} ` +
          `ADD memberCount :members, firingCount :delta${!tallied && requested.length > 0 ? ", untallied :one" : ""}`,
        ConditionExpression: `#status = :firing AND #openedAt >= :cutoff AND attribute_not_exists(#pending.#m)${room}`,
        ExpressionAttributeNames: { ...memberNames, ...counts.names },
        ExpressionAttributeValues: {
          ...common,
          ...counts.values,
          ":pending": pending(tally),
          ":cutoff": cutoff,
          ...(tallied ? { ":maxTally": MAX_TALLY_KEYS } : {}),
          ...(!tallied && requested.length > 0 ? { ":one": 1 } : {}),
        },
      });
      return joined && { outcome: "applied", aggregate: sawAggregate(joined), episode: joined.openedAt!, tally };
    };
    // The first member ever, or the first after every member had resolved: a new episode.
    const openEpisode = async (): Promise<ApplyResult | undefined> => {
      const tally = requested.slice(0, MAX_TALLY_KEYS);
      const opened = await update({
        Key: key(target.key),
        UpdateExpression:
          "SET #kind = :kind, #rule = :rule, #status = :firing, transitionAt = :now, #openedAt = " +
          ":now, opener = :opener, memberCount = :one, firingCount = :one, " +
          "#severities = :severities, #tally = :tally, untallied = :zero, #sample = :sample, #pending = :pendingMap, #source = :relay, " +
          "firstSeenAt = if_not_exists(firstSeenAt, :now), lastSeenAt = :now, watch = :watch, watchAt = :now REMOVE expiresAt",
        ConditionExpression: "attribute_not_exists(dedupKey) OR #status = :resolved",
        ExpressionAttributeNames: { "#rule": "rule" },
        ExpressionAttributeValues: {
          ":kind": target.kind,
          ":rule": target.rule,
          ":firing": "firing",
          ":resolved": "resolved",
          ":now": nowIso,
          ":opener": openerOf(member),
          ":one": 1,
          ":zero": 0,
          ":severities": { ...ZERO_SEVERITIES, [member.severity]: 1 },
          ":tally": Object.fromEntries(tally.map((tallyKey) => [tallyKey, 1])),
          ":sample": { [slot]: storedSampleEntry(sampleEntry(member)) },
          ":pendingMap": { [member.dedupKey]: pending(tally) },
          ":relay": RELAY_SOURCE,
          ":watch": "aggregate",
        },
      });
      return opened && { outcome: "applied", aggregate: sawAggregate(opened), episode: opened.openedAt!, tally };
    };
    if (change.firing !== 1) return joinOpen();
    // The two conditions exclude each other, so the order only saves a failed write: last seen resolved, it opens first.
    if (lastSeenResolved.get(target.key)) return (await openEpisode()) ?? joinOpen();
    return (await joinOpen()) ?? openEpisode();
  }

  async function leave(ref: AggregateRef, member: ProblemState, change: CountChange, now: Date): Promise<ApplyResult | undefined> {
    const counts = countClauses(change, change.tally ?? []);
    const left = await update({
      Key: key(ref.key),
      UpdateExpression:
        `SET #pending.#m = :pending, #sample.#slot = :entry, lastSeenAt = ` +
        `:now${counts.sets.map((clause) => `, ${clause}`).join("")} ADD firingCount :delta`,
      ConditionExpression: "#openedAt = :episode AND attribute_not_exists(#pending.#m)",
      ExpressionAttributeNames: { "#m": member.dedupKey, "#slot": sampleSlot(member.dedupKey), ...counts.names },
      ExpressionAttributeValues: {
        ...counts.values,
        ":pending": { op: change.op, tally: change.tally ?? [] },
        ":entry": storedSampleEntry(sampleEntry(member)),
        ":now": now.toISOString(),
        ":episode": ref.episode,
      },
    });
    return left && { outcome: "applied", aggregate: left, episode: ref.episode!, tally: change.tally ?? [] };
  }

  return {
    async claim(member, ref, claim, now, fresh) {
      // A join needs the member not paging on its own nor in another live membership; a change of a member needs its ref.
      const membership = fresh
        ? "(attribute_not_exists(#aggregate) OR #aggregate.synced.#status = :resolved OR #aggregate.#claim.#id = :id) AND " +
          "attribute_not_exists(openIn) AND attribute_not_exists(delivery) AND (attribute_not_exists(gatedAt) OR gatedAt <> :t)"
        : "#aggregate.#key = :key AND (attribute_not_exists(#aggregate.#claim) OR " +
          "#aggregate.#claim.#until < :now OR #aggregate.#claim.#id = :id)";
      // A join writes the whole ref; a member's later change only its claim, so what the aggregate
      // counted (written by whoever held the claim before) is kept and comes back in the answer.
      const { claim: _old, ...kept } = ref;
      const claimed = await update({
        Key: key(member.dedupKey),
        UpdateExpression: fresh ? "SET #aggregate = :ref" : "SET #aggregate.#claim = :claim",
        ConditionExpression: `#status = :status AND transitionAt = :t AND ${membership}`,
        ExpressionAttributeNames: { "#id": "id", ...(fresh ? {} : { "#until": "until", "#key": "key" }) },
        ExpressionAttributeValues: {
          ...(fresh ? { ":ref": { ...kept, claim } } : { ":claim": claim }),
          ":status": member.status,
          ":t": member.transitionAt,
          ":id": claim.id,
          ...(fresh ? { ":resolved": "resolved" } : { ":key": ref.key, ":now": now.toISOString() }),
        },
      });
      // The same state (transitionAt is the condition's), so the member's alert is still its own.
      return claimed && { ...claimed, lastAlert: claimed.lastAlert ?? member.lastAlert };
    },

    async release(member, claimId) {
      // gatedAt: this state was judged to page on its own; a copy of it must not be counted again.
      await update({
        Key: key(member.dedupKey),
        UpdateExpression: "SET gatedAt = :t REMOVE #aggregate",
        ConditionExpression: "#aggregate.#claim.#id = :id",
        ExpressionAttributeNames: { "#id": "id" },
        ExpressionAttributeValues: { ":id": claimId, ":t": member.transitionAt },
      });
    },

    async apply(target, ref, member, change, now) {
      if (change.members === 0 && !ref.episode) return { outcome: "gone" };
      const cutoff = target.windowMs === undefined ? "" : new Date(now.getTime() - target.windowMs).toISOString();
      let tallyFull = false;
      for (let round = 0; round < 3; round += 1) {
        const done = change.members === 1 ? await join(target, member, change, now, tallyFull) : await leave(ref, member, change, now);
        if (done) return done;
        // Not applied now: find out why from the aggregate itself.
        const aggregate = await readState(doc, tableName, target.key);
        const entry = aggregate?.pending?.[member.dedupKey];
        if (entry?.op === change.op)
          return { outcome: "applied", aggregate: aggregate!, episode: aggregate!.openedAt!, tally: entry.tally ?? [] };
        if (entry) {
          // An older change of this member, applied by an instance that stopped before finishing: this
          // claim holder owns the member now, so that change is counted and only its entry is left.
          await update({
            Key: key(target.key),
            UpdateExpression: "REMOVE #pending.#m",
            ConditionExpression: "#pending.#m.op = :op",
            ExpressionAttributeNames: { "#m": member.dedupKey },
            ExpressionAttributeValues: { ":op": entry.op },
          });
          continue;
        }
        if (change.members === 0) return { outcome: "gone" };
        tallyFull = Object.keys(aggregate?.tally ?? {}).length >= MAX_TALLY_KEYS;
        // Open but past its window, or (for a member that resolved before it was counted) not open at all.
        if (change.firing !== 1 || (aggregate?.status === "firing" && (aggregate.openedAt ?? "") < cutoff)) return { outcome: "closed" };
      }
      return { outcome: "busy" };
    },

    async commit(member, claimId, ref, counted, episode) {
      const { claim: _claim, ...kept } = ref;
      const values = { ":ref": { ...kept, synced: counted, ...(episode ? { episode } : {}) }, ":id": claimId };
      // Usually one write: counted, the change is no longer owed (unless a newer change was recorded meanwhile: that one stays owed).
      if (member.watch === "owed") {
        const settled = await update({
          Key: key(member.dedupKey),
          UpdateExpression: "SET #aggregate = :ref REMOVE watch, watchAt",
          ConditionExpression: "#aggregate.#claim.#id = :id AND transitionAt = :t AND watch = :owed",
          ExpressionAttributeNames: { "#id": "id" },
          ExpressionAttributeValues: { ...values, ":t": member.transitionAt, ":owed": "owed" },
        });
        if (settled) return { settled: true };
      }
      const committed = await update({
        Key: key(member.dedupKey),
        UpdateExpression: "SET #aggregate = :ref",
        ConditionExpression: "#aggregate.#claim.#id = :id",
        ExpressionAttributeNames: { "#id": "id" },
        ExpressionAttributeValues: values,
      });
      return committed && { settled: false };
    },

    async finish(aggregateKey, memberKey, op, nothingFires, now) {
      const names = { "#m": memberKey };
      if (nothingFires) {
        const resolved = await update({
          Key: key(aggregateKey),
          UpdateExpression: "SET #status = :resolved, transitionAt = :now, lastSeenAt = :now, expiresAt = :expiresAt REMOVE #pending.#m",
          ConditionExpression: "#pending.#m.op = :op AND firingCount = :zero AND #status = :firing AND #openedAt = :episode",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ":resolved": "resolved",
            ":firing": "firing",
            ":now": now.toISOString(),
            ":expiresAt": expiresAt(now),
            ":op": op,
            ":zero": 0,
            ":episode": nothingFires.episode,
          },
        });
        if (resolved) return sawAggregate(resolved);
      }
      return update({
        Key: key(aggregateKey),
        UpdateExpression: "REMOVE #pending.#m",
        ConditionExpression: "#pending.#m.op = :op",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ":op": op },
      });
    },

    async settle(aggregate, now) {
      return sawAggregate(
        await update({
          Key: key(aggregate.dedupKey),
          UpdateExpression: "SET #status = :resolved, transitionAt = :now, lastSeenAt = :now, expiresAt = :expiresAt",
          ConditionExpression: "firingCount = :zero AND #status = :firing AND #openedAt = :episode",
          ExpressionAttributeValues: {
            ":resolved": "resolved",
            ":firing": "firing",
            ":now": now.toISOString(),
            ":expiresAt": expiresAt(now),
            ":zero": 0,
            ":episode": aggregate.openedAt,
          },
        }),
      );
    },

    async unwatch(aggregate) {
      await update({
        Key: key(aggregate.dedupKey),
        UpdateExpression: "REMOVE watch, watchAt",
        ConditionExpression: "#status = :resolved AND attribute_not_exists(openIn) AND attribute_exists(watch)",
        ExpressionAttributeValues: { ":resolved": "resolved" },
      });
    },

    async *members(aggregate) {
      const pages = paginateScan(
        { client: doc },
        {
          TableName: tableName,
          FilterExpression: "#aggregate.#key = :key AND #aggregate.episode = :episode",
          ExpressionAttributeNames: { "#aggregate": "aggregate", "#key": "key" },
          ExpressionAttributeValues: { ":key": aggregate.dedupKey, ":episode": aggregate.openedAt ?? "" },
        },
      );
      for await (const page of pages) for (const item of page.Items ?? []) yield problemFromItem(item);
    },

    async countNewIncident(routingKeyRef, now) {
      const minute = now.toISOString().slice(0, 16);
      const previous = new Date(now.getTime() - 60_000).toISOString().slice(0, 16);
      const common = { Key: key(`${KEY_PREFIX.rate}${routingKeyRef}`), ExpressionAttributeNames: { "#minute": "minute" } };
      const values = { ":one": 1, ":minute": minute, ":expiresAt": Math.floor(now.getTime() / 1000) + 3600 };
      const attempts = {
        // Another new incident in the same minute.
        same: () =>
          update({
            ...common,
            UpdateExpression: "SET expiresAt = :expiresAt ADD thisMinute :one",
            ConditionExpression: "#minute = :minute",
            ExpressionAttributeValues: values,
          }),
        // The first of a minute that follows one with new incidents: that count becomes lastMinute.
        next: () =>
          update({
            ...common,
            UpdateExpression: "SET lastMinute = thisMinute, thisMinute = :one, #minute = :minute, expiresAt = :expiresAt",
            ConditionExpression: "#minute = :previous",
            ExpressionAttributeValues: { ...values, ":previous": previous },
          }),
        // The first after a quiet minute or more (or ever).
        fresh: () =>
          update({
            ...common,
            UpdateExpression: "SET lastMinute = :zero, thisMinute = :one, #minute = :minute, expiresAt = :expiresAt",
            ConditionExpression: "attribute_not_exists(#minute) OR #minute < :previous",
            ExpressionAttributeValues: { ...values, ":previous": previous, ":zero": 0 },
          }),
      };
      // A failed write costs as much as one that succeeds: in a minute this instance has counted in,
      // most likely the same minute; else a consistent read of the small counter (a fifth of a
      // write unit) says which write applies. The conditions decide; the order only saves failures.
      const counter = common.Key.dedupKey;
      const recorded =
        minuteCounted.get(counter) === minute
          ? minute
          : ((
              await doc.send(
                new GetCommand({
                  TableName: tableName,
                  Key: common.Key,
                  ConsistentRead: true,
                  ProjectionExpression: "#minute",
                  ExpressionAttributeNames: common.ExpressionAttributeNames,
                }),
              )
            ).Item?.minute as string | undefined);
      const first = recorded === minute ? "same" : recorded === previous ? "next" : "fresh";
      const order = [attempts[first], ...Object.values(attempts).filter((attempt) => attempt !== attempts[first])];
      for (let round = 0; round < 2; round += 1) {
        for (const attempt of order) {
          const counted = (await attempt()) as unknown as { thisMinute: number; lastMinute: number } | undefined;
          if (counted) {
            minuteCounted.set(counter, minute);
            return { thisMinute: counted.thisMinute, lastMinute: counted.lastMinute };
          }
        }
      }
      // Another instance is ahead by a minute (clock skew): count as calm rather than fail the alert.
      return { thisMinute: 0, lastMinute: 0 };
    },
  };
}
