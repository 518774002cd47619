import type { Candle, Interval } from '../../domain/index.js';

/**
 * Bytes one candle slot costs: seven Float64 columns (start, open, high, low, close, volume,
 * vwap) and three Uint32 columns (duration = end - start, which never exceeds one day; trades;
 * rev in the low 31 bits with the final flag in the top bit). An array of Candle objects costs
 * about three times as much, which is what keeps ~5,000 live symbols inside the memory budget.
 */
export const CANDLE_SLOT_BYTES = 7 * 8 + 3 * 4;

const FINAL_BIT = 0x8000_0000;
const REV_MASK = 0x7fff_ffff;
const INITIAL_CAPACITY = 16;

// Column numbers. All columns share one ArrayBuffer (a Float64 view then a Uint32 view), because
// each typed array costs ~200 B of heap on top of its data: ten per ring would be ~12 KB/symbol.
const START = 0;
const OPEN = 1;
const HIGH = 2;
const LOW = 3;
const CLOSE = 4;
const VOLUME = 5;
const VWAP = 6;
const F64_COLS = 7;
const DURATION = 0;
const TRADES = 1;
const REV_FINAL = 2;
const U32_COLS = 3;

/** What `upsert` did with one candle; the store notifies listeners only for applied ones. */
export const UpsertResult = {
  Appended: 0,
  Replaced: 1,
  Inserted: 2,
  /** Older than the oldest slot, or a lower revision than the one held. */
  Dropped: 3,
} as const;
export type UpsertResult = (typeof UpsertResult)[keyof typeof UpsertResult];

/**
 * Called just before a full ring drops its oldest candle to make room, while `ring.readInto(0, …)`
 * still reads that candle. Indicator state that lags the ring follows evictions through it.
 */
export type EvictListener = (ring: CandleRing) => void;

/**
 * Struct-of-arrays ring of candles for one (symbol, interval), kept sorted by start, oldest
 * first. Capacity grows by doubling but never past `depth` (a power-of-two capacity would waste
 * up to half the slots: 1,024 for a depth of 600), so quiet symbols and coarse intervals pay
 * only for what they hold and a full ring costs exactly depth × CANDLE_SLOT_BYTES.
 */
export class CandleRing {
  readonly symbol: string;
  readonly interval: Interval;
  readonly depth: number;
  readonly #onEvict: EvictListener | null;
  #cap = 0;
  #head = 0;
  #size = 0;
  /** Column c of physical slot p is at c * cap + p. */
  #f64: Float64Array = new Float64Array(0);
  #u32: Uint32Array = new Uint32Array(0);

  constructor(symbol: string, interval: Interval, depth: number, onEvict: EvictListener | null = null) {
    this.symbol = symbol;
    this.interval = interval;
    this.depth = depth;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#size;
  }

  get bytes(): number {
    return this.#cap * CANDLE_SLOT_BYTES;
  }

