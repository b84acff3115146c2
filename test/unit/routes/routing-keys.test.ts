import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ParameterNotFoundError } from "@aws-lambda-powertools/parameters/errors";
import {
  MissingRoutingKeyError,
  createEnvRoutingKeyResolver,
  createFileRoutingKeyResolver,
  createLocalRoutingKeyResolver,
  createSecretsRoutingKeyResolver,
  routingKeyEnvName,
  routingKeyResolverFromEnv,
} from "../../../lib/routes/routing-keys.ts";

const KEY_DEFAULT = "e93facc04764012d7bfb002500d5d1a6";
const KEY_PAYMENTS = "R0PAYMENTSPAYMENTSPAYMENTSPAY123";

/** Awaits a rejection and returns the error, so tests can also check what it must NOT say. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("routingKeyEnvName", () => {
  it.each([
    ["default", "PAGERDUTY_ROUTING_KEY"],
    ["payments-high", "PAGERDUTY_ROUTING_KEY_PAYMENTS_HIGH"],
    ["dba", "PAGERDUTY_ROUTING_KEY_DBA"],
  ])("%s → %s", (ref, name) => {
    expect(routingKeyEnvName(ref)).toBe(name);
  });
});

describe("environment resolver", () => {
  const resolver = createEnvRoutingKeyResolver({
    PAGERDUTY_ROUTING_KEY: ` ${KEY_DEFAULT} `,
    PAGERDUTY_ROUTING_KEY_PAYMENTS_HIGH: KEY_PAYMENTS,
    PAGERDUTY_ROUTING_KEY_EMPTY: "  ",
  });

  it("reads PAGERDUTY_ROUTING_KEY for default and PAGERDUTY_ROUTING_KEY_<NAME> for others", async () => {
    expect(await resolver.resolve("default")).toBe(KEY_DEFAULT);
    expect(await resolver.resolve("payments-high")).toBe(KEY_PAYMENTS);
  });

  it("names the variable to set when a key is missing or blank", async () => {
    const error = await rejection(resolver.resolve("empty"));
    expect(error).toBeInstanceOf(MissingRoutingKeyError);
    expect(error.message).toBe('no PagerDuty routing key named "empty": set PAGERDUTY_ROUTING_KEY_EMPTY');
    expect((error as MissingRoutingKeyError).ref).toBe("empty");
  });

  it("refuses a name that is not a routing key name", async () => {
    await expect(resolver.resolve("../etc")).rejects.toThrow('"../etc" is not a routing key name');
  });

  it("knows whether it has any key, for the local dry run", () => {
    expect(resolver.hasAnyKey()).toBe(true);
    expect(createEnvRoutingKeyResolver({ PAGERDUTY_ROUTING_KEY: "", OTHER: "x" }).hasAnyKey()).toBe(false);
    expect(createEnvRoutingKeyResolver({ PAGERDUTY_ROUTING_KEY_DBA: KEY_PAYMENTS }).hasAnyKey()).toBe(true);
  });
});

describe("file resolver", () => {
  const file = (text: string) => () => text;

  it("reads a JSON object of name → key", async () => {
    const resolver = createFileRoutingKeyResolver(
      "keys.json",
      file(JSON.stringify({ default: KEY_DEFAULT, "payments-high": KEY_PAYMENTS })),
    );
    expect(await resolver.resolve("payments-high")).toBe(KEY_PAYMENTS);
    expect(resolver.hasAnyKey()).toBe(true);
    await expect(resolver.resolve("dba")).rejects.toThrow(
      'no PagerDuty routing key named "dba": add "dba" to ROUTING_KEYS_FILE "keys.json"',
    );
  });

  it("fails at creation on an unreadable file", () => {
    expect(() => createFileRoutingKeyResolver("/nonexistent/keys.json")).toThrow(
      'ROUTING_KEYS_FILE "/nonexistent/keys.json" could not be read: ENOENT',
    );
  });

  it("does not quote the file when its JSON is broken (it holds keys)", () => {
    const broken = `{ "default": "${KEY_DEFAULT}", }`;
    let message = "";
    try {
      createFileRoutingKeyResolver("keys.json", file(broken));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('ROUTING_KEYS_FILE "keys.json" is not valid JSON');
    expect(message).not.toContain(KEY_DEFAULT);
  });

  it.each([
    ["[]", "is a list; expected an object of name → key"],
    [`{"Default": "${KEY_DEFAULT}"}`, '"Default" is not a routing key name'],
    ['{"default": 42}', 'the key for "default" is not a non-empty string'],
    ['{"default": ""}', 'the key for "default" is not a non-empty string'],
  ])("refuses %s", (text, problem) => {
    expect(() => createFileRoutingKeyResolver("keys.json", file(text))).toThrow(problem);
  });
});

describe("choosing a resolver from the environment", () => {
  it("uses ROUTING_KEYS_FILE when set, else the variables", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alert-relay-keys-"));
    const path = join(dir, "keys.json");
    writeFileSync(path, JSON.stringify({ default: KEY_PAYMENTS }));
    try {
      expect(await createLocalRoutingKeyResolver({ ROUTING_KEYS_FILE: path, PAGERDUTY_ROUTING_KEY: KEY_DEFAULT }).resolve("default")).toBe(
        KEY_PAYMENTS,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(await createLocalRoutingKeyResolver({ PAGERDUTY_ROUTING_KEY: KEY_DEFAULT }).resolve("default")).toBe(KEY_DEFAULT);
  });

  it("uses Secrets Manager when ROUTING_KEYS_SECRET_PREFIX is set", () => {
    expect(
      routingKeyResolverFromEnv({ ROUTING_KEYS_SECRET_PREFIX: "alert-relay/routing-keys/", PAGERDUTY_ROUTING_KEY: KEY_DEFAULT }).location,
    ).toBe("Secrets Manager alert-relay/routing-keys/<name>");
    expect(routingKeyResolverFromEnv({ PAGERDUTY_ROUTING_KEY: KEY_DEFAULT }).location).toContain("environment");
  });
});

describe("Secrets Manager resolver", () => {
  function fakeSecrets(secrets: Record<string, unknown>) {
    const calls: { name: string; maxAge: number }[] = [];
    const fetchSecret = async (name: string, options: { maxAge: number }) => {
      calls.push({ name, ...options });
      if (!(name in secrets)) throw new ParameterNotFoundError(`Parameter ${name} not found in the store`);
      const value = secrets[name];
      if (value instanceof Error) throw value;
      return value;
    };
    return { calls, fetchSecret };
  }

  it("reads <prefix>/<name> with a five-minute cache by default", async () => {
    const { calls, fetchSecret } = fakeSecrets({ "alert-relay/routing-keys/payments-high": `${KEY_PAYMENTS}\n` });
    const resolver = createSecretsRoutingKeyResolver({ prefix: "alert-relay/routing-keys", fetchSecret });
    expect(await resolver.resolve("payments-high")).toBe(KEY_PAYMENTS);
    expect(calls).toEqual([{ name: "alert-relay/routing-keys/payments-high", maxAge: 300 }]);
  });

  it("accepts a console key/value secret with a routingKey field", async () => {
    const { fetchSecret } = fakeSecrets({ "p/dba": JSON.stringify({ routingKey: KEY_PAYMENTS }) });
    expect(await createSecretsRoutingKeyResolver({ prefix: "p", fetchSecret }).resolve("dba")).toBe(KEY_PAYMENTS);
  });

  it.each([
    ["an empty secret", ""],
    ["JSON without routingKey", JSON.stringify({ key: KEY_PAYMENTS })],
    ["broken JSON", `{"routingKey": "${KEY_PAYMENTS}"`],
    ["a binary secret", new Uint8Array([1, 2, 3])],
  ])("says a secret holds no key for %s, without quoting it", async (_what, value) => {
    const { fetchSecret } = fakeSecrets({ "p/dba": value });
    const error = await rejection(createSecretsRoutingKeyResolver({ prefix: "p", fetchSecret }).resolve("dba"));
    expect(error).toBeInstanceOf(MissingRoutingKeyError);
    expect(error.message).toContain("secret p/dba holds no key");
    expect(error.message).not.toContain(KEY_PAYMENTS);
  });

  it("names the secret to create when it does not exist", async () => {
    const { fetchSecret } = fakeSecrets({});
    const error = await rejection(createSecretsRoutingKeyResolver({ prefix: "alert-relay/routing-keys", fetchSecret }).resolve("dba"));
    expect(error).toBeInstanceOf(MissingRoutingKeyError);
    expect(error.message).toBe('no PagerDuty routing key named "dba": create the Secrets Manager secret alert-relay/routing-keys/dba');
  });

  it("wraps other failures with the secret's name and keeps the cause", async () => {
    const denied = new Error("AccessDeniedException: not authorized");
    const { fetchSecret } = fakeSecrets({ "p/dba": denied });
    const error = await rejection(createSecretsRoutingKeyResolver({ prefix: "p", fetchSecret }).resolve("dba"));
    expect(error).not.toBeInstanceOf(MissingRoutingKeyError);
    expect(error.message).toBe('could not read the routing key "dba" from secret p/dba: AccessDeniedException: not authorized');
    expect(error.cause).toBe(denied);
  });

  describe("through Powertools' getSecret (the default)", () => {
    const secretsManager = mockClient(SecretsManagerClient);
    afterEach(() => secretsManager.reset());
    afterAll(() => secretsManager.restore());

    it("fetches once within maxAge and maps a missing secret to MissingRoutingKeyError", async () => {
      secretsManager
        .on(GetSecretValueCommand, { SecretId: "relay-test/cached" })
        .resolves({ SecretString: KEY_DEFAULT })
        .on(GetSecretValueCommand, { SecretId: "relay-test/absent" })
        .rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
      const resolver = createSecretsRoutingKeyResolver({ prefix: "relay-test", maxAgeSeconds: 60 });
      expect(await resolver.resolve("cached")).toBe(KEY_DEFAULT);
      expect(await resolver.resolve("cached")).toBe(KEY_DEFAULT);
      expect(secretsManager.commandCalls(GetSecretValueCommand, { SecretId: "relay-test/cached" })).toHaveLength(1);
      await expect(resolver.resolve("absent")).rejects.toBeInstanceOf(MissingRoutingKeyError);
    });

    it("shares one GetSecretValue among concurrent cold reads of a key", async () => {
      secretsManager.on(GetSecretValueCommand, { SecretId: "relay-shared/default" }).callsFake(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { SecretString: KEY_DEFAULT };
      });
      const resolver = createSecretsRoutingKeyResolver({ prefix: "relay-shared" });
      const keys = await Promise.all(Array.from({ length: 8 }, () => resolver.resolve("default")));
      expect(keys).toEqual(Array(8).fill(KEY_DEFAULT));
      expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });

    it("remembers a missing key for missingForMs, then asks again (a secret created meanwhile is found)", async () => {
      let time = 0;
      secretsManager
        .on(GetSecretValueCommand, { SecretId: "relay-missing/dba" })
        .rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
      const resolver = createSecretsRoutingKeyResolver({ prefix: "relay-missing", missingForMs: 30_000, now: () => time });
      for (let record = 0; record < 5; record += 1) await expect(resolver.resolve("dba")).rejects.toBeInstanceOf(MissingRoutingKeyError);
      expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
      time += 30_000;
      secretsManager.on(GetSecretValueCommand, { SecretId: "relay-missing/dba" }).resolves({ SecretString: KEY_PAYMENTS });
      expect(await resolver.resolve("dba")).toBe(KEY_PAYMENTS);
      expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });

    it("does not remember a passing failure: the next read asks again", async () => {
      const resolver = createSecretsRoutingKeyResolver({ prefix: "relay-flaky" });
      secretsManager
        .on(GetSecretValueCommand, { SecretId: "relay-flaky/dba" })
        .rejectsOnce(new Error("ThrottlingException"))
        .resolves({ SecretString: KEY_PAYMENTS });
      await expect(resolver.resolve("dba")).rejects.toThrow(/ThrottlingException/);
      expect(await resolver.resolve("dba")).toBe(KEY_PAYMENTS);
      expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });
  });
});
