import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';

/**
 * Money flow index, TA-Lib MFI (https://ta-lib.org/functions/#mfi, ta_MFI.c) with the default
 * unstable period 0: money flow = tp * volume with tp = (high + low + close) / 3, counted as
 * positive or negative by the sign of the tp change; MFI = 100 * pos / (pos + neg) over `period`
 * changes, and 0 when pos + neg < 1 (TA-Lib's own guard). Running sums with the oldest flow
 * subtracted before the newest is added, in TA-Lib's order.
 */
export class Mfi implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  readonly #positive: Float64Array;
  readonly #negative: Float64Array;
  #count = 0;
  #pos = 0;
  #prevTp = 0;
  #posSum = 0;
  #negSum = 0;
  #value = Number.NaN;
  readonly #undo = new Float64Array(5);

  constructor(period: number) {
    this.spec = `mfi:${period}`;
    this.warmup = period + 1;
    this.#n = period;
    this.#positive = new Float64Array(period);
    this.#negative = new Float64Array(period);
  }

  update(bar: OhlcvBar): number | null {
    const i = this.#count++;
    const tp = (bar.high + bar.low + bar.close) / 3;
    const u = this.#undo;
    u[0] = this.#prevTp;
    u[1] = this.#posSum;
    u[2] = this.#negSum;
    if (i === 0) {
      this.#prevTp = tp;
      return null;
    }
    const n = this.#n;
    const pos = this.#pos;
    const positive = this.#positive;
    const negative = this.#negative;
    u[3] = positive[pos] as number;
    u[4] = negative[pos] as number;
    let posSum = this.#posSum;
    let negSum = this.#negSum;
    if (i > n) {
      posSum -= positive[pos] as number;
      negSum -= negative[pos] as number;
    }
    const change = tp - this.#prevTp;
    this.#prevTp = tp;
    const flow = tp * bar.volume;
    if (change < 0) {
      negative[pos] = flow;
      negSum += flow;
      positive[pos] = 0;
    } else if (change > 0) {
      positive[pos] = flow;
      posSum += flow;
      negative[pos] = 0;
    } else {
      positive[pos] = 0;
      negative[pos] = 0;
    }
    this.#pos = pos + 1 === n ? 0 : pos + 1;
    this.#posSum = posSum;
    this.#negSum = negSum;
    if (i < n) return null;
    const total = posSum + negSum;
    const v = total < 1 ? 0 : 100 * (posSum / total);
    this.#value = v;
    return v;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      const u = this.#undo;
      if (--this.#count > 0) {
        const pos = this.#pos === 0 ? this.#n - 1 : this.#pos - 1;
        this.#pos = pos;
        this.#positive[pos] = u[3] as number;
        this.#negative[pos] = u[4] as number;
      }
      this.#prevTp = u[0] as number;
      this.#posSum = u[1] as number;
      this.#negSum = u[2] as number;
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
      prevTp: this.#prevTp,
      posSum: this.#posSum,
      negSum: this.#negSum,
      positive: Array.from(this.#positive),
      negative: Array.from(this.#negative),
      value: nanToNull(this.#value),
      undo: Array.from(this.#undo),
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    stateArrayInto(s, rec, 'positive', this.#positive);
    stateArrayInto(s, rec, 'negative', this.#negative);
    stateArrayInto(s, rec, 'undo', this.#undo);
    this.#count = stateNumber(s, rec, 'count');
    this.#pos = stateNumber(s, rec, 'pos') % this.#n;
    this.#prevTp = stateNumber(s, rec, 'prevTp');
    this.#posSum = stateNumber(s, rec, 'posSum');
    this.#negSum = stateNumber(s, rec, 'negSum');
    this.#value = stateNullableNumber(s, rec, 'value');
  }
}
