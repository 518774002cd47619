import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';

/**
 * Rate of change of the close in percent, TA-Lib ROC (https://ta-lib.org/functions/#roc,
 * ta_ROC.c): ((close / close `period` bars ago) - 1) * 100, and 0 when the old close is 0.
 */
export class Roc implements Indicator<number> {
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
    this.spec = `roc:${period}`;
    this.warmup = period + 1;
    this.#n = period;
    this.#ring = new Float64Array(period);
  }

  update(bar: OhlcvBar): number | null {
    const x = bar.close;
    const pos = this.#pos;
    // Before being overwritten, the slot holds the close from exactly `period` bars ago.
    const old = (this.#undoSlot = this.#ring[pos] as number);
    this.#ring[pos] = x;
    this.#pos = pos + 1 === this.#n ? 0 : pos + 1;
    if (this.#count++ < this.#n) {
      this.#value = Number.NaN;
      return null;
    }
    const v = old !== 0 ? (x / old - 1) * 100 : 0;
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