  upsert(c: Candle): UpsertResult {
    const n = this.#size;
    if (n === 0) {
      this.#ensureRoom();
      this.#write(this.#phys(0), c);
      this.#size = 1;
      return UpsertResult.Appended;
    }
    const newest = this.#startOf(this.#phys(n - 1));
    if (c.start > newest) {
      this.#append(c);
      return UpsertResult.Appended;
    }
    // Forming-candle updates hit the newest slot; check it before searching.
    const idx = c.start === newest ? n - 1 : this.#find(c.start);
    if (idx >= 0) {
      const p = this.#phys(idx);
      // A lower revision arriving after a higher one is a replay overtaking a revision; keep the newer.
      if (c.rev < ((this.#u32[REV_FINAL * this.#cap + p] as number) & REV_MASK)) return UpsertResult.Dropped;
      this.#write(p, c);
      return UpsertResult.Replaced;
    }
    const at = -idx - 1;
    // Older than everything held: the ring keeps the recent past only (history is the lake's job).
    if (at === 0) return UpsertResult.Dropped;
    this.#insertAt(at, c);
    return UpsertResult.Inserted;
  }

  /**
   * Logical index range [lo, hi) of candles with from <= start <= to, trimmed to the newest
   * `limit`.
   */
  range(from: number, to: number, limit: number): [number, number] {
    let lo = this.#bound(from, false);
    const hi = this.#bound(to, true);
    if (hi - lo > limit) lo = hi - limit;
    return [lo, Math.max(lo, hi)];
  }

  /** Materialises the candle at logical index i (0 = oldest). Allocates one object per call. */
  at(i: number): Candle {
    const c: Candle = { symbol: this.symbol, interval: this.interval, start: 0, end: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, vwap: 0, trades: 0, final: false, rev: 0 };
    this.readInto(i, c);
    return c;
  }

  /** Overwrites `out` with the candle at logical index i (0 = oldest), allocating nothing. */
  readInto(i: number, out: Candle): void {
    const p = this.#phys(i);
    const cap = this.#cap;
    const f = this.#f64;
    const u = this.#u32;
    const start = f[START * cap + p] as number;
    const rf = u[REV_FINAL * cap + p] as number;
    out.symbol = this.symbol;
    out.interval = this.interval;
    out.start = start;
    out.end = start + (u[DURATION * cap + p] as number);
    out.open = f[OPEN * cap + p] as number;
    out.high = f[HIGH * cap + p] as number;
    out.low = f[LOW * cap + p] as number;
    out.close = f[CLOSE * cap + p] as number;
    out.volume = f[VOLUME * cap + p] as number;
    out.vwap = f[VWAP * cap + p] as number;
    out.trades = u[TRADES * cap + p] as number;
    out.final = (rf & FINAL_BIT) !== 0;
    out.rev = rf & REV_MASK;
  }

  #startOf(p: number): number {
    return this.#f64[START * this.#cap + p] as number;
  }

  #phys(i: number): number {
    const p = this.#head + i;
    return p >= this.#cap ? p - this.#cap : p;
  }

  #write(p: number, c: Candle): void {
    const cap = this.#cap;
    const f = this.#f64;
    const u = this.#u32;
    f[START * cap + p] = c.start;
    f[OPEN * cap + p] = c.open;
    f[HIGH * cap + p] = c.high;
    f[LOW * cap + p] = c.low;
    f[CLOSE * cap + p] = c.close;
    f[VOLUME * cap + p] = c.volume;
    f[VWAP * cap + p] = c.vwap;
    u[DURATION * cap + p] = c.end - c.start;
    u[TRADES * cap + p] = c.trades;
    u[REV_FINAL * cap + p] = (c.rev & REV_MASK) | (c.final ? FINAL_BIT : 0);
  }

  #copy(from: number, to: number): void {
    const cap = this.#cap;
    for (let col = 0; col < F64_COLS; col++) this.#f64[col * cap + to] = this.#f64[col * cap + from] as number;
    for (let col = 0; col < U32_COLS; col++) this.#u32[col * cap + to] = this.#u32[col * cap + from] as number;
  }

  #append(c: Candle): void {
    if (this.#size === this.depth) {
      // Full at depth: the newest overwrites the oldest slot.
      this.#onEvict?.(this);
      this.#write(this.#head, c);
      this.#head = this.#phys(1);
      return;
    }
    this.#ensureRoom();
    this.#write(this.#phys(this.#size), c);
    this.#size++;
  }

  /** Inserts a gap-filling candle at logical index `at` (>= 1), evicting the oldest when full. */
  #insertAt(at: number, c: Candle): void {
    let index = at;
    if (this.#size === this.depth) {
      this.#onEvict?.(this);
      this.#head = this.#phys(1);
      this.#size--;
      index--;
    } else {
      this.#ensureRoom();
    }
    for (let i = this.#size; i > index; i--) this.#copy(this.#phys(i - 1), this.#phys(i));
    this.#write(this.#phys(index), c);
    this.#size++;
  }

  /** Grows by doubling up to depth, unwrapping the ring so the oldest lands at slot 0. */
  #ensureRoom(): void {
    if (this.#size < this.#cap) return;
    const oldCap = this.#cap;
    const cap = Math.min(this.depth, Math.max(INITIAL_CAPACITY, oldCap * 2));
    const buffer = new ArrayBuffer(cap * CANDLE_SLOT_BYTES);
    const f64 = new Float64Array(buffer, 0, F64_COLS * cap);
    const u32 = new Uint32Array(buffer, F64_COLS * cap * 8, U32_COLS * cap);
    for (let i = 0; i < this.#size; i++) {
      const p = this.#phys(i);
      for (let col = 0; col < F64_COLS; col++) f64[col * cap + i] = this.#f64[col * oldCap + p] as number;
      for (let col = 0; col < U32_COLS; col++) u32[col * cap + i] = this.#u32[col * oldCap + p] as number;
    }
    this.#f64 = f64;
    this.#u32 = u32;
    this.#head = 0;
    this.#cap = cap;
  }

  /** Logical index of `start`, or -(insertion point) - 1 when absent. */
  #find(start: number): number {
    let lo = 0;
    let hi = this.#size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.#startOf(this.#phys(mid));
      if (s < start) lo = mid + 1;
      else if (s > start) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  /** First logical index whose start is >= value (or > value when `after`). */
  #bound(value: number, after: boolean): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.#startOf(this.#phys(mid));
      if (s < value || (after && s === value)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
