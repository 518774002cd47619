import { type Indicator, type OhlcvBar, VALUE_OUTPUTS, isTaZero } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';

/**
 * Relative strength index of the close, TA-Lib RSI (https://ta-lib.org/functions/#rsi, ta_RSI.c)
 * with the default unstable period 0 and "classic" (not Metastock) compatibility: the first
 * average gain/loss is the plain mean of the first `period` changes, then Wilder smoothing
 * avg = (avg * (period - 1) + change) / period. RSI = 100 * gain / (gain + loss), 0 when the sum
 * is within TA_EPSILON of zero (flat prices), exactly as TA-Lib.
 */
export class Rsi implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  #count = 0;
  #prevClose = 0;
  #gain = 0;
  #loss = 0;
  #value = Number.NaN;
  #undoPrevClose = 0;
  #undoGain = 0;
  #undoLoss = 0;

  constructor(period: number) {
    this.spec = `rsi:${period}`;
    this.warmup = period + 1;
    this.#n = period;
  }

  update(bar: OhlcvBar): number | null {
    const x = bar.close;
    const i = this.#count++;
    this.#undoPrevClose = this.#prevClose;
    this.#undoGain = this.#gain;
    this.#undoLoss = this.#loss;
    const change = x - this.#prevClose;
    this.#prevClose = x;
    if (i === 0) return null;
    const n = this.#n;
    let gain = this.#gain;
    let loss = this.#loss;
    if (i > n) {
      loss *= n - 1;
      gain *= n - 1;
    }
    // TA-Lib: `if (change < 0) loss -= change; else gain += change;`. Adding 0 to the other side
    // leaves it bit-identical, and min/max compile branch-free: up/down bars are a coin flip the
    // branch predictor loses half the time.
    loss -= Math.min(change, 0);
    gain += Math.max(change, 0);
    if (i >= n) {
      loss /= n;
      gain /= n;
    }
    this.#gain = gain;
    this.#loss = loss;
    if (i < n) return null;
    const total = gain + loss;
    const v = isTaZero(total) ? 0 : 100 * (gain / total);
    this.#value = v;
    return v;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      this.#prevClose = this.#undoPrevClose;
      this.#gain = this.#undoGain;
      this.#loss = this.#undoLoss;
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
      prevClose: this.#prevClose,
      gain: this.#gain,
      loss: this.#loss,
      value: nanToNull(this.#value),
      undo: [this.#undoPrevClose, this.#undoGain, this.#undoLoss],
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    const undo = new Float64Array(3);
    stateArrayInto(s, rec, 'undo', undo);
    this.#count = stateNumber(s, rec, 'count');
    this.#prevClose = stateNumber(s, rec, 'prevClose');
    this.#gain = stateNumber(s, rec, 'gain');
    this.#loss = stateNumber(s, rec, 'loss');
    this.#value = stateNullableNumber(s, rec, 'value');
    [this.#undoPrevClose, this.#undoGain, this.#undoLoss] = undo as unknown as [number, number, number];
  }
}
