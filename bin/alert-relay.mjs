#!/usr/bin/env node
// The CLI is TypeScript run by Node's type stripping (Node >= 22.18). npm scripts and npx already
// put the project's pinned Node 24 first on PATH; anything older re-runs under that pinned binary.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const [major, minor] = process.versions.node.split(".").map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  const { cliMain } = await import(main);
  await cliMain();
} else {
  const pinned = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`alert-relay needs Node.js 22.18 or newer (this is ${process.version}); run npm install to get the pinned Node 24`);
    process.exit(2);
  }
  const run = spawnSync(pinned, ["--disable-warning=ExperimentalWarning", main, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(run.status ?? 1);
}
