/** A minimal adapter for handler tests: `{ "alerts": [{ "key": "k", "status": "firing" }] }`. */
import * as z from "zod";
import { defineAdapter, parseShape } from "../../lib/adapters/define.ts";
import { buildAlert } from "../../lib/alert/build.ts";

const payloadSchema = z.object({
  notice: z.string().optional(),
  alerts: z.array(z.object({ key: z.string().min(1), status: z.enum(["firing", "resolved"]), summary: z.string().optional() })),
});

export const echoAdapter = defineAdapter({
  name: "echo",
  description: "test adapter",
  transports: ["http", "invoke"],
  config: (env) => ({ prefix: env.ECHO_PREFIX ?? "echo" }),
  normalize(payload, ctx) {
    const parsed = parseShape(payloadSchema, payload, "an echo payload");
    return {
      alerts: parsed.alerts.map((alert) =>
        buildAlert(
          {
            source: "echo",
            identity: `${ctx.config.prefix}:${alert.key}`,
            status: alert.status,
            severity: "warning",
            summary: [alert.summary, alert.key],
          },
          ctx,
        ),
      ),
      ...(parsed.notice ? { notice: parsed.notice } : {}),
    };
  },
});
