/**
 * The unit lane's rule, enforced (a setup file of the unit project): a unit test opens no port
 * and starts no process. dynalite, local SQS, the fake PagerDuty and local servers all listen;
 * a local stack, esbuild and Alertmanager are processes. A misfiled test fails here, by name,
 * instead of slowing every `npm run test:unit`.
 */
import { createRequire, syncBuiltinESMExports } from "node:module";
import { Server } from "node:net";

const LANES = "it belongs in test/integration (emulators, servers) or test/e2e, test/faults, test/infra (processes)";
const refuse = (what: string) =>
  function refused(): never {
    throw new Error(`a unit test must not ${what}: ${LANES}`);
  };

Server.prototype.listen = refuse("listen on a port (an emulator, a server)");
const childProcess = createRequire(import.meta.url)("node:child_process") as Record<string, unknown>;
for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
  childProcess[name] = refuse(`start a process (child_process.${name})`);
}
// ESM named imports of node:child_process read the patched functions too.
syncBuiltinESMExports();
