/**
 * A set of 64-bit string fingerprints with open addressing (linear probing). Dedup keeps hundreds
 * of thousands of recent ids per partition; as strings in a Set they would all survive
 * young-generation GC and cost a hash-table miss per lookup. Two independent 32-bit hashes (FNV-1a
 * and a murmur3-style mix) make a false "seen before" about 2^-64 × n per lookup: for a window of
 * 10^5 ids, below 10^-14 per event.
 *
 * The pairs live in insertion order in a log (so a checkpoint copies 8 bytes per id instead of
 * scanning a table: 2.5–7 ms on the event loop per partition and checkpoint, measured in the
 * latency bench). The hash table holds 4 bytes per slot: the entry's place in the log plus the
 * high bits of h1 as a tag; the full pair is compared in the log only when the tag matches. Each
 * add touches one random line of the table, and with four partitions the tables are what the
 * tick path misses cache on: 8-byte slots at load ≤ 1/2 took ~100 ns an event over 4 × 100,000
 * ids, these (≤ 0.8 load) ~50 ns.
 */
export class IdHashSet {
  #slots: Uint32Array;
  #mask: number;
  /** A slot is `tag bits of h1 | (log index + 1)`, the index in the low bits; 0 is empty. */
  #indexMask: number;
  #tagMask: number;
  /** Entries the table takes before it is rebuilt twice as large (its load stays ≤ 0.8). */
  #capacity: number;
  /**
   * A one-hash Bloom filter of eight bits per id of capacity, set from h2 by add: has() of an
   * absent id, dedup's case for nearly every tick, reads this array (128 KB at the default window)
   * instead of the table, and probes the table only for the ~10 % that hit a set bit. Measured end
   * to end: +4 % ticks/s over 5 pairs.
   */
  readonly #bloom: Uint32Array;
  readonly #bloomMask: number;
  #size = 0;
  /** (h1, h2) of every id added since the last clear, in order. */
  #log: Uint32Array;

  constructor(capacity: number) {
    if (!(capacity >= 1 && capacity <= 2 ** 28)) throw new RangeError(`IdHashSet capacity must be within 1..2^28, got ${capacity}`);
    let bits = 32;
    while (bits < capacity * 8) bits <<= 1;
    this.#bloom = new Uint32Array(bits >>> 5);
    this.#bloomMask = bits - 1;
    this.#log = new Uint32Array(capacity * 2);
    this.#capacity = 0;
    this.#slots = new Uint32Array(0);
    this.#mask = 0;
    this.#indexMask = 0;
    this.#tagMask = 0;
    this.#table(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds the fingerprint; returns false when it was already present. */
  add(h1: number, h2: number): boolean {
    // Old checkpoints stored a zero first hash as 1 (zero once marked an empty slot): keep doing so.
    const a = h1 === 0 ? 1 : h1;
    const slots = this.#slots;
    const log = this.#log;
    const low = this.#indexMask;
    const tag = (a & this.#tagMask) >>> 0;
    let i = a & this.#mask;
    for (;;) {
      const s = slots[i] as number;
      if (s === 0) break;
      if ((s & ~low) >>> 0 === tag) {
        const k = ((s & low) - 1) * 2;
        if (log[k] === a && log[k + 1] === h2) return false;
      }
      i = (i + 1) & this.#mask;
    }
    const k = this.#size;
    if (k === this.#capacity) {
      this.#table(2 * k);
      return this.add(h1, h2);
    }
    slots[i] = (tag | (k + 1)) >>> 0;
    log[k * 2] = a;
    log[k * 2 + 1] = h2;
    const b = h2 & this.#bloomMask;
    this.#bloom[b >>> 5] = (this.#bloom[b >>> 5] as number) | (1 << (b & 31));
    this.#size = k + 1;
    return true;
  }

  has(h1: number, h2: number): boolean {
    const b = h2 & this.#bloomMask;
    if (((this.#bloom[b >>> 5] as number) & (1 << (b & 31))) === 0) return false;
    const a = h1 === 0 ? 1 : h1;
    const slots = this.#slots;
    const log = this.#log;
    const low = this.#indexMask;
    const tag = (a & this.#tagMask) >>> 0;
    let i = a & this.#mask;
    for (;;) {
      const s = slots[i] as number;
      if (s === 0) return false;
      if ((s & ~low) >>> 0 === tag) {
        const k = ((s & low) - 1) * 2;
        if (log[k] === a && log[k + 1] === h2) return true;
      }
      i = (i + 1) & this.#mask;
    }
  }

  clear(): void {
    this.#slots.fill(0);
    this.#bloom.fill(0);
    this.#size = 0;
  }

  /** The fingerprints as pairs in insertion order, for checkpoints: a copy, later adds do not change it. */
  entries(): Uint32Array {
    return this.#log.slice(0, this.#size * 2);
  }

  /**
   * A table for `capacity` entries, refilled from the log: the first one, or a larger one when
   * more ids than the capacity are added (a restore into a smaller window; dedup itself rotates
   * generations at the capacity).
   */
  #table(capacity: number): void {
    let n = 1;
    while (n * 0.8 < capacity) n <<= 1;
    let indexBits = 1;
    while (2 ** indexBits <= capacity) indexBits++;
    this.#slots = new Uint32Array(n);
    this.#mask = n - 1;
    this.#indexMask = 2 ** indexBits - 1;
    this.#tagMask = ~this.#indexMask >>> 0;
    this.#capacity = capacity;
    if (this.#log.length < capacity * 2) {
      const log = new Uint32Array(capacity * 2);
      log.set(this.#log.subarray(0, this.#size * 2));
      this.#log = log;
    }
    const slots = this.#slots;
    const log = this.#log;
    for (let k = 0; k < this.#size; k++) {
      const a = log[k * 2] as number;
      let i = a & this.#mask;
      while (slots[i] !== 0) i = (i + 1) & this.#mask;
      slots[i] = ((a & this.#tagMask) | (k + 1)) >>> 0;
    }
  }
}

/**
 * The id's two independent 32-bit hashes in one pass over its UTF-16 code units: FNV-1a in
 * out[0] (check value: "123456789" gives 0xbb86b11c) and a murmur3-style mix in out[1]. One loop
 * instead of one per hash (~45 → ~25 ns for a short id), written to `out` because a returned pair
 * would be an allocation per event. Checkpoints store these values: they must never change.
 */
export function fingerprint(s: string, out: Uint32Array): void {
  let f = 0x811c9dc5;
  let m = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    f = Math.imul(f ^ c, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    m ^= Math.imul(k, 0x1b873593);
    m = (m << 13) | (m >>> 19);
    m = (Math.imul(m, 5) + 0xe6546b64) | 0;
  }
  m ^= m >>> 16;
  m = Math.imul(m, 0x85ebca6b);
  m ^= m >>> 13;
  m = Math.imul(m, 0xc2b2ae35);
  m ^= m >>> 16;
  out[0] = f;
  out[1] = m;
}
