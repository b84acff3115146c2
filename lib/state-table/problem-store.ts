/**
 * Problem state in DynamoDB. Every change is one conditional single-item write (no transactions;
 * a read may pick which write to try, never decide it): the conditions are what keep two router
 * instances from both paging, and an old event from overriding a newer one. A duplicate that brings news (a newer alert of the
 * same status) is one write, no read; a copy of the alert last recorded is one read, no write.
 *
 * A problem is two items. Its state item (key: the dedup key) holds only what decisions need and
 * stays well under 1 KB, so a duplicate's write costs one write unit. The firing alert PagerDuty
 * hears (1-3 KB) is its alert item (`alert-body:<dedup key>`), written only when a firing is
 * recorded, before the state item's conditional write: a crash between the two leaves an alert
 * item no state refers to yet (the redelivered message completes it), never a state without its
 * alert. An alert item only ever goes forward (a newer alert replaces an older one, never the
 * reverse), and a state pairs with it only if it is at least as new as the state's firing
 * (`alertAt`), so a reader never gets the alert of an older firing. Resolves and duplicates do
 * not rewrite it; a resolve sets its expiry. Items of the old layout (the alert inline as
 * `lastAlert`) are still read.
 *
 * A transition's write may also take the claim the router would take next (RecordOptions): a new
 * problem's claim to be judged against groups and storms, a resolve's delivery claim or, for a group
 * or storm member, its claim for counting the resolve. Its condition then holds that claim's
 * conditions too, so the item ends as the two writes would have left it.
 */
import { GetCommand, PutCommand, paginateQuery, paginateScan, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { NormalizedAlert } from "../alert/schema.ts";
import type { AggregateRef } from "../router/aggregates.ts";
import type { DeliveryClaim, OpenIn, ProblemState } from "../router/state.ts";
import { MAX_RECORDED_CHANGES } from "../router/flapping.ts";
import { RecentMap } from "../platform/recent-map.ts";
import type { RecordOptions, StateStore } from "../router/stores.ts";
import {
  DEFAULT_RESOLVED_RETENTION_SECONDS,
  STATE_TABLE,
  alertItemKey,
  conditionalUpdate,
  isConditionFailure,
  isExpired,
  problemFromItem,
  readState,
  storedAlert,
  withStoredAlert,
} from "./table.ts";

export interface DynamoStateStoreOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** How long a resolved problem is remembered (TTL), default 30 days. */
  resolvedRetentionSeconds?: number;
}

/** Keys remembered per instance for the write-order hint; beyond this the oldest are forgotten. */
const LAST_STATUS_ENTRIES = 10_000;

/**
 * A copy of the alert a problem last recorded (the same alert id: an HA peer's copy, a redelivery,
 * Alertmanager re-sending an unchanged group) is confirmed by a read and not written, unless the
 * problem was last seen longer ago than this: so `lastSeenAt` is right to within it, and the
 * `seen` and `deduplicated` counts leave out the copies it skipped.
 */
export const COPY_REFRESH_MS = 10 * 60_000;

/** The fields of a state item that say which of the four writes applies to an alert. */
interface RecordedAt {
  status?: ProblemState["status"];
  eventAt?: string;
  expiresAt?: number;
}

/**
 * The writes to try, the one whose condition holds on `item` first (the conditions compare text as
 * stored, as these comparisons do); the others follow in case the item changed since it was read.
 */
function expectedOrder(
  item: RecordedAt | undefined,
  alert: Pick<NormalizedAlert, "status" | "occurredAt">,
  now: Date,
): ("repeat" | "olderRepeat" | "stale" | "transition")[] {
  const gone = !item?.status || isExpired(item, now);
  const eventAt = item?.eventAt ?? "";
  const expected = gone
    ? "transition"
    : item.status === alert.status
      ? eventAt <= alert.occurredAt
        ? "repeat"
        : "olderRepeat"
      : eventAt < alert.occurredAt
        ? "transition"
        : "stale";
  return [expected, ...(["repeat", "transition", "stale", "olderRepeat"] as const).filter((outcome) => outcome !== expected)];
}

/** What a transition's write may also take (RecordOptions). */
type Take =
  | { kind: "judging"; ref: AggregateRef }
  | { kind: "resolve"; claim: DeliveryClaim; maxChanges?: number }
  | { kind: "member"; key: string; claim: { id: string; until: string } };

