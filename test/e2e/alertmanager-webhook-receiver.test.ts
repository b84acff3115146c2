/**
 * A real Alertmanager (Debian's `prometheus-alertmanager`, or the binary named by
 * ALERTMANAGER_BIN) sends its webhook to a receiver on loopback, and the adapter must understand
 * what it sends: firing, then resolved, under one dedupKey. Skipped when no binary is installed.
 * Everything listens on 127.0.0.1 on ephemeral ports; clustering is off.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { labelSetFingerprint, prometheus } from "../../lib/adapters/prometheus/adapter.ts";
import { parseAlert } from "../../lib/alert/schema.ts";
import {
  ALERTMANAGER_WAIT_MS as WAIT_MS,
  findAlertmanager,
  startAlertmanager,
  type RunningAlertmanager,
} from "../support/alertmanager-process.ts";

const TOKEN = "interop-test-token";

const binary = findAlertmanager();

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
        this.deliveries.push({
          url: request.url ?? "",
          headers: request.headers,
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        });
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
  let alertmanager: RunningAlertmanager | undefined;

  beforeAll(async () => {
    if (!binary) return;
    receiver = new Receiver();
    const receiverPort = await receiver.listen();
    alertmanager = await startAlertmanager(
      binary,
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
  }, WAIT_MS * 2);

  afterAll(async () => {
    await alertmanager?.stop();
    await receiver?.close();
  });

  const postAlerts = (alerts: unknown[]) => alertmanager!.postAlerts(alerts);

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
      const resolved = prometheus.normalize(resolution.body, {
        receivedAt: new Date().toISOString(),
        config: prometheus.config({ PROMETHEUS_FINGERPRINT: "compute" }),
      });
      if (!resolved.ok) throw new Error(`rejected: ${resolved.rejection.path} ${resolved.rejection.message}`);
      expect(resolved.alerts).toHaveLength(1);
      expect(resolved.alerts[0]).toMatchObject({ status: "resolved", dedupKey: alert!.dedupKey, occurredAt: endsAt });
      parseAlert(resolved.alerts[0]);
    },
    WAIT_MS * 3,
  );
});
