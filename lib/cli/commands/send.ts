import { adapterNames } from "../../adapters/registry.ts";
import { RESOURCE_OPTIONS, WHERE_OPTIONS, optionLines, parseFlags, whereHelp, withTarget } from "../flags.ts";
import { EXIT, UsageError, type Command } from "../io.ts";

const OPTIONS = { token: { type: "string" }, ...WHERE_OPTIONS, ...RESOURCE_OPTIONS.webhookBaseUrl } as const;

const TIMEOUT_MS = 30_000;

export const sendCommand: Command = {
  name: "send",
  summary: "POST a raw payload to a source's webhook and print the answer",
  usage: "alert-relay send <source> <file|-> [--url <base url>] [--token <token>]",
  details: [
    "Sends the payload as the monitoring tool would: POST <url>/webhooks/<source>, Content-Type: application/json.",
    "options:",
    ...optionLines([["--token <token>", "bearer token for the webhook (default: $WEBHOOK_TOKEN); never printed"]]),
    "Exit codes: 0 for a 2xx answer, 1 otherwise.",
    "",
    whereHelp(["webhookBaseUrl"]),
    "",
    "example:",
    "  alert-relay send prometheus lib/adapters/prometheus/fixtures/high-latency.firing.json",
  ].join("\n"),

  async run(args, io) {
    const { values, positionals } = parseFlags(args, OPTIONS, true);
    const [source, file, ...extra] = positionals;
    if (!source) throw new UsageError(`name a source: ${adapterNames().join(", ")}`);
    if (!file) throw new UsageError("name the payload file, or - for standard input");
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.map((text) => JSON.stringify(text)).join(" ")}`);
    if (!/^[a-z][a-z0-9-]*$/.test(source))
      throw new UsageError(`${JSON.stringify(source)} is not a source name (lowercase letters, digits and -)`);
    let body: string;
    try {
      body = file === "-" ? await io.readStdin() : await io.readFile(file);
    } catch (error) {
      io.err(`cannot read ${file}: ${(error as Error).message}`);
      return EXIT.failed;
    }
    const token = values.token ?? io.env.WEBHOOK_TOKEN;
    return withTarget(io, values, ["webhookBaseUrl"], async (target) => {
      const url = `${target.webhookBaseUrl.replace(/\/+$/, "")}/webhooks/${source}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const hint = values.url ? "" : `; is the ${target.description} running?`;
        io.err(`cannot reach ${withoutCredentials(url)}: ${cause?.code ?? cause?.message ?? (error as Error).message}${hint}`);
        return EXIT.failed;
      }
      const text = await response.text();
      io.out(`POST ${withoutCredentials(url)} → ${response.status} ${response.statusText}`);
      if (text) io.out(pretty(text));
      if (response.status === 401 || response.status === 403)
        io.err(
          token ? "the token was refused; check --token or WEBHOOK_TOKEN" : "the webhook wants a token: pass --token or set WEBHOOK_TOKEN",
        );
      if (response.status === 404) {
        io.err(
          adapterNames().includes(source)
            ? // Registered here but unknown there: the stack runs code from before the adapter was added.
              `${source} is registered in lib/adapters/registry.ts but the ${target.description} does not know it: ` +
                (values.url
                  ? "restart or redeploy what answers there"
                  : target.description.startsWith("local")
                    ? "restart npm start (it reads the registry when it starts)"
                    : "deploy again (npx cdk deploy)")
            : `no adapter named ${source}; registered: ${adapterNames().join(", ")}`,
        );
      }
      return response.ok ? EXIT.ok : EXIT.failed;
    });
  },
};

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A URL may carry user:password; the output may end up in a ticket. */
function withoutCredentials(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed || (!parsed.username && !parsed.password)) return url;
  parsed.username = "";
  parsed.password = "";
  return parsed.toString();
}
