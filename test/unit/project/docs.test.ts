/**
 * The README is a newcomer's first hour: short, and every link in it and in docs/ must work.
 * Links are checked against the files and headings they point at. The copy-paste window item:
 * test/integration/project/docs.test.ts.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const README_MAX_WORDS = 2_500;
const PAGES = [
  "README.md",
  ...readdirSync("docs")
    .filter((file) => file.endsWith(".md"))
    .map((file) => `docs/${file}`),
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add(
      heading!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    );
  }
  return anchors;
}

describe("README and docs", () => {
  it(`keeps the README under ${README_MAX_WORDS} words`, () => {
    const words = readFileSync("README.md", "utf8").split(/\s+/).filter(Boolean).length;
    expect(words).toBeLessThanOrEqual(README_MAX_WORDS);
  });

  it("puts the two commands on the README's first screen", () => {
    const firstScreen = readFileSync("README.md", "utf8").split("\n").slice(0, 15).join("\n");
    expect(firstScreen).toContain("npm install && npm start");
    expect(firstScreen).toContain("npm test");
  });

  it.each(PAGES)("%s links only to files and headings that exist", (page) => {
    const text = readFileSync(page, "utf8");
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // http(s), mailto
      const [path, anchor] = target!.split("#") as [string, string | undefined];
      const file = path === "" ? page : normalize(join(dirname(page), path));
      if (!existsSync(file)) {
        broken.push(`${target} (no ${file})`);
        continue;
      }
      if (anchor && file.endsWith(".md") && !anchorsOf(readFileSync(file, "utf8")).has(anchor))
        broken.push(`${target} (no heading #${anchor} in ${file})`);
    }
    expect(broken).toEqual([]);
  });
});
