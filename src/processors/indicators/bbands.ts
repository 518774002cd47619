import { BBANDS_OUTPUTS, type BbandsValue, type Indicator, type OhlcvBar, TA_EPSILON } from './indicator.js';
import { readState, stateArrayInto, stateNumber } from './state.js';

/**
 * Bollinger Bands of the close, TA-Lib BBANDS with an SMA middle band and the same multiplier for
 * both bands (https://ta-lib.org/functions/#bbands, ta_BBANDS.c). The deviation is the population
 * standard deviation computed like TA-Lib's TA_INT_stddev_using_precalc_ma: sqrt(mean of squares -
 * square of the SMA), 0 when that variance is below TA_EPSILON (flat prices). Two running totals
 * (values and squares) with TA-Lib's add-then-subtract order keep it O(1) and bit-equal.
 *
 * Every call returns a fresh object: callers may keep it.
 */
export class Bbands implements Indicator<BbandsValue> {
  readonly spec: string;
  readonly outputs = BBANDS_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  readonly #k: number;
  readonly #ring: Float64Array;
  #count = 0;
  #pos = 0;
  #sum = 0;
  #sum2 = 0;
  #value: BbandsValue | null = null;
  #undoSum = 0;
  #undoSum2 = 0;
  #undoSlot = 0;

  constructor(period: number, k: number) {
    this.spec = `bbands:${period}:${k}`;
    this.warmup = period;
    this.#n = period;
    this.#k = k;
    this.#ring = new Float64Array(period);
  }

  update(bar: OhlcvBar): BbandsValue | null {
    const x = bar.close;
    const n = this.#n;
    const ring = this.#ring;
    const c = ++this.#count;
    let pos = this.#pos;
    this.#undoSum = this.#sum;
    this.#undoSum2 = this.#sum2;
    this.#undoSlot = ring[pos] as number;
    ring[pos] = x;
    pos = pos + 1 === n ? 0 : pos + 1;
    this.#pos = pos;
    const sum = this.#sum + x;
    const sum2 = this.#sum2 + x * x;
    if (c < n) {
      this.#sum = sum;
      this.#sum2 = sum2;
      return (this.#value = null);
    }
    const oldest = ring[pos] as number;
    const middle = sum / n;
    let variance = sum2 / n;
    this.#sum = sum - oldest;
    this.#sum2 = sum2 - oldest * oldest;
    variance -= middle * middle;
    const dev = (variance < TA_EPSILON ? 0 : Math.sqrt(variance)) * this.#k;
    return (this.#value = { upper: middle + dev, middle, lower: middle - dev });
  }

  replace(bar: OhlcvBar): BbandsValue | null {
    if (this.#count > 0) {
      this.#count--;
      const pos = this.#pos === 0 ? this.#n - 1 : this.#pos - 1;
      this.#pos = pos;
      this.#ring[pos] = this.#undoSlot;
      this.#sum = this.#undoSum;
      this.#sum2 = this.#undoSum2;
    }
    return this.update(bar);
  }

  get value(): BbandsValue | null {
    return this.#value;
  }

  get isStable(): boolean {
    return this.#count >= this.warmup;
  }

  snapshot(): unknown {
    return {
      spec: this.spec,
      count: this.#count,
      pos: this.#pos,
      sum: this.#sum,
      sum2: this.#sum2,
      ring: Array.from(this.#ring),
      value: this.#value,
      undo: [this.#undoSum, this.#undoSum2, this.#undoSlot],
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    const undo = new Float64Array(3);
    stateArrayInto(s, rec, 'undo', undo);
    stateArrayInto(s, rec, 'ring', this.#ring);
    this.#count = stateNumber(s, rec, 'count');
    this.#pos = stateNumber(s, rec, 'pos') % this.#n;
    this.#sum = stateNumber(s, rec, 'sum');
    this.#sum2 = stateNumber(s, rec, 'sum2');
    [this.#undoSum, this.#undoSum2, this.#undoSlot] = undo as unknown as [number, number, number];
    const v = rec.value as BbandsValue | null;
    this.#value = v === null ? null : { upper: Number(v.upper), middle: Number(v.middle), lower: Number(v.lower) };
  }
}
