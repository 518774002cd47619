import { describe, expect, it } from 'vitest';
import { IdHashSet, fingerprint } from '../../../src/processors/dedup/index.js';

/** The id's fingerprint pair, as the dedup operator computes it. */
function fp(id: string): [number, number] {
  const out = new Uint32Array(2);
  fingerprint(id, out);
  return [out[0] as number, out[1] as number];
}

describe('fingerprint', () => {
  it('gives the published FNV-1a check value and the same pairs as ever: checkpoints store them', () => {
    const hex = (id: string): string[] => fp(id).map((h) => `0x${h.toString(16)}`);
    expect(hex('123456789')[0], 'FNV-1a 32 of "123456789" is 0xbb86b11c (the reference check value)').toBe('0xbb86b11c');
    // Values of the two separate hash functions this replaced (dedup checkpoints written before hold them).
    expect(
      ['', '123456789', 'b-1', 'L123456', 'finnhub-AAPL-1700000000123-42', 'giá-€'].map(hex),
      'fingerprints must not change, or restored dedup state would stop matching ids',
    ).toEqual([
      ['0x811c9dc5', '0xebb6c228'],
      ['0xbb86b11c', '0x7c8d3398'],
      ['0xae6031cb', '0x6a48ed91'],
      ['0x16718c1c', '0xeb8d55d0'],
      ['0xc206aa9a', '0x2579a189'],
      ['0x50163df5', '0x2650f27d'],
    ]);
  });
});

describe('IdHashSet', () => {
  it('agrees with a Set of strings on random ids, including probe chains at full load', () => {
    const seed = 12345;
    let a = seed;
    const rand = (): number => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const set = new IdHashSet(5_000);
    const ref = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = `id-${Math.floor(rand() * 6_000)}`;
      if (ref.size >= 5_000 && !ref.has(id)) continue;
      const added = set.add(...fp(id));
      expect(added, `seed ${seed}: add(${id}) reports new exactly when the Set did not have it`).toBe(!ref.has(id));
      ref.add(id);
    }
    expect(set.size, 'sizes agree').toBe(ref.size);
    for (let i = 0; i < 6_000; i++) {
      const id = `id-${i}`;
      expect(set.has(...fp(id)), `has(${id})`).toBe(ref.has(id));
    }
    set.seal();
    for (let i = 0; i < 6_000; i++) {
      const id = `id-${i}`;
      expect(set.has(...fp(id)), `seed ${seed}: sealed, the Bloom filter never hides an id the set holds: has(${id})`).toBe(ref.has(id));
    }
  });

  it('finds an id added after seal(): the filter built before it must not answer for it', () => {
    const set = new IdHashSet(100);
    set.seal();
    const id = fp('added-after-seal');
    expect(set.has(...id), 'sealed while empty, the set holds nothing').toBe(false);
    set.add(...id);
    expect(set.has(...id), 'the add is found (an all-zero filter still answering would say absent)').toBe(true);
    set.clear();
    set.seal();
    expect(set.has(...id), 'cleared and sealed again, it is gone').toBe(false);
  });

  it('keeps its entries through entries() for checkpoints', () => {
    const set = new IdHashSet(10);
    set.add(0, 7);
    set.add(5, 9);
    const copy = new IdHashSet(10);
    const e = set.entries();
    for (let i = 0; i < e.length; i += 2) copy.add(e[i] as number, e[i + 1] as number);
    expect([copy.has(0, 7), copy.has(5, 9), copy.has(5, 8)], 'a zero first hash survives the round trip; other pairs stay distinct').toEqual([true, true, false]);
  });

  it('lists every id once in insertion order, past its capacity and after a clear, and a listing is not changed by later adds', () => {
    const set = new IdHashSet(4);
    const ids = Array.from({ length: 7 }, (_, i) => `id-${i}`);
    for (const id of [...ids, ids[2] as string]) set.add(...fp(id));
    const listed = set.entries();
    const expected = ids.flatMap((id) => fp(id));
    expect([...listed], 'seven distinct ids (one added twice) over a capacity of four, in the order first added').toEqual(expected);
    set.add(...fp('later'));
    expect([...listed], 'an earlier listing is a copy').toEqual(expected);
    set.clear();
    set.add(...fp('fresh'));
    expect([...set.entries()], 'after clear only the new id is listed').toEqual(fp('fresh'));
  });
});
