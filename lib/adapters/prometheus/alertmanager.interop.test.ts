/**
 * A real Alertmanager (Debian's `prometheus-alertmanager`, or the binary named by
 * ALERTMANAGER_BIN) sends its webhook to a receiver on loopback, and the adapter must understand
 * what it sends: firing, then resolved, under one dedupKey. Skipped when no binary is installed.
 * Everything listens on 127.0.0.1 on ephemeral ports; clustering is off.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { labelSetFingerprint, prometheus } from "./adapter.ts";
import { parseAlert } from "../../alert/schema.ts";

const TOKEN = "interop-test-token";
const WAIT_MS = 15_000;

function findBinary(): string | undefined {
  const candidates = process.env.ALERTMANAGER_BIN
    ? [process.env.ALERTMANAGER_BIN]
    : (process.env.PATH ?? "").split(delimiter).flatMap((dir) => [join(dir, "prometheus-alertmanager"), join(dir, "alertmanager")]);
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const binary = findBinary();

interface Delivery {
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A webhook receiver on loopback that hands out deliveries in arrival order. */
class Receiver {
  readonly server: Server;
  private readonly deliveries: Delivery[] = [];
  private waiting: (() => void) | undefined;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        this.deliveries.push({ url: request.url ?? "", headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        response.writeHead(200).end();
        this.waiting?.();
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** The next delivery whose payload has status `status`; earlier ones (e.g. repeats) are skipped. */
  async next(status: "firing" | "resolved"): Promise<Delivery> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const index = this.deliveries.findIndex((d) => (d.body as { status?: unknown }).status === status);
      if (index >= 0) return this.deliveries.splice(0, index + 1).at(-1)!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${status} webhook from Alertmanager within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe("Alertmanager webhook interop", () => {
  let receiver: Receiver;
  let alertmanager: ChildProcess | undefined;
  let apiBase = "";
  let workDir = "";
  let log = "";

  beforeAll(async () => {
    if (!binary) return;
    receiver = new Receiver();
    const receiverPort = await receiver.listen();
    workDir = mkdtempSync(join(tmpdir(), "alert-relay-am-"));
    writeFileSync(
      join(workDir, "alertmanager.yml"),
      [
        "route:",
        "  receiver: alert-relay",
        "  group_by: [alertname]",
        "  group_wait: 100ms",
        "  group_interval: 1s",
        "  repeat_interval: 1h",
        "receivers:",
        "  - name: alert-relay",
        "    webhook_configs:",
        `      - url: http://127.0.0.1:${receiverPort}/webhooks/prometheus`,
        "        send_resolved: true",
        "        max_alerts: 50",
        "        http_config:",
        "          authorization:",
        `            credentials: ${TOKEN}`,
        "",
      ].join("\n"),
    );
    alertmanager = spawn(
      binary,
      [
        `--config.file=${join(workDir, "alertmanager.yml")}`,
        `--storage.path=${join(workDir, "data")}`,
        "--web.listen-address=127.0.0.1:0",
        "--web.external-url=http://alertmanager.interop.test",
        "--cluster.listen-address=",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Alertmanager did not start within ${WAIT_MS} ms:\n${log}`)), WAIT_MS);
      const onOutput = (chunk: Buffer) => {
        log += chunk.toString("utf8");
        const match = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(log);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      alertmanager!.stdout!.on("data", onOutput);
      alertmanager!.stderr!.on("data", onOutput);
      alertmanager!.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`Alertmanager exited with ${code}:\n${log}`));
      });
    });
    apiBase = `http://${address}`;
    const deadline = Date.now() + WAIT_MS;
    while (!(await fetch(`${apiBase}/-/ready`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline) throw new Error(`Alertmanager not ready within ${WAIT_MS} ms:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, WAIT_MS * 2);

  afterAll(async () => {
    const child = alertmanager;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    }
    await receiver?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  async function postAlerts(alerts: unknown[]): Promise<void> {
    const response = await fetch(`${apiBase}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(alerts),
    });
    expect(response.status, await response.text()).toBe(200);
  }

  it.skipIf(!binary)(
    "normalizes a real firing and resolved webhook to one problem",
    async () => {
      const startsAt = new Date(Date.now() - 60_000).toISOString();
      const labels = { alertname: "InteropCheck", severity: "page", service: "checkout", instance: "web-9:9100", team: "payments" };
      const annotations = { summary: "Interop check fired 🔥", runbook_url: "https://runbooks.example.com/interop" };
      await postAlerts([{ labels, annotations, startsAt, generatorURL: "http://prometheus.interop.test/graph?g0.expr=up" }]);

      const config = prometheus.config({});
      const ctx = { receivedAt: new Date().toISOString(), config };
      const firing = await receiver.next("firing");
      expect(firing.url).toBe("/webhooks/prometheus");
      expect(firing.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(firing.headers["user-agent"]).toMatch(/^Alertmanager\//);

      const fired = prometheus.normalize(firing.body, ctx);
      if (!fired.ok) throw new Error(`rejected: ${fired.rejection.path} ${fired.rejection.message}`);
      expect(fired.alerts).toHaveLength(1);
      const [alert] = fired.alerts;
      parseAlert(alert);
      expect(alert).toMatchObject({
        status: "firing",
        severity: "critical",
        summary: "Interop check fired 🔥",
        sourceHost: "web-9:9100",
        component: "checkout",
        class: "InteropCheck",
        occurredAt: startsAt,
        labels,
      });
      // The hash we compute is Alertmanager's own fingerprint.
      const sent = (firing.body as { alerts: { fingerprint: string }[] }).alerts[0]!.fingerprint;
      expect(labelSetFingerprint(labels)).toBe(sent);
      expect(alert!.dedupKey).toBe(`prometheus:InteropCheck:${sent}`);
      expect(alert!.links.map((link) => link.text)).toEqual(["Runbook", "Source", "Alertmanager"]);

      const endsAt = new Date(Date.now() - 1000).toISOString();
      await postAlerts([{ labels, annotations, startsAt, endsAt }]);
      const resolution = await receiver.next("resolved");
      const resolved = prometheus.normalize(resolution.body, { receivedAt: new Date().toISOString(), config: prometheus.config({ PROMETHEUS_FINGERPRINT: "compute" }) });
      if (!resolved.ok) throw new Error(`rejected: ${resolved.rejection.path} ${resolved.rejection.message}`);
      expect(resolved.alerts).toHaveLength(1);
      expect(resolved.alerts[0]).toMatchObject({ status: "resolved", dedupKey: alert!.dedupKey, occurredAt: endsAt });
      parseAlert(resolved.alerts[0]);
    },
    WAIT_MS * 3,
  );
});
