import { describe, expect, it } from 'vitest';
import { IdHashSet, fnv1a, murmurish } from '../../../src/processors/dedup/index.js';

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
      const added = set.add(fnv1a(id), murmurish(id));
      expect(added, `seed ${seed}: add(${id}) reports new exactly when the Set did not have it`).toBe(!ref.has(id));
      ref.add(id);
    }
    expect(set.size, 'sizes agree').toBe(ref.size);
    for (let i = 0; i < 6_000; i++) {
      const id = `id-${i}`;
      expect(set.has(fnv1a(id), murmurish(id)), `has(${id})`).toBe(ref.has(id));
    }
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
    for (const id of [...ids, ids[2] as string]) set.add(fnv1a(id), murmurish(id));
    const listed = set.entries();
    const expected = ids.flatMap((id) => [fnv1a(id), murmurish(id)]);
    expect([...listed], 'seven distinct ids (one added twice) over a capacity of four, in the order first added').toEqual(expected);
    set.add(fnv1a('later'), murmurish('later'));
    expect([...listed], 'an earlier listing is a copy').toEqual(expected);
    set.clear();
    set.add(fnv1a('fresh'), murmurish('fresh'));
    expect([...set.entries()], 'after clear only the new id is listed').toEqual([fnv1a('fresh'), murmurish('fresh')]);
  });
});
