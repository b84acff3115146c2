/* global module */
/**
 * Import rules, checked by `npm run depcheck` (part of `npm test`). The folders of lib/ are layers
 * and imports run one way, from the top down:
 *
 *   cli, local                          people's entry points (local may use cli's formatting)
 *   handlers                            the Lambda/local wiring of every function (functions/ import only this)
 *   ingest, state-table                 HTTP ingest; the state table's owner and its DynamoDB stores
 *   heartbeat                           heartbeat rules (a wrapper around the router)
 *   router                              routing rules and their state machine, delivery, store ports
 *   routes, suppression                 routes config, route resolution, routing keys; windows
 *   matchers, pagerduty, messages,      Alertmanager matchers; outbound Events API client; queue message
 *   publish, adapters                   formats; SQS publisher; the source adapters
 *   alert, platform, ops                the alert contract; logging, settings, secrets; stack targets
 */
const LIB_FOLDERS_BELOW = {
  router: ["alert", "matchers", "messages", "pagerduty", "platform", "routes"],
  heartbeat: ["alert", "matchers", "platform", "router", "routes"],
  routes: ["alert", "matchers", "platform"],
  suppression: ["alert", "matchers", "platform"],
  matchers: ["alert"],
  pagerduty: ["alert", "platform"],
  messages: ["alert"],
  publish: ["alert", "platform"],
  adapters: ["alert"],
  alert: [],
  platform: [],
  ops: [],
};

/** One rule per lower layer: it may import only the folders listed for it (and itself). */
const layerRules = Object.entries(LIB_FOLDERS_BELOW).map(([folder, allowed]) => ({
  name: `layer-${folder}`,
  comment: `lib/${folder} may import only ${allowed.length ? allowed.map((name) => `lib/${name}`).join(", ") : "nothing else in lib"}`,
  severity: "error",
  from: { path: `^lib/${folder}/` },
  to: { path: "^(lib|functions|infra|bin|bench|test)/", pathNot: [`^lib/${folder}/`, ...allowed.map((name) => `^lib/${name}/`)] },
}));

module.exports = {
  forbidden: [
    {
      name: "no-folder-cycle",
      comment: "Folders import one way: a cycle between folders (e.g. router <-> heartbeat) is a layer inverted.",
      severity: "error",
      scope: "folder",
      from: { path: "^lib/" },
      to: { circular: true },
    },
    {
      name: "no-module-cycle",
      comment: "No file cycles either, except through type-only imports (erased at build time).",
      severity: "error",
      from: { path: "^(lib|functions|infra)/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    ...layerRules,
    {
      name: "cli-local-on-top",
      comment: "lib/cli and lib/local are entry points for people: nothing else in lib imports them.",
      severity: "error",
      from: { path: "^lib/", pathNot: "^lib/(cli|local)/" },
      to: { path: "^lib/(cli|local)/" },
    },
    {
      name: "handlers-only-from-entry-points",
      comment: "The wiring is used by functions/, the local stack, the CLI and the CDK stack, never by the rules it wires.",
      severity: "error",
      from: { path: "^lib/", pathNot: "^lib/(handlers|cli|local)/" },
      to: { path: "^lib/handlers/" },
    },
    {
      name: "state-table-from-wiring-only",
      comment: "Storage is reached through the ports in lib/router/stores.ts; only wiring and tools build the DynamoDB stores.",
      severity: "error",
      from: { path: "^lib/", pathNot: "^lib/(state-table|handlers|cli|local)/" },
      to: { path: "^lib/state-table/" },
    },
    {
      name: "functions-import-handlers-only",
      comment: "Each Lambda entry is a thin file over lib/handlers.",
      severity: "error",
      from: { path: "^functions/" },
      to: { path: "^(lib|infra)/", pathNot: "^lib/handlers/" },
    },
    {
      name: "lib-not-from-outside",
      comment: "lib/ does not import the CDK app, the Lambda entries, tests or benches.",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^(functions|infra|bin|bench|test)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["\\.test\\.ts$", "/fixtures/"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
