/**
 * For random interleavings of firing and resolved events, duplicates, redeliveries and PagerDuty
 * outages, PagerDuty's final incident state equals the source's last state for every key, and no
 * incident receives a second trigger. Runs on dynalite and the strict fake PagerDuty.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { startRouterHarness, type RouterHarness } from "../../support/router-harness.ts";
import { alertAt } from "../../support/alerts.ts";
import type { NormalizedAlert } from "../../../lib/alert/schema.ts";
import { createAggregateStore } from "../../../lib/state-table/aggregate-store.ts";
import { activeMembership } from "../../../lib/router/aggregates.ts";
import { sweepWatched } from "../../../lib/router/sweep.ts";
import { parseMatcherList } from "../../../lib/matchers/matcher.ts";

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
});
afterAll(async () => h.close());

const scenario = fc.record({
  /** Per problem, the source's timeline of statuses (one event per minute). */
  timelines: fc.array(fc.array(fc.constantFrom("firing" as const, "resolved" as const), { minLength: 1, maxLength: 5 }), {
    minLength: 1,
    maxLength: 3,
  }),
  /** How many copies of each event reach the queue (source duplicates, SQS redelivery). */
  copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 15, maxLength: 15 }),
  /** Arrival order: messages are sorted by these random weights. */
  order: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 45, maxLength: 45 }),
  /** Steps at which PagerDuty is down for the attempt (the message is redelivered later). */
  outages: fc.array(fc.boolean(), { minLength: 45, maxLength: 45 }),
});

let run = 0;
const allKeys: string[] = [];

