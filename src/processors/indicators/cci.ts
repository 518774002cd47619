import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateNullableNumber } from './state.js';
import { UndoRing } from './undo-ring.js';

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
  readonly #ring: UndoRing;
  #value = Number.NaN;

  constructor(period: number) {
    this.spec = `cci:${period}`;
    this.warmup = period;
    this.#n = period;
    this.#ring = new UndoRing(period);
  }

  update(bar: OhlcvBar): number | null {
    const n = this.#n;
    const tp = (bar.high + bar.low + bar.close) / 3;
    this.#ring.push(tp);
    if (this.#ring.count < n) {
      this.#value = Number.NaN;
      return null;
    }
    const ring = this.#ring.values;
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
    if (this.#ring.count > 0) this.#ring.undo();
    return this.update(bar);
  }

  get value(): number | null {
    return nanToNull(this.#value);
  }

  get isStable(): boolean {
    return this.#ring.count >= this.warmup;
  }

  snapshot(): unknown {
    return { spec: this.spec, ...this.#ring.snapshot(), value: nanToNull(this.#value) };
  }

  restore(state: unknown): void {
    const rec = readState(this.spec, state);
    this.#ring.restore(this.spec, rec);
    this.#value = stateNullableNumber(this.spec, rec, 'value');
  }
}
