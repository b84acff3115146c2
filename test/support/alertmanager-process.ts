/**
 * A real Alertmanager (Debian's `prometheus-alertmanager`, or the binary named by
 * ALERTMANAGER_BIN) for interop tests: started on loopback with a given config, clustering off,
 * alerts posted through its API v2. Tests skip when no binary is installed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export const ALERTMANAGER_WAIT_MS = 15_000;

export function findAlertmanager(): string | undefined {
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

export interface RunningAlertmanager {
  apiBase: string;
  /** POST /api/v2/alerts; throws unless Alertmanager answers 200. */
  postAlerts(alerts: unknown[]): Promise<void>;
  /** What it printed so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export async function startAlertmanager(binary: string, configYaml: string): Promise<RunningAlertmanager> {
  const workDir = mkdtempSync(join(tmpdir(), "alert-relay-am-"));
  writeFileSync(join(workDir, "alertmanager.yml"), configYaml);
  let log = "";
  const child: ChildProcess = spawn(
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
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Alertmanager did not start within ${ALERTMANAGER_WAIT_MS} ms:\n${log}`)),
        ALERTMANAGER_WAIT_MS,
      );
      const onOutput = (chunk: Buffer) => {
        log += chunk.toString("utf8");
        const match = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(log);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on("data", onOutput);
      child.stderr!.on("data", onOutput);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`Alertmanager exited with ${code}:\n${log}`));
      });
    });
    const apiBase = `http://${address}`;
    const deadline = Date.now() + ALERTMANAGER_WAIT_MS;
    while (
      !(await fetch(`${apiBase}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`Alertmanager not ready within ${ALERTMANAGER_WAIT_MS} ms:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return {
      apiBase,
      async postAlerts(alerts) {
        const response = await fetch(`${apiBase}/api/v2/alerts`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(alerts),
        });
        if (response.status !== 200) throw new Error(`Alertmanager refused the alerts: ${response.status} ${await response.text()}`);
      },
      log: () => log,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