/** What an instance remembers of a problem it wrote: which write to try first, and whether a resolve's claim can ride on it. */
interface Seen {
  status: ProblemState["status"];
  lastAlertId: string;
  openIn?: OpenIn;
  deliveryUntil?: string;
  /**
   * Pages through this group or storm incident: its resolve goes there. Whether another instance
   * holds the member's claim is left to the write's condition: an instance's view of it is often
   * out of date (the aggregate store ends the claims), and a live one is rare (racing instances).
   */
  memberOf?: string;
  changes: number;
}

const seenOf = (state: ProblemState): Seen => ({
  status: state.status,
  lastAlertId: state.lastAlertId,
  ...(state.openIn ? { openIn: state.openIn } : {}),
  ...(state.delivery ? { deliveryUntil: state.delivery.until } : {}),
  ...(state.aggregate && state.aggregate.synced?.status !== "resolved" ? { memberOf: state.aggregate.key } : {}),
  changes: state.changes?.length ?? 0,
});

/**
 * The claim the router would take next after recording a resolve, for the resolve's own write: as
 * last seen the problem fires and either pages through a group or storm incident (the member's
 * claim for counting the change) or its trigger may be open somewhere (the resolve's delivery
 * claim). The write's condition checks each of these; the view only saves a failed write when one
 * does not hold.
 */
function resolveClaimOn(view: Seen, alert: NormalizedAlert, now: Date, options: RecordOptions): Take | undefined {
  if (alert.status !== "resolved" || view.status !== "firing") return undefined;
  const nowIso = now.toISOString();
  if (view.memberOf) return options.memberClaim && { kind: "member", key: view.memberOf, claim: options.memberClaim };
  const request = options.resolveClaim;
  if (!request || !view.openIn) return undefined;
  if (view.deliveryUntil !== undefined && view.deliveryUntil >= nowIso) return undefined;
  if (request.maxChanges !== undefined && view.changes >= request.maxChanges) return undefined;
  const claim: DeliveryClaim = {
    claimId: request.claimId,
    action: "resolve",
    severity: alert.severity,
    routingKeyRef: view.openIn.routingKeyRef,
    route: view.openIn.route,
    until: request.until,
  };
  return { kind: "resolve", claim, ...(request.maxChanges === undefined ? {} : { maxChanges: request.maxChanges }) };
}

