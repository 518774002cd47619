import { describe, expect, it } from 'vitest';
import { sharedSlice, sharedString, stringTableMisses } from '../../src/domain/index.js';

describe('string table', () => {
  // Strings are primitives: Object.is compares their text, so whether the table handed out the
  // string it holds is seen through its miss count, which grows only when it makes a new one.
  it('makes a string once for equal text and bytes, and always returns the right text', () => {
    const before = stringTableMisses();
    const a = sharedSlice('{"symbol":"ZZTOP"}', 11, 16);
    const b = sharedString(Buffer.from('xxZZTOPyy'), 2, 7);
    const c = sharedSlice('ZZTOP', 0, 5);
    expect([a, b, c], 'every lookup gives the text between the bounds').toEqual(['ZZTOP', 'ZZTOP', 'ZZTOP']);
    expect(stringTableMisses() - before, 'only the first lookup makes the string; text and bytes then find it').toBe(1);
    // Far more strings than slots: collisions and evictions must never return another string.
    const wrong: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 40_000; i++) {
        const want = `S${i.toString(36)}`;
        const got = i % 2 === 0 ? sharedSlice(`"${want}"`, 1, want.length + 1) : sharedString(Buffer.from(`"${want}"`), 1, want.length + 1);
        if (got !== want) wrong.push(`${want} -> ${got}`);
      }
    }
    expect(wrong.slice(0, 5), 'a table slot may be taken by another string, never returned for it').toEqual([]);
  });

  it('keeps every symbol of a 5,000-symbol universe: a second pass makes no string', () => {
    const names = Array.from({ length: 5_000 }, (_, i) => `X${String(i).padStart(4, '0')}`);
    for (const s of names) sharedSlice(`"${s}"`, 1, s.length + 1);
    const before = stringTableMisses();
    for (const s of names) sharedString(Buffer.from(` ${s} `), 1, s.length + 1);
    // The direct-mapped table this replaced missed 23 % of lookups over 1,000 symbols; 4 ways left
    // 166 of these 5,000 in sets of five or more, missing on every lookup.
    expect(stringTableMisses() - before, 'no symbol may be evicted by the others: each would get a fresh string on every tick').toBe(0);
  });

  it('makes non-ASCII and long strings as usual', () => {
    const utf8 = Buffer.from('giá-€', 'utf8');
    expect(sharedString(utf8, 0, utf8.length), 'bytes are decoded as UTF-8').toBe('giá-€');
    expect(sharedSlice('xgiá-€', 1, 6), 'text is sliced as is').toBe('giá-€');
    const long = 'L'.repeat(40);
    expect(sharedSlice(long, 0, 40), 'long strings are sliced as is').toBe(long);
    expect(sharedString(Buffer.from(long), 0, 40), 'long byte strings are decoded as is').toBe(long);
    expect(sharedSlice('', 0, 0), 'the empty string works too').toBe('');
    expect(sharedString(Buffer.from('ab'), 1, 1), 'an empty range of bytes too').toBe('');
  });
});
