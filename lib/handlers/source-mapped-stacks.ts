/**
 * Stack traces that point at the TypeScript sources, with the source map read only when a stack
 * is first formatted. Node's --enable-source-maps reads and indexes the map of a bundle at import
 * (about a fifth of a function's cold load, issue 15), though most invocations format no stack.
 * Each frame is written as Node's own source-mapped trace writes it
 * (lib/internal/source_map/prepare_stack_trace.js).
 */
import { existsSync, readFileSync } from "node:fs";
import { SourceMap, type SourceMapping } from "node:module";
import { fileURLToPath } from "node:url";

type CallSite = NodeJS.CallSite;
/** Node's entries carry the range's name too; an empty object when nothing maps there. */
type Entry = Partial<SourceMapping & { name: string }>;

/** The entry at a 1-based stack position. */
const entryAt = (map: SourceMap, line: number | null, column: number | null): Entry => map.findEntry((line ?? 0) - 1, (column ?? 0) - 1);

/**
 * The bundle this module was built into (esbuild keeps import.meta.url). Its entry and its chunks
 * sit in one directory, each with its map beside it.
 */
const ownMapPath = `${fileURLToPath(import.meta.url)}.map`;
const bundleDir = new URL(".", import.meta.url).href;
const maps = new Map<string, SourceMap | null>();

function sourceMapOf(fileName: string | null): SourceMap | null {
  if (!fileName?.startsWith(bundleDir) || fileName.includes("/", bundleDir.length)) return null;
  let map = maps.get(fileName);
  if (map === undefined) {
    try {
      const payload = JSON.parse(readFileSync(`${fileURLToPath(fileName)}.map`, "utf8")) as SourceMap["payload"];
      // As Node resolves them: relative to the map, printed as paths.
      const sources = payload.sources.map((source) => new URL(source, fileName).href);
      map = new SourceMap({ ...payload, sources, sourceRoot: "" });
    } catch {
      map = null; // An unreadable map leaves the frames as they are.
    }
    maps.set(fileName, map);
  }
  return map;
}

/** The enclosing function's name as the source had it (a minifier renames it). */
function originalSymbolName(map: SourceMap, site: CallSite, caller: CallSite | undefined): string | undefined {
  const enclosing = entryAt(map, site.getEnclosingLineNumber(), site.getEnclosingColumnNumber());
  if (enclosing.name) return enclosing.name;
  if (!caller || caller.getFileName() !== site.getFileName()) return undefined;
  return entryAt(map, caller.getLineNumber(), caller.getColumnNumber()).name;
}

function frame(site: CallSite, caller: CallSite | undefined): string {
  const map = sourceMapOf(site.getFileName());
  if (!map) return `${site}`;
  const entry = entryAt(map, site.getLineNumber(), site.getColumnNumber());
  if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return `${site}`;
  const prefix = site.isAsync() ? "async " : site.isConstructor() ? "new " : "";
  const typeName = site.getTypeName();
  const namePrefix = typeName !== null && typeName !== "global" ? `${typeName}.` : "";
  const name = originalSymbolName(map, site, caller) || (site.getFunctionName() ?? site.getMethodName()) || "<anonymous>";
  const source = entry.originalSource.startsWith("file://") ? fileURLToPath(entry.originalSource) : entry.originalSource;
  return `${prefix}${namePrefix}${name} (${source}:${entry.originalLine + 1}:${entry.originalColumn + 1})`;
}

function heading(error: Error): string {
  // Node's own errors (ERR_*) read "TypeError [ERR_X]: message", as Node writes them.
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("ERR_")) return `${error.name} [${code}]: ${error.message}`;
  return Error.prototype.toString.call(error);
}

/**
 * Formats stacks through the maps of the bundle this module is in. Does nothing unbundled (no map
 * beside the module: tests, the local stack) or when Node maps stacks itself (--enable-source-maps).
 */
export function installSourceMappedStacks(): void {
  if (process.sourceMapsEnabled || !existsSync(ownMapPath)) return;
  Error.prepareStackTrace = (error, sites) => {
    if (sites.length === 0) return heading(error);
    return `${heading(error)}${sites.map((site, index) => `\n    at ${frame(site, sites[index + 1])}`).join("")}`;
  };
}