export function createDynamoStateStore(options: DynamoStateStoreOptions): StateStore {
  const { doc, tableName } = options;
  const retention = options.resolvedRetentionSeconds ?? DEFAULT_RESOLVED_RETENTION_SECONDS;
  const key = (dedupKey: string) => ({ dedupKey });
  const update = conditionalUpdate(doc, tableName);

  function observationValues(alert: NormalizedAlert, now: Date) {
    return {
      ":status": alert.status,
      ":severity": alert.severity,
      ":at": alert.occurredAt,
      ":now": now.toISOString(),
      ":nowEpoch": Math.floor(now.getTime() / 1000),
      ":id": alert.id,
      ":one": 1,
    };
  }

  /** Resolved problems expire after the retention; firing ones never do. */
  const expiry = (alert: NormalizedAlert, now: Date) =>
    alert.status === "resolved"
      ? { set: ", expiresAt = :expiresAt", remove: "", values: { ":expiresAt": Math.floor(now.getTime() / 1000) + retention } }
      : { set: "", remove: ", expiresAt", values: {} };

  /** Same status, not older than what is recorded: the steady path, one conditional write. */
  async function recordRepeat(alert: NormalizedAlert, now: Date) {
    const exp = expiry(alert, now);
    return update({
      Key: key(alert.dedupKey),
      UpdateExpression:
        `SET lastSeenAt = :now, lastAlertId = :id, severity = :severity, ` + `eventAt = :at${exp.set} ADD seen :one, deduplicated :one`,
      ConditionExpression: "#status = :status AND eventAt <= :at AND (attribute_not_exists(expiresAt) OR expiresAt > :nowEpoch)",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ...observationValues(alert, now), ...exp.values },
    });
  }

  /**
   * A firing's alert, written before its state: never back to an older alert. Not written because
   * a newer one is there: that one pairs with this state too (see pairedAlert).
   */
  async function writeAlertItem(alert: NormalizedAlert): Promise<void> {
    try {
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { dedupKey: alertItemKey(alert.dedupKey), alert: storedAlert(alert), occurredAt: alert.occurredAt },
          ConditionExpression: "attribute_not_exists(occurredAt) OR occurredAt <= :at",
          ExpressionAttributeValues: { ":at": alert.occurredAt },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** A resolved problem's alert is forgotten with its state, unless a newer firing wrote it meanwhile. */
  async function expireAlertItem(state: ProblemState): Promise<void> {
    if (state.expiresAt === undefined) return;
    await update({
      Key: key(alertItemKey(state.dedupKey)),
      UpdateExpression: "SET expiresAt = :expiresAt",
      ConditionExpression: "occurredAt <= :at",
      ExpressionAttributeValues: { ":expiresAt": state.expiresAt, ":at": state.transitionAt },
      ReturnValues: "NONE",
    });
  }

  /**
   * A new problem, or a change of status newer than everything recorded. A firing refers to its alert item (written first).
   * `take`: what the same write also takes (RecordOptions), only if what it needs holds too.
   */
  async function recordTransition(alert: NormalizedAlert, now: Date, take?: Take) {
    const exp = expiry(alert, now);
    const firing = alert.status === "firing";
    const { ":nowEpoch": nowEpoch, ...observation } = observationValues(alert, now);
    const transition = "attribute_not_exists(dedupKey) OR expiresAt <= :nowEpoch OR (#status <> :status AND eventAt < :at)";
    const taking =
      take?.kind === "judging"
        ? // Only the write that creates the item: a problem that has one is judged by the router as before.
          { set: ", #aggregate = :judging", condition: "attribute_not_exists(dedupKey)", values: { ":judging": take.ref } }
        : take?.kind === "resolve"
          ? {
              set: ", delivery = :claim",
              // What the router's claim would need of the state this write leaves: the trigger went where
              // the claim sends the resolve, no live claim, no membership (it resolves through its group or
              // storm), and too few changes to be held as flapping (the change this write adds included).
              condition:
                `(${transition}) AND openIn.routingKeyRef = :claimRef AND openIn.#route = :claimRoute ` +
                `AND (attribute_not_exists(delivery) OR delivery.#until < :now) ` +
                `AND (attribute_not_exists(#aggregate) OR #aggregate.synced.#status = :status)` +
                (take.maxChanges === undefined ? "" : " AND (attribute_not_exists(changes) OR size(changes) < :maxChanges)"),
              values: {
                ":claim": take.claim,
                ":claimRef": take.claim.routingKeyRef,
                ":claimRoute": take.claim.route,
                ":nowEpoch": nowEpoch,
                ...(take.maxChanges === undefined ? {} : { ":maxChanges": take.maxChanges }),
              },
            }
          : take?.kind === "member"
            ? {
                set: ", #aggregate.#claim = :memberClaim",
                // What the member's claim would need (AggregateStore.claim): this membership, still active, no live claim.
                condition:
                  `(${transition}) AND #aggregate.#key = :memberKey ` +
                  `AND (attribute_not_exists(#aggregate.#claim) OR #aggregate.#claim.#until < :now) ` +
                  `AND (attribute_not_exists(#aggregate.synced) OR #aggregate.synced.#status <> :status)`,
                values: { ":memberClaim": take.claim, ":memberKey": take.key, ":nowEpoch": nowEpoch },
              }
            : { set: "", condition: transition, values: { ":nowEpoch": nowEpoch } };
    return update({
      Key: key(alert.dedupKey),
      UpdateExpression:
        `SET #status = :status, severity = :severity, transitionAt = :at, eventAt = :at, ` +
        `lastSeenAt = :now, lastAlertId = :id${firing ? ", alertAt = :at" : ""}, ` +
        `#source = :source, firstSeenAt = if_not_exists(firstSeenAt, :now), deduplicated = if_not_exists(deduplicated, :zero), ` +
        `suppressed = if_not_exists(suppressed, :zero), stale = if_not_exists(stale, :zero), changes ` +
        `= list_append(if_not_exists(changes, :noChanges), :change)${exp.set} ` +
        // An item of the old layout sheds its inline alert at its next firing.
        `, watch = :owed, watchAt = :now${taking.set} ADD seen :one ` +
        `REMOVE suppressedBy, suppressedReason${exp.remove}${firing ? ", lastAlert" : ""}`,
      ConditionExpression: taking.condition,
      ExpressionAttributeNames: {
        "#status": "status",
        "#source": "source",
        ...(take ? { "#aggregate": "aggregate" } : {}),
        ...(take?.kind === "resolve" ? { "#route": "route", "#until": "until" } : {}),
        ...(take?.kind === "member" ? { "#claim": "claim", "#key": "key", "#until": "until" } : {}),
      },
      ExpressionAttributeValues: {
        ...observation,
        ...exp.values,
        ...taking.values,
        ":source": alert.source,
        ":zero": 0,
        ":noChanges": [],
        ":change": [alert.occurredAt],
        ":owed": "owed",
      },
    });
  }

  /**
   * Keeps the change list short: once it is twice the kept length, back to the kept length, so the
   * extra write comes once every MAX_RECORDED_CHANGES changes. Older entries are harmless meanwhile
   * (flapping counts by time); a lost race only means the list is trimmed on a later change.
   */
  async function trimChanges(state: ProblemState): Promise<ProblemState> {
    const changes = state.changes ?? [];
    if (changes.length <= 2 * MAX_RECORDED_CHANGES) return state;
    const kept = changes.slice(-MAX_RECORDED_CHANGES);
    const trimmed = await update({
      Key: key(state.dedupKey),
      UpdateExpression: "SET changes = :kept",
      ConditionExpression: "size(changes) = :length",
      ExpressionAttributeValues: { ":kept": kept, ":length": changes.length },
    });
    return trimmed ? { ...trimmed, lastAlert: state.lastAlert } : { ...state, changes: kept };
  }

  /**
   * Older than what is recorded: counted, never applied, and decided with the stored alert. An old
   * copy of the current status is a duplicate, else stale. The conditions are exact (the four
   * outcomes' conditions do not overlap), so the cheap ones can be tried before a transition's alert write.
   */
  const live = "(attribute_not_exists(expiresAt) OR expiresAt > :nowEpoch)";
  async function recordOlder(alert: NormalizedAlert, now: Date, same: boolean) {
    const older = await update({
      Key: key(alert.dedupKey),
      UpdateExpression: `SET lastSeenAt = :now ADD seen :one, ${same ? "deduplicated" : "stale"} :one`,
      ConditionExpression: same ? `#status = :status AND eventAt > :at AND ${live}` : `#status <> :status AND eventAt >= :at AND ${live}`,
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: {
        ":now": now.toISOString(),
        ":one": 1,
        ":status": alert.status,
        ":at": alert.occurredAt,
        ":nowEpoch": Math.floor(now.getTime() / 1000),
      },
    });
    return (
      older && {
        outcome: same ? ("repeat" as const) : ("stale" as const),
        state: await withStoredAlert(doc, tableName, older as unknown as Record<string, unknown>),
      }
    );
  }
  const tryOlderRepeat = (alert: NormalizedAlert, now: Date) => recordOlder(alert, now, true);
  const tryStale = (alert: NormalizedAlert, now: Date) => recordOlder(alert, now, false);

  const tryRepeat = async (alert: NormalizedAlert, now: Date) => {
    const state = await recordRepeat(alert, now);
    return state && { outcome: "repeat" as const, state: { ...state, lastAlert: alert } };
  };
  const tryTransition = async (alert: NormalizedAlert, now: Date, take?: Take) => {
    const state = await recordTransition(alert, now, take);
    if (!state) return undefined;
    const outcome = state.seen === 1 ? ("new" as const) : ("transition" as const);
    if (state.status === "resolved" && state.alertAt !== undefined) await expireAlertItem(state);
    return { outcome, state: await trimChanges({ ...state, lastAlert: alert }) };
  };

  /** The state item as the newest conditional write left it (a consistent read: one read unit for the small item). */
  async function currentItem(dedupKey: string): Promise<(RecordedAt & Record<string, unknown>) | undefined> {
    const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: key(dedupKey), ConsistentRead: true }));
    return Item as (RecordedAt & Record<string, unknown>) | undefined;
  }

  /** The recorded state, when the alert is a copy of the one it last recorded and it was seen recently: nothing to write. */
  function unchangedBy(item: Record<string, unknown> | undefined, alert: NormalizedAlert, now: Date): ProblemState | undefined {
    if (!item) return undefined;
    const state = problemFromItem(item);
    const recent = Date.parse(state.lastSeenAt) > now.getTime() - COPY_REFRESH_MS;
    const copy = state.lastAlertId === alert.id && state.status === alert.status && state.severity === alert.severity;
    return !isExpired(state, now) && recent && copy ? { ...state, lastAlert: alert } : undefined;
  }

  /** What this instance last saw of each key: only a hint for which write to try first. */
  const lastSeen = new RecentMap<string, Seen>(LAST_STATUS_ENTRIES);
  const remember = (dedupKey: string, state: ProblemState) => lastSeen.set(dedupKey, seenOf(state));

  return {
    async record(alert, now, options = {}) {
      // A conditional write that fails costs as much as one that succeeds, so guess right. Last seen
      // here in the same status, with another alert: a repeat, or an older copy of it. Last seen
      // firing, a resolve: a transition. Otherwise (a copy of the alert last recorded, a key this
      // instance never saw, or a firing after its resolve: it fires again, or it is a stale copy as
      // Alertmanager re-sends): a consistent read of the small state item (a fifth of a write unit)
      // says which write applies, so neither a failed write nor an alert write for a stale copy is
      // paid, and a copy seen recently needs no write at all. The writes' conditions decide in every
      // case; the read only saves writes.
      const known = lastSeen.get(alert.dedupKey);
      let alertWritten = false;
      let take: Take | undefined;
      const transition = async (a: NormalizedAlert, n: Date) => {
        if (a.status === "firing" && !alertWritten) {
          await writeAlertItem(a);
          alertWritten = true;
        }
        if (!take) return tryTransition(a, n);
        const taking = take;
        // Tried once. Failed: the ordinary writes decide (one failed write, when the hint was out of date or an instance raced).
        take = undefined;
        // A resolve whose claim did not hold (another instance's is live, say) is most likely still a transition.
        return (await tryTransition(a, n, taking)) ?? (taking.kind === "judging" ? undefined : tryTransition(a, n));
      };
      const byOutcome = { repeat: tryRepeat, olderRepeat: tryOlderRepeat, stale: tryStale, transition };
      let order: readonly (keyof typeof byOutcome)[];
      if (known?.status === alert.status && known.lastAlertId !== alert.id) order = ["repeat", "olderRepeat", "stale", "transition"];
      else if (known?.status === "firing" && alert.status === "resolved") {
        order = ["transition", "stale", "repeat", "olderRepeat"];
        take = resolveClaimOn(known, alert, now, options);
      } else {
        const item = await currentItem(alert.dedupKey);
        const unchanged = unchangedBy(item, alert, now);
        if (unchanged) {
          remember(alert.dedupKey, unchanged);
          return { outcome: "repeat", state: unchanged };
        }
        order = expectedOrder(item, alert, now);
        if (!item && alert.status === "firing") {
          const ref = await options.newProblemClaim?.();
          take = ref && { kind: "judging", ref };
        } else if (item && order[0] === "transition") take = resolveClaimOn(seenOf(problemFromItem(item)), alert, now, options);
      }
      const attempts = order.map((outcome) => byOutcome[outcome]);
      for (let round = 0; round < 3; round += 1) {
        for (const attempt of attempts) {
          const result = await attempt(alert, now);
          if (result) {
            // A stale firing's alert item belongs to no state: it is forgotten with the resolved state.
            if (alertWritten && result.outcome === "stale") await expireAlertItem(result.state);
            remember(alert.dedupKey, result.state);
            return result;
          }
        }
      }
      throw new Error(`state of ${alert.dedupKey} kept changing under concurrent writes; the message will be retried`);
    },

    get: (dedupKey) => readState(doc, tableName, dedupKey),

    async claim(state, claim, now, gate) {
      const told = state.told;
      const toldCondition = told
        ? "told.alertId = :toldAlertId AND told.#at = :toldAt AND told.#action = :toldAction"
        : "attribute_not_exists(told)";
      const trigger = claim.action === "trigger";
      const gated = trigger && gate !== undefined;
      const opens = trigger ? `, openIn = :openIn${gated ? ", gatedAt = :transitionAt REMOVE #aggregate" : ""}` : "";
      // A problem counted into a group or storm incident never pages on its own as well (a raced copy
      // may have joined meanwhile); one judged to page on its own holds its claim until this write.
      const notMember = !trigger
        ? ""
        : gated
          ? " AND #aggregate.#claim.#id = :gate"
          : " AND (attribute_not_exists(#aggregate) OR #aggregate.synced.#status = :resolved)";
      const result = await update({
        Key: key(state.dedupKey),
        UpdateExpression: `SET delivery = :claim${opens}`,
        ConditionExpression:
          `(attribute_not_exists(delivery) OR delivery.#until < :now) AND #status = :status ` +
          `AND transitionAt = :transitionAt AND ${toldCondition}${notMember}`,
        ExpressionAttributeNames: {
          "#status": "status",
          "#until": "until",
          ...(told ? { "#at": "at", "#action": "action" } : {}),
          ...(trigger ? { "#aggregate": "aggregate" } : {}),
          ...(gated ? { "#claim": "claim", "#id": "id" } : {}),
        },
        ExpressionAttributeValues: {
          ":claim": claim,
          ":now": now.toISOString(),
          ":status": state.status,
          ":transitionAt": state.transitionAt,
          ...(trigger ? { ":openIn": { routingKeyRef: claim.routingKeyRef, route: claim.route } } : {}),
          ...(gated ? { ":gate": gate } : trigger ? { ":resolved": "resolved" } : {}),
          ...(told ? { ":toldAlertId": told.alertId, ":toldAt": told.at, ":toldAction": told.action } : {}),
        },
      });
      // Where the trigger went: what this instance's record of the resolve can claim with.
      if (result) remember(state.dedupKey, result);
      return result !== undefined;
    },

    async confirm(dedupKey, claimId, told, transitionAt, options = {}) {
      // A confirmed resolve closes what was open, ends flapping (it was stable) and any re-send; a confirmed trigger ends any suppression.
      const extra = told.action === "resolve" ? ", openIn, flappingSince, reResolveAt" : ", suppressedBy, suppressedReason";
      // A group or storm incident (told carries its counts) stays watched while open: the sweep sends its updates.
      const keepsWatch = told.action === "trigger" && told.members !== undefined;
      const unpaged = options.unpaged ? " ADD unpaged :one" : "";
      const confirmWith = (settled: boolean) =>
        update({
          Key: key(dedupKey),
          UpdateExpression:
            `SET told = :told${unpaged} REMOVE delivery, ` + `lastDeliveryError${extra}${settled && !keepsWatch ? ", watch, watchAt" : ""}`,
          ConditionExpression: `delivery.claimId = :claimId${settled && transitionAt ? " AND transitionAt = :transitionAt" : ""}`,
          ExpressionAttributeValues: {
            ":told": told,
            ":claimId": claimId,
            ...(settled && transitionAt ? { ":transitionAt": transitionAt } : {}),
            ...(options.unpaged ? { ":one": 1 } : {}),
          },
        });
      // The usual case is one write; a change recorded while delivering keeps its mark (second write).
      const confirmed = (await confirmWith(true)) ?? (transitionAt ? await confirmWith(false) : undefined);
      if (confirmed) remember(dedupKey, confirmed);
      return confirmed;
    },

    async markUncertainTrigger(dedupKey, now) {
      await update({
        Key: key(dedupKey),
        UpdateExpression: "SET uncertainTriggerAt = :now",
        ConditionExpression: "attribute_exists(dedupKey)",
        ExpressionAttributeValues: { ":now": now.toISOString() },
      });
    },

    async scheduleReResolve(state, at) {
      await update({
        Key: key(state.dedupKey),
        UpdateExpression: "SET reResolveAt = :at, watch = :reresolve, watchAt = :at REMOVE uncertainTriggerAt",
        ConditionExpression:
          "#status = :resolved AND transitionAt = :transitionAt AND told.#action = :resolve AND attribute_not_exists(watch)",
        ExpressionAttributeNames: { "#status": "status", "#action": "action" },
        ExpressionAttributeValues: {
          ":at": at.toISOString(),
          ":reresolve": "reresolve",
          ":resolved": "resolved",
          ":resolve": "resolve",
          ":transitionAt": state.transitionAt,
        },
      });
    },

    async settle(state) {
      if (state.watch !== "owed") return;
      await update({
        Key: key(state.dedupKey),
        UpdateExpression: "REMOVE watch, watchAt",
        ConditionExpression: "watch = :owed AND transitionAt = :transitionAt",
        ExpressionAttributeValues: { ":owed": "owed", ":transitionAt": state.transitionAt },
      });
    },

    async markRecovered(dedupKey, now) {
      await update({
        Key: key(dedupKey),
        UpdateExpression: "SET recoveredAt = :now ADD recovered :one",
        ConditionExpression: "attribute_exists(dedupKey)",
        ExpressionAttributeValues: { ":now": now.toISOString(), ":one": 1 },
      });
    },

    async release(dedupKey, claimId, error, options = {}) {
      // Refused by PagerDuty (400): resending cannot help, so the sweep stops trying; the message is in the DLQ with the reason.
      await update({
        Key: key(dedupKey),
        UpdateExpression: `SET lastDeliveryError = :error REMOVE delivery${options.refused ? ", watch, watchAt" : ""}`,
        ConditionExpression: "delivery.claimId = :claimId",
        ExpressionAttributeValues: { ":error": error, ":claimId": claimId },
      });
    },

    async markSuppressed(dedupKey, window) {
      await update({
        Key: key(dedupKey),
        UpdateExpression: "SET suppressedBy = :id, suppressedReason = :reason, watch = :watch, watchAt = :watchAt ADD suppressed :one",
        ConditionExpression: "#status = :firing AND (attribute_not_exists(suppressedBy) OR suppressedBy <> :id)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":id": window.id,
          ":reason": window.reason ?? "",
          ":watch": "suppressed",
          // Open-ended windows sort last; the sweep reads the whole (small) suppressed partition anyway.
          ":watchAt": window.endsAt ?? "9999-12-31T23:59:59Z",
          ":one": 1,
          ":firing": "firing",
        },
      });
    },

    async markHeld(state, until) {
      await update({
        Key: key(state.dedupKey),
        UpdateExpression: "SET watch = :held, watchAt = :until, flappingSince = if_not_exists(flappingSince, :transitionAt) ADD held :one",
        ConditionExpression:
          "#status = :resolved AND transitionAt = :transitionAt AND " +
          "attribute_exists(openIn) AND (attribute_not_exists(watch) OR watch <> :held)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":held": "held",
          ":until": until,
          ":one": 1,
          ":resolved": "resolved",
          ":transitionAt": state.transitionAt,
        },
      });
    },

    async *watched(options = {}) {
      const others = [
        ...(["suppressed", "held", "aggregate"] as const).map((watch) => ({
          KeyConditionExpression: "watch = :watch",
          ExpressionAttributeValues: { ":watch": watch },
        })),
        // Re-sends of a resolve, once due.
        {
          KeyConditionExpression: "watch = :watch AND watchAt <= :now",
          ExpressionAttributeValues: { ":watch": "reresolve", ":now": (options.now ?? new Date()).toISOString() },
        },
      ];
      const queries = [
        ...(options.onlyOwed ? [] : others),
        ...(options.owedBefore
          ? [
              {
                KeyConditionExpression: "watch = :watch AND watchAt < :before",
                ExpressionAttributeValues: { ":watch": "owed", ":before": options.owedBefore.toISOString() },
              },
            ]
          : []),
      ];
      for (const query of queries) {
        const pages = paginateQuery({ client: doc }, { TableName: tableName, IndexName: STATE_TABLE.watchIndex, ...query });
        for await (const page of pages) for (const item of page.Items ?? []) yield item.dedupKey as string;
      }
    },

    async *list(options = {}) {
      const filter = options.firing
        ? {
            FilterExpression: "#status = :firing",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":firing": "firing" },
          }
        : {};
      for await (const page of paginateScan({ client: doc }, { TableName: tableName, ...filter })) {
        // Counters kept in the same table (e.g. the storm gate's) have no status: not problems.
        for (const item of page.Items ?? []) if (item.status !== undefined) yield problemFromItem(item);
      }
    },
  };
}
