/**
 * A set of 64-bit string fingerprints in one typed array with open addressing (linear probing).
 * Dedup keeps hundreds of thousands of recent ids per partition; as strings in a Set they would
 * all survive young-generation GC and cost a hash-table miss per lookup. Two independent 32-bit
 * hashes (FNV-1a and a murmur3-style mix) make a false "seen before" about 2^-64 × n per lookup:
 * for a window of 10^5 ids, below 10^-14 per event.
 */
export class IdHashSet {
  readonly #slots: Uint32Array;
  readonly #mask: number;
  #size = 0;

  /** Room for `capacity` ids at a load factor of at most 1/2. */
  constructor(capacity: number) {
    let n = 1;
    while (n < capacity * 2) n <<= 1;
    this.#slots = new Uint32Array(n * 2);
    this.#mask = n - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds the fingerprint; returns false when it was already present. */
  add(h1: number, h2: number): boolean {
    const slots = this.#slots;
    // Zero marks an empty slot, so a zero first hash is stored as 1 (it stays 64-bit distinct via h2).
    const a = h1 === 0 ? 1 : h1;
    let i = a & this.#mask;
    for (;;) {
      const s = slots[i * 2] as number;
      if (s === 0) {
        slots[i * 2] = a;
        slots[i * 2 + 1] = h2;
        this.#size++;
        return true;
      }
      if (s === a && slots[i * 2 + 1] === h2) return false;
      i = (i + 1) & this.#mask;
    }
  }

  has(h1: number, h2: number): boolean {
    const slots = this.#slots;
    const a = h1 === 0 ? 1 : h1;
    let i = a & this.#mask;
    for (;;) {
      const s = slots[i * 2] as number;
      if (s === 0) return false;
      if (s === a && slots[i * 2 + 1] === h2) return true;
      i = (i + 1) & this.#mask;
    }
  }

  clear(): void {
    this.#slots.fill(0);
    this.#size = 0;
  }

  /** The occupied fingerprints as pairs, for checkpoints. */
  entries(): Uint32Array {
    const out = new Uint32Array(this.#size * 2);
    let k = 0;
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i += 2) {
      if (slots[i] !== 0) {
        out[k++] = slots[i] as number;
        out[k++] = slots[i + 1] as number;
      }
    }
    return out;
  }
}

/** FNV-1a over UTF-16 code units. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A murmur3-style 32-bit hash over UTF-16 code units, independent of FNV-1a. */
export function murmurish(s: string): number {
  let h = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
