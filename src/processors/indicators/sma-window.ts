import { type StateRecord, stateArrayInto, stateError, stateNumber } from './state.js';

/**
 * A simple moving average with TA-Lib's exact arithmetic (TA_INT_SMA in ta_SMA.c,
 * https://github.com/TA-Lib/ta-lib/blob/main/src/ta_func/ta_SMA.c): one running total, the new
 * value added before dividing and the oldest subtracted after, so the rounding matches TA-Lib bit
 * for bit instead of drifting apart over thousands of bars.
 *
 * Building block of STOCH (both smoothings) and anything else smoothing by SMA. The first `skip` pushes are ignored
 * (the input is still warming up upstream), so the owner can push on every bar and `undo` is
 * always the exact inverse of the last `push`.
 */
export class SmaWindow {
  readonly #n: number;
  readonly #skip: number;
  readonly #ring: Float64Array;
  #count = 0;
  #pos = 0;
  #sum = 0;
  // State before the last push, for `undo` (one level is all `replace` needs).
  #undoSum = 0;
  #undoSlot = 0;

  constructor(period: number, skip = 0) {
    this.#n = period;
    this.#skip = skip;
    this.#ring = new Float64Array(period);
  }

  /** Values pushed so far, including skipped ones. */
  get count(): number {
    return this.#count;
  }

  /** Adds a value; returns the average of the last `period` values, NaN while warming up. */
  push(x: number): number {
    const c = ++this.#count;
    if (c <= this.#skip) return Number.NaN;
    const n = this.#n;
    const ring = this.#ring;
    let pos = this.#pos;
    this.#undoSum = this.#sum;
    this.#undoSlot = ring[pos] as number;
    ring[pos] = x;
    pos = pos + 1 === n ? 0 : pos + 1;
    this.#pos = pos;
    const total = this.#sum + x;
    if (c - this.#skip < n) {
      this.#sum = total;
      return Number.NaN;
    }
    // After advancing, `pos` holds the oldest value of the window: it leaves on the next push.
    this.#sum = total - (ring[pos] as number);
    return total / n;
  }

  /** Reverts the last `push` exactly. */
  undo(): void {
    const c = this.#count--;
    if (c <= this.#skip) return;
    const pos = this.#pos === 0 ? this.#n - 1 : this.#pos - 1;
    this.#pos = pos;
    this.#ring[pos] = this.#undoSlot;
    this.#sum = this.#undoSum;
  }

  snapshot(): StateRecord {
    return {
      count: this.#count,
      pos: this.#pos,
      sum: this.#sum,
      ring: Array.from(this.#ring),
      undoSum: this.#undoSum,
      undoSlot: this.#undoSlot,
    };
  }

  restore(spec: string, rec: StateRecord): void {
    const pos = stateNumber(spec, rec, 'pos');
    if (!Number.isInteger(pos) || pos < 0 || pos >= this.#n) throw stateError(spec, `field "pos" out of range: ${pos}`);
    stateArrayInto(spec, rec, 'ring', this.#ring);
    this.#count = stateNumber(spec, rec, 'count');
    this.#pos = pos;
    this.#sum = stateNumber(spec, rec, 'sum');
    this.#undoSum = stateNumber(spec, rec, 'undoSum');
    this.#undoSlot = stateNumber(spec, rec, 'undoSlot');
  }
}
