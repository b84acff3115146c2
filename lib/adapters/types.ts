/**
 * The adapter interface: a pure function from one raw payload to normalized alerts, or a typed
 * rejection that says what was wrong and where. Adapters do no I/O; handlers, the CLI and the
 * CDK stack all read them from the registry.
 */
import type { NormalizedAlert } from "../alert/schema.ts";

/** How a payload can reach an adapter; infra derives routes and subscriptions from this. */
export type Transport = "http" | "sns" | "eventbridge" | "invoke";

export type RejectionCode =
  /** The payload is JSON but not of a shape this adapter understands. */
  | "wrong_shape"
  /** The shape is recognised but this event is not one the adapter accepts (e.g. an unknown SNS message type). */
  | "unsupported_event";

export interface Rejection {
  code: RejectionCode;
  /** One sentence for a person at 3 a.m.: what was wrong. */
  message: string;
  /** Where: a dotted path into the payload (`alerts.3.labels`), empty for the root. */
  path: string;
}

export type AdapterResult =
  | {
      ok: true;
      alerts: NormalizedAlert[];
      /** Said to the sender and logged when the payload was understood but carries no alert (e.g. SNS SubscriptionConfirmation). */
      notice?: string;
    }
  | { ok: false; rejection: Rejection };

export interface NormalizeContext<Config> {
  /** ISO 8601 time the payload arrived. */
  receivedAt: string;
  config: Config;
}

export interface Adapter<Config = unknown> {
  /** URL segment and the alerts' `source`: lower-case letters, digits and dashes. */
  readonly name: string;
  /** One line for `alert-relay sources` and the docs. */
  readonly description: string;
  readonly transports: readonly Transport[];
  /** Reads the adapter's settings from the environment, with documented defaults; throws a clear Error on a bad value. */
  readonly config: (env: Readonly<Record<string, string | undefined>>) => Config;
  /** Never throws for any JSON value: anything it cannot use is a Rejection. */
  readonly normalize: (payload: unknown, ctx: NormalizeContext<Config>) => AdapterResult;
}
