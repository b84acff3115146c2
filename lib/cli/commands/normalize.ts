import { adapterNames, findAdapter } from "../../adapters/registry.ts";
import { normalizeText } from "../../ingest/normalize-payload.ts";
import { parseFlags } from "../flags.ts";
import { toJson } from "../format.ts";
import { EXIT, UsageError, type Command } from "../io.ts";

export const normalizeCommand: Command = {
  name: "normalize",
  summary: "print the normalized alerts of one raw payload (indented on a terminal, one JSON per line in a pipe)",
  usage: "alert-relay normalize <source> [file|-]   (reads standard input when the file is - or absent)",
  async run(args, io) {
    const { positionals } = parseFlags(args, {}, true);
    const [source, file = "-", ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.map((text) => JSON.stringify(text)).join(" ")}: one source, one file`);
    if (!source) throw new UsageError(`name a source: ${adapterNames().join(", ")}`);
    const adapter = findAdapter(source);
    if (!adapter) throw new UsageError(`unknown source "${source}"; registered: ${adapterNames().join(", ")}`);
    let text: string;
    try {
      text = file === "-" ? await io.readStdin() : await io.readFile(file);
    } catch (error) {
      io.err(`cannot read ${file}: ${(error as Error).message}`);
      return EXIT.failed;
    }
    const config = adapter.config(io.env);
    const result = normalizeText(adapter, text, { receivedAt: io.now().toISOString(), config });
    if (!result.ok) {
      io.err(`rejected (${result.status} ${result.reason}): ${result.message}`);
      return EXIT.failed;
    }
    if (result.notice) io.err(result.notice);
    // A person at a terminal reads indented JSON; a pipe (jq, grep, a file) keeps one alert per line.
    for (const alert of result.alerts) io.out(io.stdoutIsTTY ? toJson(alert) : JSON.stringify(alert));
    return EXIT.ok;
  },
};
