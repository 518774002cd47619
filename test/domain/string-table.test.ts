import { describe, expect, it } from 'vitest';
import { sharedSlice, sharedString } from '../../src/domain/index.js';

describe('string table', () => {
  it('returns the same string object for equal text and bytes, and always the right text', () => {
    const a = sharedSlice('{"symbol":"AAPL"}', 11, 15);
    const b = sharedString(Buffer.from('xxAAPLyy'), 2, 6);
    expect(a, 'the slice is the text between the bounds').toBe('AAPL');
    expect(Object.is(a, b) && Object.is(a, sharedSlice('AAPL', 0, 4)), 'equal ASCII strings share one object').toBe(true);
    // Far more strings than slots: collisions and evictions must never return another string.
    const wrong: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 20_000; i++) {
        const want = `S${i.toString(36)}`;
        const got = i % 2 === 0 ? sharedSlice(`"${want}"`, 1, want.length + 1) : sharedString(Buffer.from(`"${want}"`), 1, want.length + 1);
        if (got !== want) wrong.push(`${want} -> ${got}`);
      }
    }
    expect(wrong.slice(0, 5), 'a table slot may be taken by another string, never returned for it').toEqual([]);
  });

  it('keeps one copy of every symbol of a 5,000-symbol universe: symbols whose hashes meet do not evict each other', () => {
    const names = Array.from({ length: 5_000 }, (_, i) => `X${String(i).padStart(4, '0')}`);
    const first = names.map((s) => sharedSlice(`"${s}"`, 1, s.length + 1));
    const fresh = names.filter((s, i) => !Object.is(sharedString(Buffer.from(` ${s} `), 1, s.length + 1), first[i]));
    // A direct-mapped table (one slot per hash) handed ~22 % of 1,000 symbols a fresh copy per tick.
    expect(fresh.slice(0, 5), 'a second pass over the universe must find every symbol it interned').toEqual([]);
  });

  it('makes non-ASCII and long strings as usual', () => {
    const utf8 = Buffer.from('giá-€', 'utf8');
    expect(sharedString(utf8, 0, utf8.length), 'bytes are decoded as UTF-8').toBe('giá-€');
    expect(sharedSlice('xgiá-€', 1, 6), 'text is sliced as is').toBe('giá-€');
    const long = 'L'.repeat(40);
    expect(sharedSlice(long, 0, 40), 'long strings are sliced as is').toBe(long);
    expect(sharedString(Buffer.from(long), 0, 40), 'long byte strings are decoded as is').toBe(long);
    expect(sharedSlice('', 0, 0), 'the empty string works too').toBe('');
  });
});
