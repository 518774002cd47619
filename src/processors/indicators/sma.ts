import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';

/**
 * Simple moving average of the close, TA-Lib SMA (https://ta-lib.org/functions/#sma, TA_INT_SMA in
 * ta_SMA.c): one running total, the new close added before dividing and the oldest subtracted
 * after, so rounding matches TA-Lib bit for bit instead of drifting over thousands of bars.
 * Same arithmetic as SmaWindow (sma-window.ts), inlined into scalar fields because SMA is on the
 * hot path of every chart: measured ~15% faster than delegating to the window object.
 */
export class Sma implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  readonly #ring: Float64Array;
  #count = 0;
  #pos = 0;
  #sum = 0;
  #value = Number.NaN;
  #undoSum = 0;
  #undoSlot = 0;

  constructor(period: number) {
    this.spec = `sma:${period}`;
    this.warmup = period;
    this.#n = period;
    this.#ring = new Float64Array(period);
  }

  update(bar: OhlcvBar): number | null {
    const x = bar.close;
    const n = this.#n;
    const ring = this.#ring;
    let pos = this.#pos;
    const sum = this.#sum + x;
    this.#undoSum = this.#sum;
    this.#undoSlot = ring[pos] as number;
    ring[pos] = x;
    pos = pos + 1 === n ? 0 : pos + 1;
    this.#pos = pos;
    if (++this.#count < n) {
      this.#sum = sum;
      return null;
    }
    // After advancing, `pos` holds the oldest close of the window: it leaves on the next bar.
    this.#sum = sum - (ring[pos] as number);
    return (this.#value = sum / n);
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      const pos = this.#pos === 0 ? this.#n - 1 : this.#pos - 1;
      this.#pos = pos;
      this.#ring[pos] = this.#undoSlot;
      this.#sum = this.#undoSum;
      this.#value = Number.NaN;
    }
    return this.update(bar);
  }

  get value(): number | null {
    return nanToNull(this.#value);
  }

  get isStable(): boolean {
    return this.#count >= this.warmup;
  }

  snapshot(): unknown {
    return {
      spec: this.spec,
      count: this.#count,
      pos: this.#pos,
      sum: this.#sum,
      ring: Array.from(this.#ring),
      value: nanToNull(this.#value),
      undoSum: this.#undoSum,
      undoSlot: this.#undoSlot,
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    stateArrayInto(s, rec, 'ring', this.#ring);
    this.#count = stateNumber(s, rec, 'count');
    this.#pos = stateNumber(s, rec, 'pos') % this.#n;
    this.#sum = stateNumber(s, rec, 'sum');
    this.#value = stateNullableNumber(s, rec, 'value');
    this.#undoSum = stateNumber(s, rec, 'undoSum');
    this.#undoSlot = stateNumber(s, rec, 'undoSlot');
  }
}
