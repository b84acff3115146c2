/** `send` against a loopback HTTP server standing in for the local stack's webhook server. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { writeStackFile } from "../../../lib/ops/local-stack-file.ts";
import { startCliHarness, type CliHarness } from "../../support/cli-harness.ts";

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let url: string;
let received: Received[] = [];
let answer: { status: number; body: string } = { status: 202, body: "" };
let h: CliHarness;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  h = await startCliHarness({ httpUrl: url });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await h.close();
});
beforeEach(() => {
  received = [];
  answer = { status: 202, body: JSON.stringify({ accepted: 1, queued: ["a1"] }) };
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const PAYLOAD = '{"version":"4","status":"firing","alerts":[]}';

describe("send", () => {
  it("POSTs the file to the stack's webhook with the token from WEBHOOK_TOKEN, and prints status and body", async () => {
    const run = await h.run(["send", "prometheus", "payload.json"], {
      files: { "payload.json": PAYLOAD },
      env: { WEBHOOK_TOKEN: "s3cret-token" },
    });
    expect(run.code).toBe(0);
    expect(received).toEqual([
      expect.objectContaining({
        method: "POST",
        url: "/webhooks/prometheus",
        body: PAYLOAD,
        headers: expect.objectContaining({ authorization: "Bearer s3cret-token", "content-type": "application/json" }),
      }),
    ]);
    expect(run.out).toContain(`POST ${url}/webhooks/prometheus → 202 Accepted`);
    expect(run.out).toContain('"queued": [\n    "a1"\n  ]');
    expect(`${run.out}${run.err}`).not.toContain("s3cret-token");
  });

  it("reads standard input for -, and --token wins over the environment", async () => {
    const run = await h.run(["send", "datadog", "-", "--token", "from-flag"], { stdin: PAYLOAD, env: { WEBHOOK_TOKEN: "from-env" } });
    expect(run.code).toBe(0);
    expect(received[0]).toMatchObject({
      url: "/webhooks/datadog",
      body: PAYLOAD,
      headers: expect.objectContaining({ authorization: "Bearer from-flag" }),
    });
    expect(run.out).not.toContain("from-flag");
  });

  it("sends no authorization header without a token", async () => {
    await h.run(["send", "prometheus", "-"], { stdin: PAYLOAD, env: {} });
    expect(received[0]?.headers.authorization).toBeUndefined();
  });

  it("exits 1 on a non-2xx answer and prints it", async () => {
    answer = { status: 400, body: JSON.stringify({ error: "not an Alertmanager payload" }) };
    const run = await h.run(["send", "prometheus", "-"], { stdin: "{}" });
    expect(run.code).toBe(1);
    expect(run.out).toContain("→ 400 Bad Request");
    expect(run.out).toContain('"error": "not an Alertmanager payload"');
  });

  it("on a 404 for a registered source, says the running stack predates it: restart npm start", async () => {
    answer = { status: 404, body: JSON.stringify({ error: 'no adapter named "prometheus"' }) };
    const run = await h.run(["send", "prometheus", "-"], { stdin: PAYLOAD });
    expect(run.code).toBe(1);
    expect(run.err).toBe(
      `prometheus is registered in lib/adapters/registry.ts but the local stack at ${url} does ` +
        `not know it: restart npm start (it reads the registry when it starts)`,
    );
    const unknown = await h.run(["send", "grafana", "-"], { stdin: PAYLOAD });
    expect(unknown.err).toMatch(/^no adapter named grafana; registered: /);
  });

  it("takes --url over the stack's webhook URL", async () => {
    const port = await closedPort();
    const run = await h.run(["send", "prometheus", "-", "--url", `http://127.0.0.1:${port}/`], { stdin: PAYLOAD });
    expect(run.code).toBe(1);
    expect(received).toEqual([]);
    expect(run.err).toContain(`cannot reach http://127.0.0.1:${port}/webhooks/prometheus: ECONNREFUSED`);
  });

  it("asks whether the local stack runs when its webhook cannot be reached", async () => {
    const httpUrl = `http://127.0.0.1:${await closedPort()}`;
    const stackFile = writeStackFile({ ...h.descriptor, httpUrl }, join(h.dir, "down"));
    const run = await h.bare(["send", "prometheus", "-", "--stack-file", stackFile], { stdin: PAYLOAD });
    expect(run.code).toBe(1);
    expect(run.err).toContain(`ECONNREFUSED; is the local stack at ${httpUrl} running?`);
  });

  it("fails clearly when the file cannot be read, without sending", async () => {
    const run = await h.run(["send", "prometheus", "missing.json"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain("cannot read missing.json");
    expect(received).toEqual([]);
  });

  it("needs a source and a file", async () => {
    expect((await h.run(["send"])).code).toBe(2);
    expect((await h.run(["send", "prometheus"])).err).toContain("name the payload file, or - for standard input");
  });
});
