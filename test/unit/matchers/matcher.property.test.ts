import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatMatcher, matches, matchesValue, parseMatcher, type Matcher } from "../../../lib/matchers/matcher.ts";

/** Characters chosen to hit every quoting and escaping rule, plus non-ASCII and astral text. */
const TRICKY = Array.from('ab Z09"\\\n\t,=~!{}.*|é😀');
const NAME_CHARS = Array.from("abcXYZ019_.-:/,{}@é");

const name = fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 12 }).filter((text) => !text.startsWith("{"));
const value = fc.string({ unit: fc.constantFrom(...TRICKY), maxLength: 16 });
/** Regexes that compile and pass the backtracking check: alternations of words, optionally with wildcards. */
const regexSource = fc
  .tuple(
    fc.array(fc.stringMatching(/^[a-z0-9-]{1,6}$/), { minLength: 1, maxLength: 4 }),
    fc.constantFrom("", ".*", "\\.[a-z]+", "(-[0-9]+)?"),
  )
  .map(([words, suffix]) => `(?:${words.join("|")})${suffix}`);

const plainMatcher = fc.record({ name, op: fc.constantFrom("=" as const, "!=" as const), value });
const regexMatcher = fc.record({ name, op: fc.constantFrom("=~" as const, "!~" as const), value: regexSource });

/** A label value that sometimes equals the matcher's value and is sometimes absent. */
function subjectValue(near: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(fc.constant(near), fc.constant(undefined), fc.constant(""), value, fc.stringMatching(/^[a-z0-9.-]{0,10}$/));
}

describe("matcher properties", () => {
  it("parse(format(m)) gives back m for = and !=", () => {
    fc.assert(
      fc.property(plainMatcher, (matcher) => {
        expect(parseMatcher(formatMatcher(matcher))).toEqual(matcher);
      }),
    );
  });

  it("parse(format(m)) gives back m for =~ and !~, with the same compiled regex", () => {
    fc.assert(
      fc.property(regexMatcher, (matcher) => {
        const parsed = parseMatcher(formatMatcher(matcher));
        expect({ name: parsed.name, op: parsed.op, value: parsed.value }).toEqual(matcher);
        expect(parsed.regex?.source).toBe(`^(?:${matcher.value})$`);
      }),
    );
  });

  it("= and != are complements on every value, absent included", () => {
    fc.assert(
      fc.property(
        name,
        value.chain((v) => fc.tuple(fc.constant(v), subjectValue(v))),
        (label, [expected, actual]) => {
          const equal = parseMatcher(formatMatcher({ name: label, op: "=", value: expected }));
          const notEqual = parseMatcher(formatMatcher({ name: label, op: "!=", value: expected }));
          expect(matchesValue(equal, actual)).toBe(!matchesValue(notEqual, actual));
        },
      ),
    );
  });

  it("=~ and !~ are complements on every value, absent included", () => {
    fc.assert(
      fc.property(
        name,
        regexSource,
        fc.oneof(fc.constant(undefined), value, fc.stringMatching(/^[a-z0-9.-]{0,10}$/)),
        (label, regex, actual) => {
          const [match, noMatch] = (["=~", "!~"] as const).map((op) => parseMatcher(formatMatcher({ name: label, op, value: regex })));
          expect(matchesValue(match as Matcher, actual)).toBe(!matchesValue(noMatch as Matcher, actual));
        },
      ),
    );
  });

  it("an absent label matches exactly as the empty string does", () => {
    fc.assert(
      fc.property(fc.oneof(plainMatcher, regexMatcher), (spec) => {
        const matcher = parseMatcher(formatMatcher(spec));
        expect(matches([matcher], {})).toBe(matches([matcher], { [spec.name]: "" }));
      }),
    );
  });
});
