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
// Row-major (slot p's Float64 fields at p * F64_COLS, its Uint32 fields at p * U32_COLS): the
// forming candle is rewritten on every tick, and with one column per field that touched ten
// cache lines spread over the buffer per write; a row touches two or three.
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
 * Ring of candles in typed arrays (no object per candle) for one (symbol, interval), kept
 * sorted by start, oldest first. Capacity grows by doubling but never past `depth` (a
 * power-of-two capacity would waste up to half the slots: 1,024 for a depth of 600), so quiet
 * symbols and coarse intervals pay only for what they hold and a full ring costs exactly
 * depth × CANDLE_SLOT_BYTES.
 */
export class CandleRing {
  readonly symbol: string;
  readonly interval: Interval;
  readonly depth: number;
  readonly #onEvict: EvictListener | null;
  #cap = 0;
  #head = 0;
  #size = 0;
  /** Field c of physical slot p is at p * F64_COLS + c (p * U32_COLS + c in #u32). */
  #f64: Float64Array = new Float64Array(0);
  #u32: Uint32Array = new Uint32Array(0);
  /**
   * The newest slot's candle while it is forming, when the producer hands the same object on
   * every update (the candle operator's `liveOutput` slots change in place): an update of it
   * costs nothing, and a read of the newest slot refreshes the slot from it first. Cleared when it turns final (that version
   * is copied) or a newer bucket starts. The object must keep its start (a CandleSlot's is
   * readonly); `#formingStart` is that start, checked without touching the buffer.
   */
  #forming: Candle | null = null;
  #formingStart = Number.NaN;

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
    // The forming candle's object again, the common case (six a tick): nothing to copy or read.
    if (c === this.#forming && !c.final && c.start === this.#formingStart) return UpsertResult.Replaced;
    const n = this.#size;
    if (n === 0) {
      this.#ensureRoom();
      this.#write(this.#phys(0), c);
      this.#size = 1;
      this.#hold(c);
      return UpsertResult.Appended;
    }
    const newest = this.#startOf(this.#phys(n - 1));
    if (c.start > newest) {
      this.#settleForming();
      this.#append(c);
      this.#hold(c);
      return UpsertResult.Appended;
    }
    // Forming-candle updates hit the newest slot; check it before searching.
    const idx = c.start === newest ? n - 1 : this.#find(c.start);
    if (idx >= 0) {
      const p = this.#phys(idx);
      // A lower revision arriving after a higher one is a replay overtaking a revision; keep the newer.
      if (c.rev < ((this.#u32[p * U32_COLS + REV_FINAL] as number) & REV_MASK)) return UpsertResult.Dropped;
      this.#write(p, c);
      if (idx === n - 1) this.#hold(c);
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
    // The forming candle's slot is refreshed from its object, then read like any other.
    const forming = this.#forming;
    if (forming !== null && i === this.#size - 1 && forming.start === this.#formingStart) this.#write(p, forming);
    const f = this.#f64;
    const u = this.#u32;
    const start = f[p * F64_COLS + START] as number;
    const rf = u[p * U32_COLS + REV_FINAL] as number;
    out.symbol = this.symbol;
    out.interval = this.interval;
    out.start = start;
    out.end = start + (u[p * U32_COLS + DURATION] as number);
    out.open = f[p * F64_COLS + OPEN] as number;
    out.high = f[p * F64_COLS + HIGH] as number;
    out.low = f[p * F64_COLS + LOW] as number;
    out.close = f[p * F64_COLS + CLOSE] as number;
    out.volume = f[p * F64_COLS + VOLUME] as number;
    out.vwap = f[p * F64_COLS + VWAP] as number;
    out.trades = u[p * U32_COLS + TRADES] as number;
    out.final = (rf & FINAL_BIT) !== 0;
    out.rev = rf & REV_MASK;
  }

  /** Reads the newest slot from `c` from now on while it is forming (see #forming). */
  #hold(c: Candle): void {
    this.#forming = c.final ? null : c;
    this.#formingStart = c.start;
  }

  /** Copies the forming candle's current values into its slot and lets go of it. */
  #settleForming(): void {
    const forming = this.#forming;
    if (forming === null) return;
    if (forming.start === this.#formingStart) this.#write(this.#phys(this.#size - 1), forming);
    this.#forming = null;
  }

  #startOf(p: number): number {
    return this.#f64[p * F64_COLS + START] as number;
  }

  #phys(i: number): number {
    const p = this.#head + i;
    return p >= this.#cap ? p - this.#cap : p;
  }

  #write(p: number, c: Candle): void {
    const f = this.#f64;
    const u = this.#u32;
    f[p * F64_COLS + START] = c.start;
    f[p * F64_COLS + OPEN] = c.open;
    f[p * F64_COLS + HIGH] = c.high;
    f[p * F64_COLS + LOW] = c.low;
    f[p * F64_COLS + CLOSE] = c.close;
    f[p * F64_COLS + VOLUME] = c.volume;
    f[p * F64_COLS + VWAP] = c.vwap;
    u[p * U32_COLS + DURATION] = c.end - c.start;
    u[p * U32_COLS + TRADES] = c.trades;
    u[p * U32_COLS + REV_FINAL] = (c.rev & REV_MASK) | (c.final ? FINAL_BIT : 0);
  }

  #copy(from: number, to: number): void {
    this.#f64.copyWithin(to * F64_COLS, from * F64_COLS, from * F64_COLS + F64_COLS);
    this.#u32.copyWithin(to * U32_COLS, from * U32_COLS, from * U32_COLS + U32_COLS);
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
      f64.set(this.#f64.subarray(p * F64_COLS, p * F64_COLS + F64_COLS), i * F64_COLS);
      u32.set(this.#u32.subarray(p * U32_COLS, p * U32_COLS + U32_COLS), i * U32_COLS);
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
