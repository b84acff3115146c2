/** `npm start` as a person runs it: a child process, its banner, its exit codes and Ctrl-C. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait-for.ts";

const MAIN = fileURLToPath(new URL("../../lib/local/main.ts", import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "alert-relay-start-"));
  dirs.push(dir);
  return dir;
};

function start(args: string[]) {
  const env = { ...process.env, PAGERDUTY_ROUTING_KEY: "", PORT: "" };
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, exited };
}

describe("npm start (lib/local/main.ts)", () => {
  it("prints usage for --help and refuses a bad flag with exit code 2", async () => {
    const help = start(["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.output.stdout).toMatch(/^usage: npm start -- \[options\]/);
    const bad = start(["--port", "http"]);
    expect(await bad.exited).toBe(2);
    expect(bad.output.stderr).toMatch(/^--port must be a whole number from 0 to 65535, got "http"/);
  });

  it("names the port and the fix when the port is taken, and exits 1", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const dataDir = tempDir();
      const run = start(["--port", String(port), "--in-memory", "--data-dir", dataDir]);
      expect(await run.exited).toBe(1);
      expect(run.output.stderr.trim()).toBe(
        `alert-relay local stack did not start: port ${port} is already in use (another "npm start"?): ` +
          `stop whatever listens there, or pick another port with --port <n> or PORT=<n>`,
      );
      expect(existsSync(join(dataDir, "stack.json"))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it("starts, prints the banner, serves, and stops cleanly on SIGTERM, removing stack.json", async () => {
    const dataDir = tempDir();
    const run = start(["--port", "0", "--data-dir", dataDir, "--sweep-interval", "5", "--visibility-timeout", "10"]);
    try {
      await waitFor(() => run.output.stdout.includes("Ctrl-C stops everything."), 10_000, `the banner (stderr: ${run.output.stderr})`);
      const descriptor = JSON.parse(readFileSync(join(dataDir, "stack.json"), "utf8")) as {
        httpUrl: string;
        dataDir: string;
        outbox: string;
      };
      expect(descriptor).toMatchObject({ dataDir, outbox: join(dataDir, "outbox.jsonl") });
      expect(run.output.stdout).toContain(`prometheus  ${descriptor.httpUrl}/webhooks/prometheus`);
      expect(run.output.stdout).toContain("PagerDuty: DRY RUN");
      expect(run.output.stdout).toContain("visibility 10 s, retries back off to 30s, DLQ after 6h; sweep every 5 s");
      expect(run.output.stdout).toMatch(/curl -sS -X POST \S+\/webhooks\/prometheus/);
      expect((await fetch(`${descriptor.httpUrl}/healthz`)).status).toBe(200);
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
      expect(run.output.stdout).toMatch(/SIGTERM: stopping .*\nstopped\.\n$/);
      expect(existsSync(join(dataDir, "stack.json"))).toBe(false);
      expect(existsSync(join(dataDir, "dynamodb"))).toBe(true);
    } finally {
      run.child.kill("SIGKILL");
    }
  });
});
