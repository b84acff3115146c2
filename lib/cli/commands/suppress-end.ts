import { PIPELINE } from "../../handlers/pipeline.ts";
import { windowStoreOf } from "../windows.ts";
import { WindowNotFoundError } from "../../suppression/dynamo-window-store.ts";
import { RESOURCE_OPTIONS, WHERE_OPTIONS, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { dateOf, isoSeconds, printable, when } from "../format.ts";
import { EXIT, UsageError, type Command } from "../io.ts";

const OPTIONS = { ...WHERE_OPTIONS, ...RESOURCE_OPTIONS.windowsTable } as const;

export const suppressEndCommand: Command = {
  name: "suppress end",
  summary: "end a suppression window now (it stays in the table as history)",
  usage: "alert-relay suppress end <id>",
  details: [
    "Sets the window's endsAt to now; a window that has not started yet gets an empty span.",
    "Routers stop applying it within ~15 s; problems it held back that are still firing are paged by the next sweep.",
    "",
    whereHelp(["windowsTable"]),
  ].join("\n"),

  async run(args, io) {
    const { values, positionals } = parseFlags(args, OPTIONS, true);
    const [id, ...extra] = positionals;
    if (!id) throw new UsageError("name the window to end (alert-relay suppress list shows the ids)");
    if (extra.length > 0)
      throw new UsageError(`end one window at a time; unexpected ${extra.map((text) => JSON.stringify(text)).join(" ")}`);
    return withTarget(io, values, ["windowsTable"], async (target) => {
      const now = io.now();
      const store = windowStoreOf(target);
      let result: Awaited<ReturnType<typeof store.end>>;
      try {
        result = await store.end(id, now);
      } catch (error) {
        if (error instanceof WindowNotFoundError) {
          io.err(`${error.message} in the ${target.description}; alert-relay suppress list --all shows every window`);
          return EXIT.failed;
        }
        throw error;
      }
      const endedAt = dateOf(result.item.endsAt);
      if (!result.changed) {
        io.out(`Window ${printable(id)} already ended${endedAt ? ` at ${when(endedAt, now)}` : ""}; nothing changed.`);
        return EXIT.ok;
      }
      io.out(`Ended suppression window ${printable(id)} at ${isoSeconds(now)} in the ${target.description}.`);
      if (result.item.enabled === false) io.out("(It was disabled already, so it was not suppressing anything.)");
      io.out(
        `Routers stop applying it within ~${PIPELINE.windowRefreshSeconds} s; problems it held back that are ` +
          `still firing are paged by the sweep within ~${PIPELINE.sweepIntervalSeconds} s.`,
      );
      return EXIT.ok;
    });
  },
};