describe("router property", () => {
  it("ends with PagerDuty matching the source's last state, without a second trigger per incident", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ timelines, copies, order, outages }) => {
        run += 1;
        h.fake.reset();
        const router = h.router();
        const keys = timelines.map((_, i) => `prop-${run}-${i}`);
        const messages: NormalizedAlert[] = [];
        timelines.forEach((timeline, k) =>
          timeline.forEach((status, minute) => {
            for (let c = 0; c < copies[(k * 5 + minute) % copies.length]!; c += 1) messages.push(alertAt(keys[k]!, status, minute));
          }),
        );
        const queue = messages
          .map((alert, i) => ({ alert, weight: order[i % order.length]! }))
          .sort((a, b) => a.weight - b.weight)
          .map((m) => m.alert);
        let step = 0;
        while (queue.length > 0) {
          const alert = queue.shift()!;
          const outage = step < outages.length && outages[step]!;
          if (outage) h.fake.down();
          const outcome = await router.handleAlert(alert, Date.now() + 5_000);
          if (outage) h.fake.recover();
          if (outcome.outcome === "retry") queue.push(alert); // SQS brings it back later
          step += 1;
          if (step > 500) throw new Error("did not settle");
        }
        timelines.forEach((timeline, k) => {
          const key = keys[k]!;
          const open = h.fake.openIncidents().filter((i) => i.dedupKey === key);
          expect(open.length, `${key} open incidents for last state ${timeline.at(-1)}`).toBe(timeline.at(-1) === "firing" ? 1 : 0);
          for (const incident of h.fake.incidents().filter((i) => i.dedupKey === key)) expect(incident.triggers).toBe(1);
          const episodes = timeline.filter((s, i) => s === "firing" && timeline[i - 1] !== "firing").length;
          expect(h.fake.incidents().filter((i) => i.dedupKey === key).length).toBeLessThanOrEqual(episodes);
        });
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe("router property with grouping, storm protection and flapping", () => {
  const MINUTE = 60_000;
  it("leaves no problem unpaged and no incident open without a firing problem behind it", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario,
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        async ({ timelines, copies, order, outages }, grouped) => {
          run += 1;
          h.fake.reset();
          // Each run a day later: its own clock minutes for the storm rate, its own group key.
          const base = run * 1440;
          let clock = Date.UTC(2026, 10, 26, 17, 0) + base * MINUTE;
          const router = h.router({
            aggregates: createAggregateStore({ doc: h.doc, tableName: h.tableName }),
            policies: {
              groups: [{ name: `prop-${run}`, matchers: parseMatcherList(["grp=yes"]).matchers, groupBy: [], windowMs: 10 * MINUTE }],
              storm: { newIncidentsPerMinute: 1 },
              flapping: { changes: 2, withinMs: 10 * MINUTE, stableMs: 5 * MINUTE },
            },
            now: () => new Date(clock),
          });
          const keys = timelines.map((_, i) => `propp-${run}-${i}`);
          const messages: NormalizedAlert[] = [];
          timelines.forEach((timeline, k) =>
            timeline.forEach((status, minute) => {
              const labels: Record<string, string> = grouped[k] ? { grp: "yes" } : {};
              for (let c = 0; c < copies[(k * 5 + minute) % copies.length]!; c += 1)
                messages.push(alertAt(keys[k]!, status, base + minute, { labels }));
            }),
          );
          const queue = messages
            .map((alert, i) => ({ alert, weight: order[i % order.length]! }))
            .sort((a, b) => a.weight - b.weight)
            .map((m) => m.alert);
          let step = 0;
          while (queue.length > 0) {
            const alert = queue.shift()!;
            clock += 5_000;
            const outage = step < outages.length && outages[step]!;
            if (outage) h.fake.down();
            const outcome = await router.handleAlert(alert, Date.now() + 5_000);
            if (outage) h.fake.recover();
            if (outcome.outcome === "retry" || outcome.outcome === "in_flight") queue.push(alert);
            step += 1;
            if (step > 500) throw new Error("did not settle");
          }
          // Long after: held resolves are due and aggregates' updates sent.
          clock += 60 * MINUTE;
          expect((await sweepWatched(h.store, router, Date.now() + 10_000)).failed).toEqual([]);

          const open = h.fake.openIncidents();
          for (const [k, timeline] of timelines.entries()) {
            const state = (await h.store.get(keys[k]!))!;
            expect(state.status).toBe(timeline.at(-1));
            const own = open.filter((incident) => incident.dedupKey === keys[k]);
            const via = activeMembership(state);
            if (timeline.at(-1) === "resolved") expect(own, `${keys[k]} resolved at the source`).toHaveLength(0);
            else
              expect(
                own.length + (via && open.some((incident) => incident.dedupKey === via.key) ? 1 : 0),
                `${keys[k]} firing at the source`,
              ).toBe(1);
            for (const incident of h.fake.incidents().filter((i) => i.dedupKey === keys[k])) expect(incident.triggers).toBe(1);
          }
          // An open group or storm incident always has a member still firing, and its firing count is
          // exactly the members counted firing in its episode (nothing counted twice, nothing lost).
          // The storm incident is shared by every run (one routing key): its members are all runs' problems.
          allKeys.push(...keys);
          const states = await Promise.all(allKeys.map((key) => h.store.get(key)));
          for (const incident of open.filter((i) => i.dedupKey.startsWith("group:") || i.dedupKey.startsWith("storm:"))) {
            const aggregate = (await h.store.get(incident.dedupKey))!;
            const members = states.filter(
              (state) => state?.aggregate?.key === incident.dedupKey && state.aggregate.episode === aggregate.openedAt,
            );
            expect(
              members.map((member) => member!.status),
              `${incident.dedupKey} is open`,
            ).toContain("firing");
            expect(aggregate.firingCount).toBe(members.filter((member) => member!.aggregate!.synced?.status === "firing").length);
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 180_000);
});

describe("router property at storm scale", () => {
  const MINUTE = 60_000;
  const MEMBERS = 2_000;
  /** Messages handled at once, alternating between two racing router instances. */
  const CHUNK = 40;
  it(
    `counts ${MEMBERS.toLocaleString("en")} storm members exactly through ` + `redeliveries, racing instances and PagerDuty outages`,
    async () => {
      const member = fc.record({
        /** The source's timeline, one event a minute from the burst on. */
        timeline: fc
          .array(fc.constantFrom("firing" as const, "resolved" as const), { minLength: 1, maxLength: 3 })
          .map((rest) => ["firing" as const, ...rest.slice(1)]),
        copies: fc.integer({ min: 1, max: 2 }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(member, { minLength: MEMBERS, maxLength: MEMBERS }),
          fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
          async (members, outages) => {
            run += 1;
            h.fake.reset();
            const base = run * 1440;
            let clock = Date.UTC(2026, 10, 26, 17, 0) + base * MINUTE;
            const aggregates = createAggregateStore({ doc: h.doc, tableName: h.tableName });
            const routeKey = `scale-${run}`;
            h.setRoute(() => ({ route: routeKey, routingKeyRef: "payments" }));
            const instances = [0, 1].map(() =>
              h.router({ aggregates, policies: { storm: { newIncidentsPerMinute: 3 } }, now: () => new Date(clock) }),
            );
            const keys = members.map((_, i) => `scale-${run}-${i}`);
            try {
              const minutes = Math.max(...members.map((m) => m.timeline.length));
              for (let minute = 0; minute < minutes; minute += 1) {
                clock = Date.UTC(2026, 10, 26, 17, 0) + (base + minute * 5) * MINUTE;
                // This minute's events, every copy, in a seeded shuffled order; whatever asks to come back comes back.
                let queue = members.flatMap((m, i) =>
                  m.timeline[minute]
                    ? Array.from({ length: m.copies }, () => alertAt(keys[i]!, m.timeline[minute]!, base + minute * 5))
                    : [],
                );
                queue = queue
                  .map((alert, i) => ({ alert, weight: (i * 7919) % 1009 }))
                  .sort((a, b) => a.weight - b.weight)
                  .map((m) => m.alert);
                for (let round = 0; queue.length > 0; round += 1) {
                  if (round > 20) throw new Error("did not settle");
                  const next: NormalizedAlert[] = [];
                  for (let start = 0, step = 0; start < queue.length; start += CHUNK, step += 1) {
                    const outage = outages[(round * 7 + step) % outages.length]! && step % 3 === 0;
                    if (outage) h.fake.down();
                    const chunk = queue.slice(start, start + CHUNK);
                    const outcomes = await Promise.all(chunk.map((alert, k) => instances[k % 2]!.handleAlert(alert, Date.now() + 5_000)));
                    if (outage) h.fake.recover();
                    outcomes.forEach((outcome, k) => {
                      if (outcome.outcome === "retry" || outcome.outcome === "in_flight") next.push(chunk[k]!);
                    });
                  }
                  queue = next;
                }
                // The sweep sends what outages held back, and the storm's update a minute on.
                clock += 2 * MINUTE;
                expect((await sweepWatched(h.store, instances[0]!, Date.now() + 20_000)).failed).toEqual([]);
              }
              clock += 10 * MINUTE;
              await sweepWatched(h.store, instances[1]!, Date.now() + 20_000);

              const states = await Promise.all(keys.map((key) => h.store.get(key)));
              const storm = (await h.store.get("storm:payments"))!;
              const inEpisode = states.filter(
                (state) => state?.aggregate?.key === "storm:payments" && state.aggregate.episode === storm.openedAt,
              );
              // Exactly the members counted firing in its episode: nothing counted twice, nothing lost.
              expect(storm.firingCount).toBe(inEpisode.filter((state) => state!.aggregate!.synced?.status === "firing").length);
              expect(storm.pending ?? {}).toEqual({});
              const open = new Set(h.fake.openIncidents().map((incident) => incident.dedupKey));
              members.forEach((m, i) => {
                const state = states[i]!;
                const last = m.timeline.at(-1)!;
                expect(state.status).toBe(last);
                const via = activeMembership(state);
                if (last === "firing")
                  expect(open.has(keys[i]!) || (via !== undefined && open.has(via.key)), `${keys[i]} firing is represented`).toBe(true);
                else expect(open.has(keys[i]!), `${keys[i]} resolved has no own open incident`).toBe(false);
              });
              expect(open.has("storm:payments")).toBe((storm.firingCount ?? 0) > 0);
              // Never a second incident for one problem, and one storm incident per episode.
              for (const key of keys)
                expect(h.fake.incidents().filter((incident) => incident.dedupKey === key).length).toBeLessThanOrEqual(2);
              expect(
                h.fake.events.filter((event) => event.dedupKey === "storm:payments" && event.effect === "opened").length,
              ).toBeLessThanOrEqual(minutesOf(members));
            } finally {
              h.fake.recover();
            }
          },
        ),
        { numRuns: 1, seed: 2026, endOnFailure: true },
      );
    },
    600_000,
  );
});

/** Storm episodes possible: one per minute of the timelines at most. */
function minutesOf(members: readonly { timeline: readonly string[] }[]): number {
  return Math.max(...members.map((m) => m.timeline.length));
}
