import { afterEach, describe, expect, it } from "vitest";
import { consoleText } from "../../../lib/local/console-text.ts";
import { forgetSecrets, rememberSecret } from "../../../lib/platform/redact.ts";

afterEach(() => forgetSecrets());

describe("console lines of the local stack", () => {
  it("show control characters and bidi overrides as escapes, keep newlines and tabs, and redact credentials", () => {
    rememberSecret("local-webhook-token-123");
    const line = consoleText("TRIGGER  \u001b[2J\u001b[H cleared\u202Eexe.txt [dedup a\u0000b] local-webhook-token-123\n\tat stack");
    expect(line).toBe("TRIGGER  \\u001b[2J\\u001b[H cleared\\u202eexe.txt [dedup a\\u0000b] (redacted)\n\tat stack");
  });
});
