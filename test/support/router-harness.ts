/**
 * A router wired to real emulators: dynalite for state, the strict fake PagerDuty over loopback
 * with the real client. Suppression and routing are plain functions here, so each test sets them.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createPagerDutyClient } from "../../lib/pagerduty/client.ts";
import { createPagerDutyDeliver } from "../../lib/router/deliver.ts";
import { createRouter, type RouterDeps } from "../../lib/router/router.ts";
import { createDynamoStateStore } from "../../lib/state-table/problem-store.ts";
import { STATE_TABLE } from "../../lib/state-table/table.ts";
import { type StateStore } from "../../lib/router/stores.ts";
import type { RouteMatch, SuppressionMatch } from "../../lib/router/state.ts";
import type { NormalizedAlert } from "../../lib/alert/schema.ts";
import { startDynalite } from "./dynalite.ts";
import { startFakePagerDuty, type FakePagerDuty } from "./fake-pagerduty.ts";
import { TEST_CREDENTIALS } from "./local-sqs.ts";

/** 32-character routing keys, one per reference, as PagerDuty issues them. */
export const ROUTING_KEYS: Readonly<Record<string, string>> = {
  default: "R0defaultdefaultdefaultdefault01",
  payments: "R0paymentspaymentspaymentspays02",
  /** PagerDuty answers 400 to a key that is not 32 characters: for testing refusals. */
  invalid: "too-short",
};

export interface RouterHarness {
  fake: FakePagerDuty;
  doc: DynamoDBDocumentClient;
  store: StateStore;
  tableName: string;
  endpoint: string;
  /** A router sharing the table and fake; call twice for two racing instances. */
  router(overrides?: Partial<RouterDeps>): ReturnType<typeof createRouter>;
  setWindow(find: (alert: NormalizedAlert, now: Date) => SuppressionMatch | undefined): void;
  setRoute(route: (alert: NormalizedAlert) => RouteMatch): void;
  close(): Promise<void>;
}

let tableCounter = 0;

export async function startRouterHarness(): Promise<RouterHarness> {
  const db = await startDynalite();
  const fake = await startFakePagerDuty();
  const client = new DynamoDBClient({ endpoint: db.endpoint, region: "us-east-1", credentials: TEST_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const tableName = `state-${(tableCounter += 1)}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: STATE_TABLE.keySchema,
      AttributeDefinitions: STATE_TABLE.attributeDefinitions,
      GlobalSecondaryIndexes: STATE_TABLE.globalSecondaryIndexes,
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  const store = createDynamoStateStore({ doc, tableName });
  const pagerDuty = createPagerDutyClient({
    baseUrl: fake.url,
    baseDelayMs: 5,
    maxDelayMs: 20,
    requestTimeoutMs: 400,
    rateLimitBaseMs: 20,
    maxAttempts: 4,
  });
  let findWindow: (alert: NormalizedAlert, now: Date) => SuppressionMatch | undefined = () => undefined;
  let route: (alert: NormalizedAlert) => RouteMatch = () => ({ route: "default", routingKeyRef: "default" });
  const resolveKey = async (ref: string) => {
    const key = ROUTING_KEYS[ref];
    if (!key) throw new Error(`no key for ${ref}`);
    return key;
  };
  return {
    fake,
    doc,
    store,
    tableName,
    endpoint: db.endpoint,
    router: (overrides = {}) =>
      createRouter({
        store,
        findWindow: async (alert, now) => findWindow(alert, now),
        route: (alert) => route(alert),
        deliver: createPagerDutyDeliver(pagerDuty, resolveKey),
        ...overrides,
      }),
    setWindow: (find) => void (findWindow = find),
    setRoute: (fn) => void (route = fn),
    async close() {
      client.destroy();
      await fake.close();
      await db.close();
    },
  };
}

/**
 * One harness for a test file: started before its tests, closed after them, and reset (fake
 * PagerDuty, no window, every alert to the default route) before each. Returns a stand-in that
 * forwards to the running harness, so tests write `h.router()` as usual.
 */
export function useRouterHarness(): RouterHarness {
  let current: RouterHarness | undefined;
  beforeAll(async () => {
    current = await startRouterHarness();
  });
  afterAll(async () => current?.close());
  beforeEach(() => {
    current!.fake.reset();
    current!.setWindow(() => undefined);
    current!.setRoute(() => ({ route: "default", routingKeyRef: "default" }));
  });
  return new Proxy({} as RouterHarness, {
    get: (_target, name) => {
      if (!current) throw new Error("the router harness is used before its beforeAll ran");
      return current[name as keyof RouterHarness];
    },
  });
}
