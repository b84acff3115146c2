/**
 * What the local stack prints passes here first: credentials redacted (lib/platform/redact.ts) and
 * control characters and bidi overrides shown as escapes (lib/alert/limits.ts), so a summary or a
 * dedup key cannot clear the screen, move the cursor or reorder what a person reads.
 */
import { escapeUnsafe } from "../alert/limits.ts";
import { redactText } from "../platform/redact.ts";

/** A console line (or several: newlines and tabs of an error's stack stay). */
export function consoleText(text: string): string {
  return escapeUnsafe(redactText(text));
}

/** A print function that makes every line safe before it goes out. */
export function safePrinter(print: (line: string) => void): (line: string) => void {
  return (line) => print(consoleText(line));
}
