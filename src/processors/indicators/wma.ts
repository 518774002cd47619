import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';

/**
 * Linearly weighted moving average of the close, TA-Lib WMA (https://ta-lib.org/functions/#wma,
 * ta_WMA.c): weights 1..period, divider period * (period + 1) / 2. O(1) with TA-Lib's own two
 * running sums: `sum` is the weighted total, `sub` the plain total that is taken off the weighted
 * one after each output (every weight drops by one); the same operation order keeps rounding equal.
 */
export class Wma implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #n: number;
  readonly #divider: number;
  readonly #ring: Float64Array;
  #count = 0;
  #pos = 0;
  #sum = 0;
  #sub = 0;
  #trailing = 0;
  #value = Number.NaN;
  #undoSum = 0;
  #undoSub = 0;
  #undoTrailing = 0;
  #undoSlot = 0;

  constructor(period: number) {
    this.spec = `wma:${period}`;
    this.warmup = period;
    this.#n = period;
    this.#divider = (period * (period + 1)) / 2;
    this.#ring = new Float64Array(period);
  }

  update(bar: OhlcvBar): number | null {
    const x = bar.close;
    const n = this.#n;
    const ring = this.#ring;
    const i = this.#count++;
    let pos = this.#pos;
    this.#undoSum = this.#sum;
    this.#undoSub = this.#sub;
    this.#undoTrailing = this.#trailing;
    this.#undoSlot = ring[pos] as number;
    ring[pos] = x;
    pos = pos + 1 === n ? 0 : pos + 1;
    this.#pos = pos;
    if (i < n - 1) {
      this.#sub += x;
      this.#sum += x * (i + 1);
      this.#value = Number.NaN;
      return null;
    }
    let sub = this.#sub + x;
    sub -= this.#trailing;
    const sum = this.#sum + x * n;
    this.#trailing = ring[pos] as number;
    const v = sum / this.#divider;
    this.#sum = sum - sub;
    this.#sub = sub;
    this.#value = v;
    return v;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      const pos = this.#pos === 0 ? this.#n - 1 : this.#pos - 1;
      this.#pos = pos;
      this.#ring[pos] = this.#undoSlot;
      this.#sum = this.#undoSum;
      this.#sub = this.#undoSub;
      this.#trailing = this.#undoTrailing;
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
      sum: this.#sum,
      sub: this.#sub,
      trailing: this.#trailing,
      value: nanToNull(this.#value),
      ring: Array.from(this.#ring),
      undo: [this.#undoSum, this.#undoSub, this.#undoTrailing, this.#undoSlot],
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    const undo = new Float64Array(4);
    stateArrayInto(s, rec, 'undo', undo);
    stateArrayInto(s, rec, 'ring', this.#ring);
    this.#count = stateNumber(s, rec, 'count');
    this.#pos = stateNumber(s, rec, 'pos') % this.#n;
    this.#sum = stateNumber(s, rec, 'sum');
    this.#sub = stateNumber(s, rec, 'sub');
    this.#trailing = stateNumber(s, rec, 'trailing');
    this.#value = stateNullableNumber(s, rec, 'value');
    [this.#undoSum, this.#undoSub, this.#undoTrailing, this.#undoSlot] = undo as unknown as [number, number, number, number];
  }
}
