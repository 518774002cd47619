import { type Indicator, type OhlcvBar, VALUE_OUTPUTS, trueRange } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';

/**
 * Average true range, TA-Lib ATR (https://ta-lib.org/functions/#atr, ta_ATR.c) with the default
 * unstable period 0: true range starts at the second bar; the first ATR is the SMA of the first
 * `period` true ranges, then Wilder smoothing atr = (atr * (period - 1) + tr) / period. Period 1
 * is the true range itself (TA-Lib returns TRANGE).
 */
export class Atr implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  #count = 0;
  #prevClose = 0;
  #atr = 0;
  #value = Number.NaN;
  #undoPrevClose = 0;
  #undoAtr = 0;

  constructor(period: number) {
    this.spec = `atr:${period}`;
    this.warmup = period + 1;
    this.#n = period;
  }

  update(bar: OhlcvBar): number | null {
    const i = this.#count++;
    this.#undoPrevClose = this.#prevClose;
    this.#undoAtr = this.#atr;
    const prevClose = this.#prevClose;
    this.#prevClose = bar.close;
    if (i === 0) {
      this.#value = Number.NaN;
      return null;
    }
    const tr = trueRange(bar.high, bar.low, prevClose);
    const n = this.#n;
    let atr: number;
    if (n === 1) atr = tr;
    else if (i < n) {
      this.#atr += tr;
      this.#value = Number.NaN;
      return null;
    } else if (i === n) atr = (this.#atr + tr) / n;
    else atr = (this.#atr * (n - 1) + tr) / n;
    this.#atr = atr;
    this.#value = atr;
    return atr;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      this.#prevClose = this.#undoPrevClose;
      this.#atr = this.#undoAtr;
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
      prevClose: this.#prevClose,
      atr: this.#atr,
      value: nanToNull(this.#value),
      undo: [this.#undoPrevClose, this.#undoAtr],
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    const undo = new Float64Array(2);
    stateArrayInto(s, rec, 'undo', undo);
    this.#count = stateNumber(s, rec, 'count');
    this.#prevClose = stateNumber(s, rec, 'prevClose');
    this.#atr = stateNumber(s, rec, 'atr');
    this.#value = stateNullableNumber(s, rec, 'value');
    [this.#undoPrevClose, this.#undoAtr] = undo as unknown as [number, number];
  }
}
