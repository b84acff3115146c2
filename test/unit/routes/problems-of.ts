/** The problems a routes config is refused with (RoutesConfigError), for tests that check their wording. */
import { parseRoutesConfig, RoutesConfigError } from "../../../lib/routes/routes-config.ts";

export function problemsOf(value: unknown): readonly string[] {
  try {
    parseRoutesConfig(value);
  } catch (error) {
    if (error instanceof RoutesConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the config to be refused");
}
