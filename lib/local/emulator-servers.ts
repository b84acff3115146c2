/**
 * The two emulators as HTTP servers on loopback. Each runs on a worker thread of its own (see
 * emulator-worker.ts), like the services they stand in for, so their CPU is not the handlers'.
 */
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { createSqsServer } from "local-aws-sqs";
import { LOCAL_HOST, LOCAL_REGION } from "./settings.ts";

/** dynalite ships no type declarations; this is the part of its API used here. */
type DynaliteFactory = (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
const requireHere = createRequire(import.meta.url);
const dynalite = requireHere("dynalite") as DynaliteFactory;
/** dynalite's own LevelDB binding, to try the lock before dynalite opens the store. */
type LevelFactory = new (path: string) => { open(): Promise<void>; close(): Promise<void> };
const { Level } = createRequire(requireHere.resolve("dynalite"))("level") as { Level: LevelFactory };

export type EmulatorKind = "dynamodb" | "sqs";

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export class DataDirInUseError extends Error {
  constructor(path: string, cause?: unknown) {
    super(
      `${path} is locked by another running local stack (another "npm start" with the ` +
        `same --data-dir?): stop that one, or pick another --data-dir`,
      { cause },
    );
    this.name = "DataDirInUseError";
  }
}

/**
 * dynalite reads every Query and Scan through a stream that closes its store iterator with
 * `iterator.return()` when the stream ends, but abstract-level 3's iterators have `close()` and no
 * `return()`: every Query and Scan left its iterator open. An open LevelDB iterator pins the
 * memtables and table files of its moment (4 MB and more each, native memory), an open
 * memory-level one a snapshot of the whole store; the store also keeps each as a resource.
 * Measured: ~900 MB held after 20,000 alerts. Giving iterators the `return()` dynalite calls closes
 * them when their stream ends. Runs on the emulator's own thread (its own module instances).
 */
function closeStoreIteratorsWhenStreamsEnd(): void {
  const requireStore = createRequire(requireHere.resolve("dynalite"));
  const abstractLevel = createRequire(requireStore.resolve("level"))("abstract-level") as {
    AbstractIterator: { prototype: { return?: () => Promise<void>; close(): Promise<void> } };
    AbstractValueIterator: { prototype: { return?: () => Promise<void>; close(): Promise<void> } };
    AbstractKeyIterator: { prototype: { return?: () => Promise<void>; close(): Promise<void> } };
  };
  for (const iterator of [abstractLevel.AbstractIterator, abstractLevel.AbstractValueIterator, abstractLevel.AbstractKeyIterator]) {
    iterator.prototype.return ??= function (this: { close(): Promise<void> }) {
      return this.close();
    };
  }
}

/** DynamoDB in memory, or in LevelDB files under `path`. */
export async function startDynamodbServer(path: string | undefined): Promise<RunningServer> {
  closeStoreIteratorsWhenStreamsEnd();
  if (path) {
    mkdirSync(path, { recursive: true });
    await checkStoreFree(path);
  }
  // Tables are ACTIVE at once: nothing here gains from emulating the seconds AWS takes.
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOCAL_HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return running(server);
}

/** SQS, always in memory (local-aws-sqs keeps no files). */
export async function startSqsServer(): Promise<RunningServer> {
  return running(await createSqsServer({ port: 0, hostname: LOCAL_HOST, region: LOCAL_REGION, emulateQueueCreationLifecycle: false }));
}

function running(server: Server): RunningServer {
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // SDK clients keep connections alive, and close() waits for every open connection.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * dynalite throws a store that failed to open out of a request callback, which would take its
 * thread down on the first request; opening it once here turns that into an error.
 */
async function checkStoreFree(path: string): Promise<void> {
  const store = new Level(path);
  try {
    await store.open();
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === "LEVEL_LOCKED") throw new DataDirInUseError(path, error);
    throw new Error(`the DynamoDB data in ${path} cannot be opened (${(error as Error).message}); move it away to start afresh`, {
      cause: error,
    });
  }
  await store.close();
}
