/**
 * The router's Lambda handler: one SQS batch in, a partial batch response out (Powertools batch).
 * A malformed message or one PagerDuty refuses goes to the DLQ with its reason and the rest of the
 * batch goes on; a delivery that must wait is reported failed so SQS brings it back, until its
 * last receive, when it too goes to the DLQ with its reason.
 */
import middy from "@middy/core";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import type { NormalizedAlert } from "../alert/schema.ts";
import type { AcknowledgeMessage } from "../messages/acknowledge-message.ts";
import { CHANGE_MESSAGE_KIND, type ChangeMessage } from "../messages/change-message.ts";
import { readQueueBody } from "../messages/queue-message.ts";
import { formatDuration } from "../platform/duration.ts";
import { oneAtATimePerKey } from "../platform/one-at-a-time.ts";
import { DimensionCounts, METRIC, MetricUnit, type Telemetry } from "../platform/observability.ts";
import type { AcknowledgeOutcome, AcknowledgeRouter } from "../router/acknowledge.ts";
import type { ChangeEventRouter, ChangeOutcome } from "../router/change-events.ts";
import type { DeadLetterSink } from "../router/dead-letter.ts";
import { DEFAULT_REDELIVERY, redeliveryDelaySeconds, type RedeliverIn, type RedeliveryPolicy } from "../router/redelivery.ts";
import type { RouteOutcome, Router } from "../router/router.ts";

export interface RouterHandlerDeps extends Telemetry {
  router: Router;
  deadLetters: DeadLetterSink;
  /** Routes and sends PagerDuty change events (messages of kind "pagerduty-change"); without it they are dead-lettered. */
  changeEvents?: ChangeEventRouter;
  /** Passes PagerDuty acknowledges on (messages of kind "pagerduty-acknowledge"); without it they are dead-lettered. */
  acknowledgements?: AcknowledgeRouter;
  /** The queue's maxReceiveCount: on the last receive the router dead-letters with a reason instead of failing. */
  maxReceiveCount: number;
  /** Brings a message that must wait back after a short backoff; without it, after the queue's visibility timeout. */
  redeliverIn?: RedeliverIn;
  /** Backoff and the age at which a message that still cannot be delivered is dead-lettered. */
  redelivery?: RedeliveryPolicy;
  /**
   * Delivers everything the state table still owes PagerDuty; called once PagerDuty takes events
   * again after this instance saw deliveries fail, so an outage ends within seconds for every
   * problem, not when each message's backoff ends. Returns how many it delivered.
   */
  drainOwed?: (deadline: number) => Promise<number>;
  /** Time kept back from Lambda's remaining time for confirming and answering. Default 3 s. */
  safetyMarginMs?: number;
  now?: () => number;
}

/** What became of a queue message of any kind: an alert, a change event, an acknowledge. */
type MessageOutcome = RouteOutcome | ChangeOutcome | AcknowledgeOutcome;

/**
 * Outcomes that change nothing at PagerDuty: the steady path, most messages. Their line is DEBUG
 * (the counts in RouterOutcomes remain, and `state show` reads the state table, not the logs).
 */
const QUIET_OUTCOMES: ReadonlySet<string> = new Set(["deduplicated", "stale", "suppressed", "heartbeat"]);
/** An alert waiting on another instance settles when it comes back; an acknowledge that waits is someone's action, kept at INFO. */
const isQuiet = (outcome: MessageOutcome, sent: readonly string[], isAlert: boolean) =>
  sent.length === 0 &&
  (QUIET_OUTCOMES.has(outcome.outcome) || outcome.outcome === "grouped" || (isAlert && outcome.outcome === "in_flight"));

/** The reason a message fails when routing it threw: what to fix, in the DLQ if it never succeeds. */
function errorReason(error: unknown): string {
  const text = error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error);
  return `routing failed with an error: ${text}`;
}

export class RetryLaterError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "RetryLaterError";
  }
}

