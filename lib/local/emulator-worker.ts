/**
 * Worker thread entry: runs one emulator (workerData.kind) and reports its port, or why it did
 * not start; closes it on "stop", releases unused heap on "trim".
 */
import { parentPort, workerData } from "node:worker_threads";
import { startDynamodbServer, startSqsServer, type EmulatorKind } from "./emulator-servers.ts";
import { releaseFreeHeap } from "./memory-trim.ts";

export type WorkerReport = { port: number } | { error: { name: string; message: string } } | { stopped: true };

const { kind, path } = workerData as { kind: EmulatorKind; path?: string };
const port = parentPort!;

try {
  const server = kind === "dynamodb" ? await startDynamodbServer(path) : await startSqsServer();
  port.on("message", async (message) => {
    // The stack is quiet: give back the heap a burst grew (memory-trim.ts).
    if (message === "trim") return void releaseFreeHeap();
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
