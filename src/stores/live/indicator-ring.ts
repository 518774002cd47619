/** Value of one indicator at one candle start: a number, a record of named outputs, or null in warm-up. */
export type IndicatorValue = number | null | Readonly<Record<string, number | null>>;

export interface IndicatorInput {
  readonly start: number;
  readonly value: IndicatorValue;
}

/**
 * One served indicator point: `start` plus `value` for single-output indicators, or one key per
 * output (`macd`, `signal`, `histogram`, ...) for multi-output ones; null during warm-up.
 */
export type IndicatorPoint = { start: number } & Record<string, number | null>;

const INITIAL_CAPACITY = 16;
const SINGLE: readonly string[] = ['value'];

/**
 * Ring of one indicator spec's values for one (symbol, interval), aligned to candle starts and
 * sorted by start, with the candle ring's upsert rules. One Float64Array holds the start column
 * then one column per output (column c of slot p at c * cap + p); NaN stands for null
 * (indicators never produce NaN as a value). Output names are learned from the first non-null
 * value, so warm-up nulls do not fix the shape.
 */
export class IndicatorRing {
  readonly depth: number;
  #outputs: readonly string[] | null = null;
  /** Columns after start: 0 until the shape is known. */
  #width = 0;
  #cap = 0;
  #head = 0;
  #size = 0;
  #data: Float64Array = new Float64Array(0);

  constructor(depth: number) {
    this.depth = depth;
  }

  get size(): number {
    return this.#size;
  }

  get bytes(): number {
    return this.#data.byteLength;
  }

  /** Returns true when the point was stored (appended, replaced or inserted). */
  upsert(start: number, value: IndicatorValue): boolean {
    if (value !== null && this.#outputs === null) this.#learnShape(value);
    const n = this.#size;
    if (n === 0 || start > this.#startOf(this.#phys(n - 1))) {
      if (n === this.depth) {
        this.#write(this.#head, start, value);
        this.#head = this.#phys(1);
      } else {
        this.#makeRoom();
        this.#write(this.#phys(n), start, value);
        this.#size++;
      }
      return true;
    }
    const idx = this.#find(start);
    if (idx >= 0) {
      this.#write(this.#phys(idx), start, value);
      return true;
    }
    let at = -idx - 1;
    if (at === 0) return false;
    if (n === this.depth) {
      this.#head = this.#phys(1);
      this.#size--;
      at--;
    } else {
      this.#makeRoom();
    }
    const cap = this.#cap;
    const d = this.#data;
    for (let i = this.#size; i > at; i--) {
      const from = this.#phys(i - 1);
      const to = this.#phys(i);
      for (let c = 0; c <= this.#width; c++) d[c * cap + to] = d[c * cap + from] as number;
    }
    this.#write(this.#phys(at), start, value);
    this.#size++;
    return true;
  }

  /** Points with from <= start <= to, the newest `limit` of them, oldest first. */
  query(from: number, to: number, limit: number): IndicatorPoint[] {
    let lo = this.#bound(from, false);
    const hi = this.#bound(to, true);
    if (hi - lo > limit) lo = hi - limit;
    const names = this.#outputs ?? SINGLE;
    const cap = this.#cap;
    const d = this.#data;
    const out: IndicatorPoint[] = [];
    for (let i = lo; i < hi; i++) {
      const p = this.#phys(i);
      const point = { start: d[p] as number } as IndicatorPoint;
      for (let k = 0; k < names.length; k++) {
        const v = k < this.#width ? (d[(k + 1) * cap + p] as number) : NaN;
        point[names[k] as string] = Number.isNaN(v) ? null : v;
      }
      out.push(point);
    }
    return out;
  }

  #learnShape(value: Exclude<IndicatorValue, null>): void {
    this.#outputs = typeof value === 'number' ? SINGLE : Object.keys(value);
    const size = this.#size;
    const head = this.#head;
    const oldCap = this.#cap;
    const old = this.#data;
    this.#width = this.#outputs.length;
    this.#size = 0;
    this.#cap = 0;
    this.#ensureRoom(Math.max(oldCap, size));
    for (let i = 0; i < size; i++) {
      const p = head + i >= oldCap ? head + i - oldCap : head + i;
      this.#data[i] = old[p] as number;
    }
    this.#size = size;
  }

  #write(p: number, start: number, value: IndicatorValue): void {
    const cap = this.#cap;
    const d = this.#data;
    const w = this.#width;
    d[p] = start;
    if (value === null) {
      for (let c = 1; c <= w; c++) d[c * cap + p] = NaN;
    } else if (typeof value === 'number') {
      if (w > 0) d[cap + p] = value;
    } else {
      const names = this.#outputs as readonly string[];
      for (let c = 1; c <= w; c++) d[c * cap + p] = value[names[c - 1] as string] ?? NaN;
    }
  }

  #startOf(p: number): number {
    return this.#data[p] as number;
  }

  #phys(i: number): number {
    const p = this.#head + i;
    return p >= this.#cap ? p - this.#cap : p;
  }

  #makeRoom(): void {
    if (this.#size < this.#cap) return;
    this.#ensureRoom(Math.min(this.depth, Math.max(INITIAL_CAPACITY, this.#cap * 2)));
  }

  /** Reallocates to `cap` slots (no-op if unchanged), unwrapping so the oldest lands at slot 0. */
  #ensureRoom(cap: number): void {
    if (cap === this.#cap) return;
    const oldCap = this.#cap;
    const old = this.#data;
    const next = new Float64Array(cap * (1 + this.#width)).fill(NaN);
    for (let i = 0; i < this.#size; i++) {
      const p = this.#phys(i);
      for (let c = 0; c <= this.#width; c++) next[c * cap + i] = old[c * oldCap + p] as number;
    }
    this.#data = next;
    this.#head = 0;
    this.#cap = cap;
  }

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
