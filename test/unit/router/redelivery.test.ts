/** How long a message that must wait stays away before its next receive. */
import { describe, expect, it } from "vitest";
import { redeliveryDelaySeconds, type RedeliveryPolicy } from "../../../lib/router/redelivery.ts";

describe("redelivery delay", () => {
  const policy: RedeliveryPolicy = { baseMs: 1_000, maxMs: 60_000, giveUpAfterMs: 3_600_000 };
  it("doubles per receive within [half, whole] of the ceiling, caps, and never undercuts Retry-After", () => {
    expect(redeliveryDelaySeconds(1, undefined, policy, () => 0)).toBe(1);
    expect(redeliveryDelaySeconds(4, undefined, policy, () => 0)).toBe(4);
    expect(redeliveryDelaySeconds(4, undefined, policy, () => 0.999)).toBe(8);
    expect(redeliveryDelaySeconds(50, undefined, policy, () => 0.999)).toBe(60);
    expect(redeliveryDelaySeconds(50, undefined, policy, () => 0)).toBe(30);
    expect(redeliveryDelaySeconds(1, 5_000, policy, () => 0)).toBe(5);
    expect(redeliveryDelaySeconds(1, 3_600_000, policy, () => 0)).toBe(900);
  });
});
