/**
 * The schemas use zod/mini (issue 15: bundle size), which carries no messages of its own: the
 * reasons an operator reads in the DLQ and in config errors must still say what was wrong.
 */
import { describe, expect, it } from "vitest";
import { buildAlert } from "../../../lib/alert/build.ts";
import { parseAlert } from "../../../lib/alert/schema.ts";
import { parseQueueMessage } from "../../../lib/messages/queue-message.ts";

const alert = buildAlert(
  { source: "echo", identity: "k", status: "firing", severity: "info", summary: ["ok"] },
  { receivedAt: "2026-12-02T10:00:00.000Z" },
);

describe("schema messages", () => {
  it("name the expected type, option and limit in English", () => {
    expect(() => parseAlert({ ...alert, severity: "Info" })).toThrow(
      /severity: Invalid option: expected one of "critical"\|"error"\|"warning"\|"info"/,
    );
    expect(() => parseAlert({ ...alert, summary: 42 })).toThrow(/summary: Invalid input: expected string, received number/);
    expect(() => parseAlert({ ...alert, id: "" })).toThrow(/id: Too small: expected string to have >=1 characters/);
    expect(() => parseAlert({ ...alert, occurredAt: "yesterday" })).toThrow(/occurredAt: Invalid ISO datetime/);
  });

  it("say the same for queue messages of the Events API ingest", () => {
    expect(() => parseQueueMessage({ kind: "pagerduty-change", schema: 1, id: 7 })).toThrow(
      /Invalid input: expected string, received number/,
    );
  });
});
