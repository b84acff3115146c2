/**
 * Worker thread entry: runs one emulator (workerData.kind) and reports its port, or why it did
 * not start; closes it on "stop".
 */
import { parentPort, workerData } from "node:worker_threads";
import { startDynamodbServer, startSqsServer, type EmulatorKind } from "./emulator-servers.ts";

export type WorkerReport = { port: number } | { error: { name: string; message: string } } | { stopped: true };

const { kind, path } = workerData as { kind: EmulatorKind; path?: string };
const port = parentPort!;

try {
  const server = kind === "dynamodb" ? await startDynamodbServer(path) : await startSqsServer();
  port.on("message", async (message) => {
    if (message !== "stop") return;
    await server.close();
    port.postMessage({ stopped: true } satisfies WorkerReport);
    port.close();
  });
  port.postMessage({ port: server.port } satisfies WorkerReport);
} catch (error) {
  port.postMessage({ error: { name: (error as Error).name, message: (error as Error).message } } satisfies WorkerReport);
  port.close();
}
