// Text the platform stores: refused in linear time when it is too long or holds what PostgreSQL
// cannot store (NUL, a lone surrogate), whatever its length.
import { describe, expect, it } from '@jest/globals';
import { nameText, searchText } from '../api/routes/schemas.ts';
import { replyTemplatesSchema } from '../core/lead-conversation/conversation-settings.ts';
import { storableText, WITHOUT_NUL } from '../core/text-patterns.ts';

const millisecondsOf = (run: () => unknown) => {
  const started = performance.now();
  run();
  return performance.now() - started;
};

describe('storable text', () => {
  it('refuses NUL, even exactly one, and lone surrogates; keeps emoji and other scripts', () => {
    const name = nameText(200);
    for (const bad of ['a\u0000b', '\u0000', 'x\uD800', '\uDC00x', 'a\uDC00\uD800b', '   ']) expect(name.safeParse(bad).success).toBe(false);
    for (const good of ['Ana 😀', 'Padaria São João', '山田', ' x ']) expect(name.safeParse(good).success).toBe(true);
    expect(replyTemplatesSchema.safeParse({ greeting: 'Olá \uD83D' }).success).toBe(false);
    expect(searchText.safeParse('a\u0000').success).toBe(false);
  });

  it('refuses a worst-case over-long name in linear time: the length check runs first, the pattern is one pass', () => {
    // Two unbounded runs around one character: 99,000 characters and two NULs took 8.6 s to refuse.
    const hostile = `${'a'.repeat(99_000)}\u0000\u0000`;
    const name = nameText(200);
    // Generous: the quadratic pattern took seconds on this input, the linear check well under 1 ms.
    expect(millisecondsOf(() => expect(name.safeParse(hostile).success).toBe(false))).toBeLessThan(500);
    // The pattern on its own, on the same input: linear as well (a few ms for 99,000 characters).
    expect(millisecondsOf(() => expect(WITHOUT_NUL.test(hostile)).toBe(false))).toBeLessThan(500);
    // An image keyword of 150,000 characters took 19.2 s; and the surrogate check on a long text.
    expect(millisecondsOf(() => expect(nameText(50).safeParse(`${'k'.repeat(150_000)}\u0000`).success).toBe(false))).toBeLessThan(500);
    expect(millisecondsOf(() => expect(storableText({ max: 200_000 }).safeParse(`${'a'.repeat(150_000)}\uD800`).success).toBe(false))).toBeLessThan(500);
  });
});
