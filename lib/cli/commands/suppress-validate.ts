import { RESOURCE_OPTIONS, WHERE_OPTIONS, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { plural, printable } from "../format.ts";
import { EXIT, type Command } from "../io.ts";
import { loadListedWindows } from "../windows.ts";

const OPTIONS = { ...WHERE_OPTIONS, ...RESOURCE_OPTIONS.windowsTable } as const;

export const suppressValidateCommand: Command = {
  name: "suppress validate",
  summary: "check every item in the windows table; exit 1 if any is malformed",
  usage: "alert-relay suppress validate",
  details: [
    "A malformed item is ignored by the router: it suppresses nothing. This names each one and what to fix.",
    "Exit codes: 0 every item is a valid window, 1 at least one is malformed (or the table could not be read).",
    "",
    whereHelp(["windowsTable"]),
  ].join("\n"),

  async run(args, io) {
    const { values } = parseFlags(args, OPTIONS);
    return withTarget(io, values, ["windowsTable"], async (target) => {
      const all = await loadListedWindows(target, io.now());
      const malformed = all.filter((listed) => listed.state === "malformed");
      for (const window of malformed) {
        io.out(`MALFORMED ${printable(window.id)}:`);
        for (const problem of window.problems ?? []) io.out(`  - ${printable(problem)}`);
      }
      const where = `in the ${target.description} (table ${target.windowsTable})`;
      if (malformed.length === 0) {
        io.out(`${plural(all.length, "window")} checked ${where}: all valid.`);
        return EXIT.ok;
      }
      io.out(
        `${plural(all.length, "window")} checked ${where}: ${all.length - malformed.length} valid, ${malformed.length} malformed ` +
          `(ignored by the router: ${malformed.length === 1 ? "it suppresses" : "they suppress"} nothing until fixed).`,
      );
      return EXIT.failed;
    });
  },
};
