import { describe, expect, it } from "vitest";
import { isAuthorized } from "../../../lib/ingest/auth.ts";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("isAuthorized", () => {
  it("accepts the right bearer token, any scheme case", () => {
    expect(isAuthorized("Bearer s3cret", "s3cret")).toBe(true);
    expect(isAuthorized("bearer s3cret", "s3cret")).toBe(true);
  });
  it("refuses a wrong, longer, shorter or missing token", () => {
    expect(isAuthorized("Bearer s3cre", "s3cret")).toBe(false);
    expect(isAuthorized("Bearer s3cret!", "s3cret")).toBe(false);
    expect(isAuthorized("Bearer ", "s3cret")).toBe(false);
    expect(isAuthorized(undefined, "s3cret")).toBe(false);
    expect(isAuthorized("s3cret", "s3cret")).toBe(false);
  });
  it("accepts Basic auth with the token as password, whatever the user", () => {
    expect(isAuthorized(basic("alertmanager", "s3cret"), "s3cret")).toBe(true);
    expect(isAuthorized(basic("", "s3cret"), "s3cret")).toBe(true);
    expect(isAuthorized(basic("s3cret", "nope"), "s3cret")).toBe(false);
  });
  it("refuses a credential followed by anything else (trailing junk, a second token)", () => {
    expect(isAuthorized("Bearer s3cret extra", "s3cret")).toBe(false);
    expect(isAuthorized("Bearer s3cret s3cret", "s3cret")).toBe(false);
    expect(isAuthorized(`${basic("u", "s3cret")} extra`, "s3cret")).toBe(false);
    expect(isAuthorized(`Basic !!${Buffer.from("u:s3cret").toString("base64")}`, "s3cret")).toBe(false);
    // Surrounding whitespace is not junk.
    expect(isAuthorized("  Bearer s3cret  ", "s3cret")).toBe(true);
  });
  it("refuses unknown schemes", () => {
    expect(isAuthorized("Token s3cret", "s3cret")).toBe(false);
  });
});
