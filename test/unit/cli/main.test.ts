/** Dispatch: help, unknown commands and flags, with no stack behind the CLI. */
import { describe, expect, it } from "vitest";
import { commands } from "../../../lib/cli/main.ts";
import { runCaptured } from "../../support/cli-run.ts";

const words = (name: string) => name.split(" ");

describe("help and usage errors", () => {
  it.each(commands.map((command) => [command.name, command] as const))(
    "%s --help prints its summary and usage, exit 0",
    async (name, command) => {
      const run = await runCaptured([...words(name), "--help"]);
      expect(run.code).toBe(0);
      expect(run.out).toContain(command.summary);
      expect(run.out).toContain(`usage: ${command.usage}`);
    },
  );

  it("explains where the ops commands act in their help", async () => {
    for (const name of ["suppress add", "suppress list", "state show", "dlq redrive", "send"]) {
      expect((await runCaptured([...words(name), "--help"])).out).toContain("--stack <name>");
    }
  });

  it("lists every command with --help, and exits 2 when no command is named", async () => {
    const help = await runCaptured(["--help"]);
    expect(help.code).toBe(0);
    for (const command of commands) expect(help.out).toContain(command.name);
    expect((await runCaptured([])).code).toBe(2);
  });

  it("lists a group's commands for `suppress --help`, and exits 2 for a bare `suppress`", async () => {
    const help = await runCaptured(["suppress", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/suppress add.*\n.*suppress list.*\n.*suppress end.*\n.*suppress validate/);
    const bare = await runCaptured(["suppress"]);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain("suppress validate");
  });

  it("names an unknown command and the known ones, exit 2", async () => {
    const run = await runCaptured(["frobnicate"]);
    expect(run.code).toBe(2);
    expect(run.err).toContain('unknown command "frobnicate"; commands: suppress, state, dlq, send, normalize, sources');
    const sub = await runCaptured(["dlq", "purge"]);
    expect(sub.code).toBe(2);
    expect(sub.err).toContain('unknown command "dlq purge"; dlq commands: list, redrive');
  });

  it.each(commands.map((command) => [command.name] as const))("%s names an unknown flag, exit 2", async (name) => {
    const run = await runCaptured([...words(name), "--frobnicate"]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(`alert-relay ${name}: unknown option --frobnicate`);
    expect(run.err).toContain("usage: alert-relay");
  });

  it("names a flag that is missing its value", async () => {
    for (const argv of [["--reason"], ["--reason", "--json"]]) {
      const run = await runCaptured(["suppress", "add", "--match", "a=b", "--for", "1h", ...argv]);
      expect(run.code).toBe(2);
      expect(run.err).toContain("alert-relay suppress add: --reason needs a value (one that starts with - is written --reason=<value>)");
    }
  });
});
