import { defineConfig } from "vitest/config";

/** A lane is a top folder of test/ and a vitest project: `npm run test:<lane>` runs one, `npm test` all. */
const lane = (name: string, test: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, include: [`test/${name}/**/*.test.ts`], ...test },
});

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Handlers log and emit metrics through Powertools; tests spy on them instead of printing them.
    env: { POWERTOOLS_LOG_LEVEL: "SILENT", POWERTOOLS_METRICS_DISABLED: "true", AWS_REGION: "us-east-1" },
    projects: [
      // Pure and fast: no emulator, server, process, synth or bundle (the guard fails a test that tries).
      // One module graph for all files (isolate: false) cuts the lane from ~60 s to ~20 s on 2 cores:
      // unit tests mock no modules and restore what they stub, and pass in shuffled order.
      lane("unit", { setupFiles: ["test/support/unit-lane-guard.ts"], pool: "threads", isolate: false }),
      // Embedded emulators (dynalite, local SQS) and in-process servers (the fake PagerDuty).
      lane("integration"),
      // The whole local stack, `npm start` as a process, a real Alertmanager.
      lane("e2e"),
      // Fault injection, fuzzing, crashes.
      lane("faults"),
      // CDK synth, function bundles, cold loads.
      lane("infra"),
    ],
  },
});
