/**
 * A recurring window as an operator writes it in the console, through the router as deployed
 * (createRouterRuntime on dynalite): it suppresses during an occurrence, not outside one, and the
 * suppression is watched until the occurrence's end, when the sweep pages for what still fires.
 * The schedules are built around the real clock (in UTC) so the test holds whenever it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { startDynalite, createTable, dynamoClient, type Dynalite } from "../../support/dynalite.ts";
import { startFakePagerDuty, type FakePagerDuty } from "../../support/fake-pagerduty.ts";
import { windowsTableDefinition } from "../../../lib/suppression/dynamo-window-store.ts";
import { createRouterRuntime, documentClient } from "../../../lib/handlers/router-runtime.ts";
import { sweepWatched } from "../../../lib/router/sweep.ts";
import { alertAt } from "../../support/alerts.ts";
import { stateTableDefinition } from "../../../lib/local/emulators.ts";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MINUTE = 60_000;
let db: Dynalite;
let fake: FakePagerDuty;
let doc: ReturnType<typeof documentClient>;

beforeAll(async () => {
  [db, fake] = await Promise.all([startDynalite(), startFakePagerDuty()]);
  await createTable(db.endpoint, stateTableDefinition("state"));
  await createTable(db.endpoint, windowsTableDefinition("windows"));
  doc = documentClient(dynamoClient(db.endpoint));
});
afterAll(async () => Promise.all([fake.close(), db.close()]));

const runtimeAt = (now?: () => Date) =>
  createRouterRuntime(
    {
      STATE_TABLE_NAME: "state",
      WINDOWS_TABLE_NAME: "windows",
      DLQ_URL: "http://127.0.0.1:1/unused",
      WINDOW_REFRESH_MS: "0",
      PAGERDUTY_EVENTS_URL: fake.url,
      PAGERDUTY_ROUTING_KEY: "D".repeat(32),
    },
    { doc, ...(now ? { now } : {}) },
  );
const soon = () => Date.now() + 5_000;
const hhmm = (minuteOfDay: number) => {
  const minute = ((minuteOfDay % 1440) + 1440) % 1440;
  return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
};

/** From an hour before this minute to an hour after it (UTC), on the day it starts; its end is exact to the minute. */
function scheduleAroundNow(weekdayShift = 0) {
  const minute = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
  const start = new Date(minute.getTime() - 60 * MINUTE);
  const minuteOfDay = minute.getUTCHours() * 60 + minute.getUTCMinutes();
  return {
    schedule: {
      days: [DAYS[(start.getUTCDay() + weekdayShift) % 7]!],
      start: hhmm(minuteOfDay - 60),
      end: hhmm(minuteOfDay + 60),
      timeZone: "UTC",
    },
    occurrenceEnd: new Date(minute.getTime() + 60 * MINUTE),
  };
}

const putWindow = (id: string, matcher: string, schedule: Record<string, unknown>) =>
  doc.send(
    new PutCommand({
      TableName: "windows",
      Item: { id, enabled: true, matchers: [matcher], schedule, reason: "weekly vacuum", createdBy: "dba@example.com" },
    }),
  );

describe("router runtime: a recurring window from the table", () => {
  it("suppresses during an occurrence, watches until the occurrence ends, and the sweep pages then", async () => {
    const { schedule, occurrenceEnd } = scheduleAroundNow();
    await putWindow("w-weekly-now", "case=recurring-now", schedule);
    const runtime = runtimeAt();
    const alert = alertAt("recurring-now", "firing", 0, { labels: { case: "recurring-now" } });

    expect(await runtime.router.handleAlert(alert, soon())).toEqual({ outcome: "suppressed", windowId: "w-weekly-now" });
    const state = await runtime.store.get(alert.dedupKey);
    expect(state).toMatchObject({ suppressedBy: "w-weekly-now", watch: "suppressed", watchAt: occurrenceEnd.toISOString() });
    expect(fake.triggerCount("recurring-now")).toBe(0);

    // Still inside the occurrence the sweep leaves it alone; once it has ended, it pages.
    expect(await sweepWatched(runtime.store, runtimeAt(() => new Date(occurrenceEnd.getTime() - 1000)).router, soon())).toMatchObject({
      stillSuppressed: 1,
      delivered: 0,
    });
    expect(await sweepWatched(runtime.store, runtimeAt(() => new Date(occurrenceEnd.getTime() + 1000)).router, soon())).toMatchObject({
      delivered: 1,
      failed: [],
    });
    expect(fake.triggerCount("recurring-now")).toBe(1);
  });

  it("does not suppress outside its occurrences (same times, another weekday)", async () => {
    const { schedule } = scheduleAroundNow(3);
    await putWindow("w-weekly-other-day", "case=recurring-other", schedule);
    const outcome = await runtimeAt().router.handleAlert(
      alertAt("recurring-other", "firing", 0, { labels: { case: "recurring-other" } }),
      soon(),
    );
    expect(outcome.outcome).toBe("delivered");
    expect(fake.triggerCount("recurring-other")).toBe(1);
  });
});
