import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateNullableNumber } from './state.js';
import { UndoRing } from './undo-ring.js';

/**
 * Rate of change of the close in percent, TA-Lib ROC (https://ta-lib.org/functions/#roc,
 * ta_ROC.c): ((close / close `period` bars ago) - 1) * 100, and 0 when the old close is 0.
 */
export class Roc implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  readonly #ring: UndoRing;
  #value = Number.NaN;

  constructor(period: number) {
    this.spec = `roc:${period}`;
    this.warmup = period + 1;
    this.#n = period;
    this.#ring = new UndoRing(period);
  }

  update(bar: OhlcvBar): number | null {
    const x = bar.close;
    // The overwritten slot holds the close from exactly `period` bars ago.
    const old = this.#ring.push(x);
    if (this.#ring.count <= this.#n) {
      this.#value = Number.NaN;
      return null;
    }
    const v = old !== 0 ? (x / old - 1) * 100 : 0;
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
