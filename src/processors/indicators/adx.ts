import { type Indicator, type OhlcvBar, VALUE_OUTPUTS, isTaZero, trueRange } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';

const FIELDS = 8;

/**
 * Average directional movement index, TA-Lib ADX (https://ta-lib.org/functions/#adx, ta_ADX.c)
 * with the default unstable period 0 and no rounding (TA-Lib defines round_pos(x) as x):
 * +DM/-DM and TR are summed over the first period - 1 moves, then Wilder-smoothed
 * (s = s - s / period + today); DX = 100 * |-DI - +DI| / (-DI + +DI); the first ADX is the mean of
 * the first `period` DX, then adx = (adx * (period - 1) + dx) / period. First value at bar
 * 2 * period - 1. A DX whose TR or DI sum is within TA_EPSILON of zero is skipped, as in TA-Lib.
 */
export class Adx implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  #count = 0;
  #prevHigh = 0;
  #prevLow = 0;
  #prevClose = 0;
  #plusDM = 0;
  #minusDM = 0;
  #tr = 0;
  /** Sum of the first DX values, then the ADX itself. */
  #adx = 0;
  #value = Number.NaN;
  readonly #undo = new Float64Array(FIELDS - 1);

  constructor(period: number) {
    this.spec = `adx:${period}`;
    this.warmup = 2 * period;
    this.#n = period;
  }

  update(bar: OhlcvBar): number | null {
    const i = this.#count++;
    const u = this.#undo;
    u[0] = this.#prevHigh;
    u[1] = this.#prevLow;
    u[2] = this.#prevClose;
    u[3] = this.#plusDM;
    u[4] = this.#minusDM;
    u[5] = this.#tr;
    u[6] = this.#adx;
    const high = bar.high;
    const low = bar.low;
    if (i === 0) {
      this.#prevHigh = high;
      this.#prevLow = low;
      this.#prevClose = bar.close;
      return null;
    }
    const n = this.#n;
    const diffP = high - this.#prevHigh;
    const diffM = this.#prevLow - low;
    this.#prevHigh = high;
    this.#prevLow = low;
    let plusDM = this.#plusDM;
    let minusDM = this.#minusDM;
    let tr = this.#tr;
    if (i >= n) {
      minusDM -= minusDM / n;
      plusDM -= plusDM / n;
    }
    if (diffM > 0 && diffP < diffM) minusDM += diffM;
    else if (diffP > 0 && diffP > diffM) plusDM += diffP;
    const range = trueRange(high, low, this.#prevClose);
    tr = i < n ? tr + range : tr - tr / n + range;
    this.#prevClose = bar.close;
    this.#plusDM = plusDM;
    this.#minusDM = minusDM;
    this.#tr = tr;
    if (i < n) return null;
    let dx = Number.NaN;
    if (!isTaZero(tr)) {
      const minusDI = 100 * (minusDM / tr);
      const plusDI = 100 * (plusDM / tr);
      const sumDI = minusDI + plusDI;
      if (!isTaZero(sumDI)) dx = 100 * (Math.abs(minusDI - plusDI) / sumDI);
    }
    const last = 2 * n - 1;
    if (i < last) {
      if (dx === dx) this.#adx += dx;
      return null;
    }
    if (i === last) {
      if (dx === dx) this.#adx += dx;
      this.#adx /= n;
    } else if (dx === dx) {
      this.#adx = (this.#adx * (n - 1) + dx) / n;
    }
    this.#value = this.#adx;
    return this.#adx;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      const u = this.#undo;
      this.#prevHigh = u[0] as number;
      this.#prevLow = u[1] as number;
      this.#prevClose = u[2] as number;
      this.#plusDM = u[3] as number;
      this.#minusDM = u[4] as number;
      this.#tr = u[5] as number;
      this.#adx = u[6] as number;
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
      state: [this.#prevHigh, this.#prevLow, this.#prevClose, this.#plusDM, this.#minusDM, this.#tr, this.#adx],
      value: nanToNull(this.#value),
      undo: Array.from(this.#undo),
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    const st = new Float64Array(FIELDS - 1);
    stateArrayInto(s, rec, 'state', st);
    stateArrayInto(s, rec, 'undo', this.#undo);
    this.#count = stateNumber(s, rec, 'count');
    this.#value = stateNullableNumber(s, rec, 'value');
    [this.#prevHigh, this.#prevLow, this.#prevClose, this.#plusDM, this.#minusDM, this.#tr, this.#adx] =
      st as unknown as [number, number, number, number, number, number, number];
  }
}
