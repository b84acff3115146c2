import { describe, expect, it } from "vitest";
import { webhookTokenFromEnv } from "../../../lib/ingest/webhook-token.ts";

describe("webhook token from Secrets Manager", () => {
  it("shares one fetch among concurrent cold requests, and reads again once it has settled", async () => {
    const calls: string[] = [];
    const fetchSecret = async (name: string) => {
      calls.push(name);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return " token-from-secret ";
    };
    const token = webhookTokenFromEnv({ WEBHOOK_TOKEN_SECRET: "relay/webhook-token" }, fetchSecret);
    expect(await Promise.all(Array.from({ length: 8 }, () => token()))).toEqual(Array(8).fill("token-from-secret"));
    expect(calls).toEqual(["relay/webhook-token"]);
    // Settled: the next read goes to the fetcher again (Powertools' own cache answers it within maxAge).
    await token();
    expect(calls).toHaveLength(2);
  });

  it("prefers WEBHOOK_TOKEN and is off with neither", async () => {
    expect(await webhookTokenFromEnv({ WEBHOOK_TOKEN: "inline", WEBHOOK_TOKEN_SECRET: "x" }, async () => "secret")()).toBe("inline");
    expect(await webhookTokenFromEnv({})()).toBeUndefined();
  });
});
