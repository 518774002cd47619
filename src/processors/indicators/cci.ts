import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';

/**
 * Commodity channel index, TA-Lib CCI (https://ta-lib.org/functions/#cci, ta_CCI.c):
 * (tp - mean) / (0.015 * mean absolute deviation), tp = (high + low + close) / 3, over `period`
 * bars; 0 when either the numerator or the deviation is exactly 0.
 *
 * O(period) per update, deliberately: the mean absolute deviation is taken around the *current*
 * mean, so every term |tp_i - mean| changes with each bar and no running sum can carry it. An
 * order-statistics tree would give O(log period) but sums in a different order than TA-Lib, and
 * on flat or nearly flat prices TA-Lib's result is decided by last-bit rounding of its mean
 * (it returns ±66.67 from a 1e-17 residual), so only TA-Lib's exact summation order — the circular
 * buffer summed by slot, slot = bar index mod period — reproduces it. Typical periods are 14–20.
 */
export class Cci implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  readonly #ring: Float64Array;
  #count = 0;
  #pos = 0;
  #value = Number.NaN;
  #undoSlot = 0;

  constructor(period: number) {
    this.spec = `cci:${period}`;
    this.warmup = period;
    this.#n = period;
    this.#ring = new Float64Array(period);
  }

  update(bar: OhlcvBar): number | null {
    const n = this.#n;
    const ring = this.#ring;
    const pos = this.#pos;
    const tp = (bar.high + bar.low + bar.close) / 3;
    this.#undoSlot = ring[pos] as number;
    ring[pos] = tp;
    this.#pos = pos + 1 === n ? 0 : pos + 1;
    if (++this.#count < n) {
      this.#value = Number.NaN;
      return null;
    }
    let mean = 0;
    for (let j = 0; j < n; j++) mean += ring[j] as number;
    mean /= n;
    let deviation = 0;
    for (let j = 0; j < n; j++) deviation += Math.abs((ring[j] as number) - mean);
    const distance = tp - mean;
    const v = distance !== 0 && deviation !== 0 ? distance / (0.015 * (deviation / n)) : 0;
    this.#value = v;
    return v;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      const pos = this.#pos === 0 ? this.#n - 1 : this.#pos - 1;
      this.#pos = pos;
      this.#ring[pos] = this.#undoSlot;
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
      ring: Array.from(this.#ring),
      value: nanToNull(this.#value),
      undoSlot: this.#undoSlot,
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    stateArrayInto(s, rec, 'ring', this.#ring);
    this.#count = stateNumber(s, rec, 'count');
    this.#pos = stateNumber(s, rec, 'pos') % this.#n;
    this.#value = stateNullableNumber(s, rec, 'value');
    this.#undoSlot = stateNumber(s, rec, 'undoSlot');
  }
}