export function createRouterHandler(deps: RouterHandlerDeps) {
  const { logger, metrics, router, deadLetters } = deps;
  const margin = deps.safetyMarginMs ?? 3_000;
  const now = deps.now ?? Date.now;
  const processor = new BatchProcessor(EventType.SQS);
  const redelivery = deps.redelivery ?? DEFAULT_REDELIVERY;
  const counts = new DimensionCounts(metrics);
  // A batch's records run side by side, except those of one problem (HA peers' copies, re-sends):
  // raced, their conditional writes would fail against each other, each a paid write and a retry.
  const perProblem = oneAtATimePerKey();

  async function deadLetter(record: SQSRecord, kind: "malformed" | "rejected" | "exhausted", reason: string, alert?: NormalizedAlert) {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? "1");
    await deadLetters.send(record.body, reason, { messageId: record.messageId, receiveCount });
    logger.error("message dead-lettered", { kind, reason, messageId: record.messageId, alertId: alert?.id, dedupKey: alert?.dedupKey });
    counts.add(METRIC.deadLettered, kind);
  }

  /**
   * Any exception while routing is this message's failure, kept as its reason: logged now, and
   * in the DLQ on its last try, never an SQS redrive that says nothing.
   */
  async function handleRecord(record: SQSRecord, context: Context): Promise<void> {
    try {
      await routeRecord(record, context);
    } catch (error) {
      if (error instanceof RetryLaterError) throw error;
      const reason = errorReason(error);
      logger.error("routing a message failed", { reason, messageId: record.messageId, error: error as Error });
      counts.add(METRIC.routerOutcomes, "error");
      return comeBackLater(record, reason);
    }
  }

  async function routeRecord(record: SQSRecord, context: Context): Promise<void> {
    const parsed = readQueueBody(record.body);
    if ("problem" in parsed) return deadLetter(record, "malformed", parsed.problem);
    const deadline = now() + context.getRemainingTimeInMillis() - margin;
    if ("message" in parsed) {
      const { message } = parsed;
      return message.kind === CHANGE_MESSAGE_KIND
        ? handleChange(record, message, deadline)
        : perProblem(message.dedupKey, () => handleAcknowledge(record, message, deadline));
    }
    const { alert } = parsed;
    const outcome = await perProblem(alert.dedupKey, () => router.handleAlert(alert, deadline));
    const sent = outcome.outcome === "delivered" || outcome.outcome === "grouped" ? outcome.actions : [];
    return settle(
      record,
      outcome,
      sent,
      "alert routed",
      { alertId: alert.id, dedupKey: alert.dedupKey, status: alert.status, source: alert.source },
      alert,
    );
  }

  /**
   * Counts and logs what became of a message, then: rejected → the DLQ; retry or in flight → back
   * later. `sent` are the PagerDuty event actions it caused; `ids` name the message in the log.
   */
  async function settle(
    record: SQSRecord,
    outcome: MessageOutcome,
    sent: readonly string[],
    routed: string,
    ids: Record<string, unknown>,
    alert?: NormalizedAlert,
  ): Promise<void> {
    counts.add(METRIC.routerOutcomes, outcome.outcome);
    if (sent.length > 0) deliveredInBatch = true;
    if (outcome.outcome === "delivered" && "unpaged" in outcome && outcome.unpaged)
      metrics.addMetric(METRIC.unpagedEpisodes, MetricUnit.Count, 1);
    // Only PagerDuty's own failures: pacing waits and races are no outage to drain after.
    if (outcome.outcome === "retry" && outcome.pagerDutyFailed) failingSince ??= now();
    for (const action of sent) counts.add(METRIC.pagerDutyEvents, action);
    if (isQuiet(outcome, sent, alert !== undefined)) logger.debug(routed, { ...outcome, ...ids });
    else logger.info(routed, { ...outcome, ...ids });
    if (outcome.outcome === "rejected") return deadLetter(record, "rejected", outcome.reason, alert);
    if (outcome.outcome === "retry") return comeBackLater(record, outcome.reason, alert, outcome.retryAfterMs);
    // In flight elsewhere counts as "not done yet": if that instance's delivery fails after this
    // copy was deleted, nothing would bring the change back. The duplicate comes back and settles.
    if (outcome.outcome === "in_flight") return comeBackLater(record, outcome.why, alert);
  }

  /**
   * Not done yet: the message comes back after a short backoff (at least `retryAfterMs`). It is
   * dead-lettered with the reason only when it is older than the give-up age, or on the queue's
   * last receive (the backstop the redrive policy would otherwise take without a reason).
   */
  async function comeBackLater(record: SQSRecord, reason: string, alert?: NormalizedAlert, retryAfterMs?: number): Promise<void> {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? "1");
    const sentAt = Number(record.attributes.SentTimestamp ?? now());
    const ageMs = now() - (Number.isFinite(sentAt) ? sentAt : now());
    if (ageMs >= redelivery.giveUpAfterMs) {
      return deadLetter(record, "exhausted", `gave up after ${formatDuration(ageMs)} (${receiveCount} receives): ${reason}`, alert);
    }
    if (receiveCount >= deps.maxReceiveCount)
      return deadLetter(record, "exhausted", `gave up after ${receiveCount} receives: ${reason}`, alert);
    if (deps.redeliverIn) {
      const seconds = redeliveryDelaySeconds(receiveCount, retryAfterMs, redelivery);
      // If this fails the message still comes back, after the queue's visibility timeout.
      await deps
        .redeliverIn(record.receiptHandle, seconds)
        .catch((error: unknown) =>
          logger.warn("could not shorten a message's wait", { messageId: record.messageId, error: error as Error }),
        );
    }
    throw new RetryLaterError(reason);
  }

  /** A change event: routed and sent, no state (lib/router/change-events.ts); refusals and exhaustion end in the DLQ like alerts. */
  async function handleChange(record: SQSRecord, change: ChangeMessage, deadline: number): Promise<void> {
    if (!deps.changeEvents) return deadLetter(record, "malformed", "this router has no change-event delivery configured");
    const outcome = await deps.changeEvents.handleChange(change, deadline);
    return settle(record, outcome, outcome.outcome === "delivered" ? ["change"] : [], "change event routed", {
      changeId: change.id,
      source: change.source,
    });
  }

  /**
   * An acknowledge: passed on where the problem's trigger went, or not at all when PagerDuty has no
   * incident of its own for it (lib/router/acknowledge.ts); no state is written. Refusals and
   * exhaustion end in the DLQ like alerts.
   */
  async function handleAcknowledge(record: SQSRecord, message: AcknowledgeMessage, deadline: number): Promise<void> {
    if (!deps.acknowledgements) return deadLetter(record, "malformed", "this router has no acknowledge delivery configured");
    const outcome = await deps.acknowledgements.handleAcknowledge(
      message,
      deadline,
      Number(record.attributes.ApproximateReceiveCount ?? "1"),
    );
    return settle(record, outcome, outcome.outcome === "relayed" ? ["acknowledge"] : [], "acknowledge routed", {
      acknowledgeId: message.id,
      dedupKey: message.dedupKey,
      source: message.source,
    });
  }

  /** Deliveries failed since the last success (this instance): the next success means PagerDuty is back. */
  let failingSince: number | undefined;
  let deliveredInBatch = false;

  const core = async (event: SQSEvent, context: Context) => {
    deliveredInBatch = false;
    try {
      const response = await processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context), processor, {
        context,
        throwOnFullBatchFailure: false,
      });
      if (deliveredInBatch && failingSince !== undefined && deps.drainOwed) {
        const outageMs = now() - failingSince;
        failingSince = undefined;
        const drained = await deps.drainOwed(now() + context.getRemainingTimeInMillis() - margin);
        logger.info("PagerDuty takes events again: delivered what was owed", { drained, outageMs });
      }
      return response;
    } finally {
      counts.publish();
    }
  };

  return middy(core).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
