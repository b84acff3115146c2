/**
 * The local stand-in for API Gateway: `POST /webhooks/<source>` to each adapter's real handler,
 * POST routes at fixed paths (the PagerDuty-compatible `/v2/enqueue`), `GET /healthz`, and a 404
 * that lists what is there. The adapter handler decides everything
 * about a payload (auth, size, shape); this only turns HTTP into the Lambda event and back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { toApiGatewayEvent } from "./api-gateway-event.ts";
import { lambdaContext } from "./lambda-context.ts";
import { LOCAL_HOST } from "./settings.ts";

export interface WebhookRoute {
  /** The adapter's name: the route is `/webhooks/<name>`. */
  name: string;
  description: string;
  handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;
}

/** A POST route at a fixed path, e.g. the PagerDuty-compatible `/v2/enqueue`, to its handler. */
export interface PathRoute {
  path: string;
  /** Names the local function (its context's function name). */
  name: string;
  description: string;
  handler: WebhookRoute["handler"];
}

export interface HealthReport {
  ok: boolean;
  [detail: string]: unknown;
}

export interface ServerOptions {
  /** 0 picks a free port. */
  port: number;
  webhooks: readonly WebhookRoute[];
  /** POST routes at fixed paths besides `/webhooks/<source>`. */
  routes?: readonly PathRoute[];
  health: () => Promise<HealthReport>;
  /** The adapter function's timeout, for the context's remaining time. */
  adapterTimeoutMs: number;
  /** Where a handler that throws is reported (Lambda would log it). */
  onError?: (error: unknown, route: string) => void;
}

export interface LocalServer {
  url: string;
  port: number;
  /** Requests received so far (the memory trim watches it to know when the stack is quiet). */
  requests(): number;
  close(): Promise<void>;
}

/** API Gateway's own payload limit; the adapter handler's (1 MiB) is the one that normally answers. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export class PortInUseError extends Error {
  readonly port: number;
  constructor(port: number) {
    super(
      `port ${port} is already in use (another "npm start"?): stop whatever listens ` +
        `there, or pick another port with --port <n> or PORT=<n>`,
    );
    this.name = "PortInUseError";
    this.port = port;
  }
}

const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/;

export async function startServer(options: ServerOptions): Promise<LocalServer> {
  const byName = new Map(options.webhooks.map((route) => [route.name, route]));
  const byPath = new Map((options.routes ?? []).map((route) => [route.path, route]));
  const routeList = [
    ...options.webhooks.map((route) => `POST /webhooks/${route.name} — ${route.description}`),
    ...[...byPath.values()].map((route) => `POST ${route.path} — ${route.description}`),
    "GET /healthz — status of the emulators, the poller and the sweep",
  ];
  const onError = options.onError ?? ((error: unknown, route: string) => console.error(`${route} failed:`, error));

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    const webhook = WEBHOOK_PATH.exec(path);
    if (webhook) {
      const route = byName.get(decodeURIComponent(webhook[1]!));
      if (route) return invoke(route, `POST /webhooks/${route.name}`, req, res, body);
      return send(res, 404, {
        error: `no adapter named "${webhook[1]}"`,
        // The registry is read once, at start: an adapter added since is unknown until a restart.
        hint:
          `if you just added lib/adapters/${webhook[1]}/ and registered it in ` +
          `lib/adapters/registry.ts, restart npm start: it reads the registry when it starts`,
        adapters: [...byName.keys()],
        routes: routeList,
      });
    }
    const fixed = byPath.get(path.replace(/(.)\/+$/, "$1"));
    if (fixed) return invoke(fixed, `POST ${fixed.path}`, req, res, body);
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      const report = await options.health();
      return send(res, report.ok ? 200 : 503, report);
    }
    return send(res, 404, { error: `no route for ${req.method} ${path}`, routes: routeList });
  }

  async function invoke(
    route: Pick<WebhookRoute, "name" | "handler">,
    routeKey: string,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
  ): Promise<void> {
    const event = toApiGatewayEvent(
      {
        method: req.method ?? "POST",
        url: req.url ?? "/",
        headers: req.headers,
        body,
        sourceIp: req.socket.remoteAddress ?? LOCAL_HOST,
        httpVersion: req.httpVersion,
      },
      routeKey,
    );
    let result: unknown;
    try {
      result = await route.handler(event, lambdaContext(`alert-relay-${route.name}-local`, options.adapterTimeoutMs));
    } catch (error) {
      onError(error, routeKey);
      return send(res, 500, { message: "Internal Server Error" });
    }
    writeResult(res, result);
  }

  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= GATEWAY_MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      if (bytes > GATEWAY_MAX_BODY_BYTES) return send(res, 413, { message: "Request Entity Too Large" });
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        onError(error, `${req.method} ${req.url}`);
        if (!res.headersSent) send(res, 500, { message: "Internal Server Error" });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(error.code === "EADDRINUSE" ? new PortInUseError(options.port) : error));
    server.listen(options.port, LOCAL_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://${LOCAL_HOST}:${port}`, port, requests: () => requests, close: () => closeGracefully(server) };
}

/**
 * What API Gateway makes of a Lambda result (payload format 2.0): a structured result as is;
 * anything else becomes a 200 with the value as JSON.
 */
function writeResult(res: ServerResponse, result: unknown): void {
  if (!isStructured(result)) return send(res, 200, result ?? null);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  const body = result.body === undefined ? "" : result.isBase64Encoded ? Buffer.from(result.body, "base64") : result.body;
  res.writeHead(result.statusCode ?? 200, headers).end(body);
}

function isStructured(result: unknown): result is APIGatewayProxyStructuredResultV2 {
  return typeof result === "object" && result !== null && typeof (result as { statusCode?: unknown }).statusCode === "number";
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body, null, 2)}\n`);
}

/** Lets requests in progress finish, then drops idle keep-alive connections so close() returns. */
async function closeGracefully(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), 2_000);
  await closed;
  clearTimeout(timer);
}
