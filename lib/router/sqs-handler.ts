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
import { AlertContractError, parseAlert, type NormalizedAlert } from "../alert/schema.ts";
import { ChangeMessageError, isChangeMessage, parseChangeMessage, type ChangeMessage } from "../ingest/pagerduty-events/change-message.ts";
import { METRIC, countWithDimension, type Telemetry } from "../runtime/observability.ts";
import type { ChangeEventRouter } from "./change-events.ts";
import type { DeadLetterSink } from "./dead-letter.ts";
import type { RouteOutcome, Router } from "./router.ts";

export interface RouterHandlerDeps extends Telemetry {
  router: Router;
  deadLetters: DeadLetterSink;
  /** Routes and sends PagerDuty change events (messages of kind "pagerduty-change"); without it they are dead-lettered. */
  changeEvents?: ChangeEventRouter;
  /** The queue's maxReceiveCount: on the last receive the router dead-letters with a reason instead of failing. */
  maxReceiveCount: number;
  /** Time kept back from Lambda's remaining time for confirming and answering. Default 3 s. */
  safetyMarginMs?: number;
  now?: () => number;
}

export class RetryLaterError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "RetryLaterError";
  }
}

function parseMessage(record: SQSRecord): { alert: NormalizedAlert } | { change: ChangeMessage } | { problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return { problem: "message body is not JSON" };
  }
  try {
    return isChangeMessage(body) ? { change: parseChangeMessage(body) } : { alert: parseAlert(body) };
  } catch (error) {
    if (error instanceof AlertContractError || error instanceof ChangeMessageError) return { problem: error.message };
    throw error;
  }
}

export function createRouterHandler(deps: RouterHandlerDeps) {
  const { logger, metrics, router, deadLetters } = deps;
  const margin = deps.safetyMarginMs ?? 3_000;
  const now = deps.now ?? Date.now;
  const processor = new BatchProcessor(EventType.SQS);

  async function deadLetter(record: SQSRecord, kind: "malformed" | "rejected" | "exhausted", reason: string, alert?: NormalizedAlert) {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? "1");
    await deadLetters.send(record.body, reason, { messageId: record.messageId, receiveCount });
    logger.error("message dead-lettered", { kind, reason, messageId: record.messageId, alertId: alert?.id, dedupKey: alert?.dedupKey });
    countWithDimension(metrics, METRIC.deadLettered, "reason", kind);
  }

  function account(outcome: RouteOutcome, alert: NormalizedAlert): void {
    countWithDimension(metrics, METRIC.routerOutcomes, "outcome", outcome.outcome);
    if (outcome.outcome === "delivered" || outcome.outcome === "grouped") {
      for (const action of outcome.actions) countWithDimension(metrics, METRIC.pagerDutyEvents, "action", action);
    }
    logger.info("alert routed", { ...outcome, alertId: alert.id, dedupKey: alert.dedupKey, status: alert.status, source: alert.source });
  }

  async function handleRecord(record: SQSRecord, context: Context): Promise<void> {
    const parsed = parseMessage(record);
    if ("problem" in parsed) return deadLetter(record, "malformed", parsed.problem);
    const deadline = now() + context.getRemainingTimeInMillis() - margin;
    if ("change" in parsed) return handleChange(record, parsed.change, deadline);
    const { alert } = parsed;
    const outcome = await router.handleAlert(alert, deadline);
    account(outcome, alert);
    if (outcome.outcome === "rejected") return deadLetter(record, "rejected", outcome.reason, alert);
    // In flight elsewhere counts as "not done yet": if that instance's delivery fails after this
    // copy was deleted, nothing would bring the change back. The duplicate comes back and settles.
    if (outcome.outcome === "retry" || outcome.outcome === "in_flight") {
      const reason = outcome.outcome === "retry" ? outcome.reason : outcome.why;
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? "1");
      if (receiveCount >= deps.maxReceiveCount) {
        return deadLetter(record, "exhausted", `gave up after ${receiveCount} receives: ${reason}`, alert);
      }
      throw new RetryLaterError(reason);
    }
  }

  /** A change event: routed and sent, no state (lib/router/change-events.ts); refusals and exhaustion end in the DLQ like alerts. */
  async function handleChange(record: SQSRecord, change: ChangeMessage, deadline: number): Promise<void> {
    if (!deps.changeEvents) return deadLetter(record, "malformed", "this router has no change-event delivery configured");
    const outcome = await deps.changeEvents.handleChange(change, deadline);
    countWithDimension(metrics, METRIC.routerOutcomes, "outcome", outcome.outcome);
    if (outcome.outcome === "delivered") countWithDimension(metrics, METRIC.pagerDutyEvents, "action", "change");
    logger.info("change event routed", { ...outcome, changeId: change.id, source: change.source });
    if (outcome.outcome === "rejected") return deadLetter(record, "rejected", outcome.reason);
    if (outcome.outcome === "retry") {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? "1");
      if (receiveCount >= deps.maxReceiveCount) return deadLetter(record, "exhausted", `gave up after ${receiveCount} receives: ${outcome.reason}`);
      throw new RetryLaterError(outcome.reason);
    }
  }

  const core = async (event: SQSEvent, context: Context) =>
    processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context), processor, { context, throwOnFullBatchFailure: false });

  return middy(core).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
