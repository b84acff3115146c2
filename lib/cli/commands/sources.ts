import { adapters } from "../../adapters/registry.ts";
import { parseFlags } from "../flags.ts";
import { EXIT, type Command } from "../io.ts";

export const sourcesCommand: Command = {
  name: "sources",
  summary: "list the registered adapters",
  usage: "alert-relay sources [--json]",
  async run(args, io) {
    const { values } = parseFlags(args, { json: { type: "boolean" } });
    if (values.json) {
      io.out(JSON.stringify(adapters.map(({ name, description, transports }) => ({ name, description, transports }))));
      return EXIT.ok;
    }
    const width = Math.max(...adapters.map((a) => a.name.length));
    for (const adapter of adapters) {
      io.out(`${adapter.name.padEnd(width)}  ${adapter.description}  [${adapter.transports.join(", ")}]`);
    }
    return EXIT.ok;
  },
};
