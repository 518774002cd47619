import { type Indicator, MACD_OUTPUTS, type MacdValue, type OhlcvBar } from './indicator.js';
import { readState, stateArrayInto, stateNumber } from './state.js';

const FIELDS = 6;

/**
 * Moving average convergence/divergence of the close, TA-Lib MACD
 * (https://ta-lib.org/functions/#macd, ta_MACD.c): macd = EMA(fast) - EMA(slow), signal =
 * EMA(signal) of macd, histogram = macd - signal, each EMA seeded like TA_INT_EMA (SMA of its
 * first `period` inputs, then (x - ema) * k + ema with k = 2 / (period + 1)).
 *
 * TA-Lib starts the fast EMA aligned with the slow one: both are seeded at bar slow - 1, the fast
 * one with the SMA of the `fast` closes ending there (not of the first `fast` closes). The signal
 * EMA is seeded with the SMA of the first `signal` macd values, so the first output is at bar
 * slow + signal - 2.
 *
 * The three EMAs are inlined as scalar fields (no sub-objects): MACD is the hottest of the
 * default indicators and this halves its cost per update. Every call returns a fresh object:
 * callers may keep it.
 */
export class Macd implements Indicator<MacdValue> {
  readonly spec: string;
  readonly outputs = MACD_OUTPUTS;
  readonly warmup: number;
  readonly #fast: number;
  readonly #slow: number;
  readonly #signal: number;
  readonly #kFast: number;
  readonly #kSlow: number;
  readonly #kSignal: number;
  #count = 0;
  #fastEma = 0;
  #slowEma = 0;
  #signalEma = 0;
  /** Seed sums while each EMA warms up. */
  #fastSum = 0;
  #slowSum = 0;
  #signalSum = 0;
  #value: MacdValue | null = null;
  readonly #undo = new Float64Array(FIELDS);

  constructor(fast: number, slow: number, signal: number) {
    this.spec = `macd:${fast}:${slow}:${signal}`;
    this.warmup = slow + signal - 1;
    this.#fast = fast;
    this.#slow = slow;
    this.#signal = signal;
    this.#kFast = 2 / (fast + 1);
    this.#kSlow = 2 / (slow + 1);
    this.#kSignal = 2 / (signal + 1);
  }

  update(bar: OhlcvBar): MacdValue | null {
    const x = bar.close;
    const i = this.#count++;
    const u = this.#undo;
    u[0] = this.#fastEma;
    u[1] = this.#slowEma;
    u[2] = this.#signalEma;
    if (i >= this.warmup) {
      // Steady state: three EMA steps in TA-Lib's operation order.
      const fastEma = (this.#fastEma = (x - this.#fastEma) * this.#kFast + this.#fastEma);
      const slowEma = (this.#slowEma = (x - this.#slowEma) * this.#kSlow + this.#slowEma);
      const macd = fastEma - slowEma;
      const signal = (this.#signalEma = (macd - this.#signalEma) * this.#kSignal + this.#signalEma);
      return (this.#value = { macd, signal, histogram: macd - signal });
    }
    u[3] = this.#fastSum;
    u[4] = this.#slowSum;
    u[5] = this.#signalSum;
    return (this.#value = this.#warmupStep(x, i));
  }

  #warmupStep(x: number, i: number): MacdValue | null {
    const slow = this.#slow;
    const seedAt = slow - 1;
    if (i < seedAt) {
      this.#slowSum += x;
      if (i >= slow - this.#fast) this.#fastSum += x;
      return null;
    }
    let fastEma: number;
    let slowEma: number;
    if (i === seedAt) {
      fastEma = this.#fastEma = (this.#fastSum += x) / this.#fast;
      slowEma = this.#slowEma = (this.#slowSum += x) / slow;
    } else {
      fastEma = this.#fastEma = (x - this.#fastEma) * this.#kFast + this.#fastEma;
      slowEma = this.#slowEma = (x - this.#slowEma) * this.#kSlow + this.#slowEma;
    }
    const macd = fastEma - slowEma;
    this.#signalSum += macd;
    if (i < this.warmup - 1) return null;
    const signal = (this.#signalEma = this.#signalSum / this.#signal);
    return { macd, signal, histogram: macd - signal };
  }

  replace(bar: OhlcvBar): MacdValue | null {
    if (this.#count > 0) {
      const u = this.#undo;
      this.#count--;
      this.#fastEma = u[0] as number;
      this.#slowEma = u[1] as number;
      this.#signalEma = u[2] as number;
      if (this.#count < this.warmup) {
        this.#fastSum = u[3] as number;
        this.#slowSum = u[4] as number;
        this.#signalSum = u[5] as number;
      }
    }
    return this.update(bar);
  }

  get value(): MacdValue | null {
    return this.#value;
  }

  get isStable(): boolean {
    return this.#count >= this.warmup;
  }

  snapshot(): unknown {
    return {
      spec: this.spec,
      count: this.#count,
      state: [this.#fastEma, this.#slowEma, this.#signalEma, this.#fastSum, this.#slowSum, this.#signalSum],
      value: this.#value,
      undo: Array.from(this.#undo),
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    const st = new Float64Array(FIELDS);
    stateArrayInto(s, rec, 'state', st);
    stateArrayInto(s, rec, 'undo', this.#undo);
    this.#count = stateNumber(s, rec, 'count');
    [this.#fastEma, this.#slowEma, this.#signalEma, this.#fastSum, this.#slowSum, this.#signalSum] =
      st as unknown as [number, number, number, number, number, number];
    const v = rec.value as MacdValue | null;
    this.#value = v === null ? null : { macd: Number(v.macd), signal: Number(v.signal), histogram: Number(v.histogram) };
  }
}
