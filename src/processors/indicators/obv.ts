import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { readState, stateNumber } from './state.js';

/**
 * On-balance volume, TA-Lib OBV (https://ta-lib.org/functions/#obv, ta_OBV.c): starts at the
 * first bar's volume (not 0), then adds the volume on an up close and subtracts it on a down
 * close. No warm-up.
 */
export class Obv implements Indicator<number> {
  readonly spec = 'obv';
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup = 1;
  #count = 0;
  #prevClose = 0;
  #obv = 0;
  #undoPrevClose = 0;
  #undoObv = 0;

  update(bar: OhlcvBar): number | null {
    this.#undoPrevClose = this.#prevClose;
    this.#undoObv = this.#obv;
    const close = bar.close;
    if (this.#count++ === 0) this.#obv = bar.volume;
    else if (close > this.#prevClose) this.#obv += bar.volume;
    else if (close < this.#prevClose) this.#obv -= bar.volume;
    this.#prevClose = close;
    return this.#obv;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      this.#prevClose = this.#undoPrevClose;
      this.#obv = this.#undoObv;
    }
    return this.update(bar);
  }

  get value(): number | null {
    return this.#count > 0 ? this.#obv : null;
  }

  get isStable(): boolean {
    return this.#count >= 1;
  }

  snapshot(): unknown {
    return {
      spec: this.spec,
      count: this.#count,
      prevClose: this.#prevClose,
      obv: this.#obv,
      undoPrevClose: this.#undoPrevClose,
      undoObv: this.#undoObv,
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    this.#count = stateNumber(s, rec, 'count');
    this.#prevClose = stateNumber(s, rec, 'prevClose');
    this.#obv = stateNumber(s, rec, 'obv');
    this.#undoPrevClose = stateNumber(s, rec, 'undoPrevClose');
    this.#undoObv = stateNumber(s, rec, 'undoObv');
  }
}
