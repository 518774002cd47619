import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateArrayInto, stateNullableNumber, stateNumber } from './state.js';
import { UndoRing } from './undo-ring.js';

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
  readonly #ring: UndoRing;
  #sum = 0;
  #sub = 0;
  #trailing = 0;
  #value = Number.NaN;
  #undoSum = 0;
  #undoSub = 0;
  #undoTrailing = 0;

  constructor(period: number) {
    this.spec = `wma:${period}`;
    this.warmup = period;
    this.#n = period;
    this.#divider = (period * (period + 1)) / 2;
    this.#ring = new UndoRing(period);
  }

  update(bar: OhlcvBar): number | null {
    const x = bar.close;
    const n = this.#n;
    const i = this.#ring.count;
    this.#undoSum = this.#sum;
    this.#undoSub = this.#sub;
    this.#undoTrailing = this.#trailing;
    this.#ring.push(x);
    if (i < n - 1) {
      this.#sub += x;
      this.#sum += x * (i + 1);
      this.#value = Number.NaN;
      return null;
    }
    let sub = this.#sub + x;
    sub -= this.#trailing;
    const sum = this.#sum + x * n;
    this.#trailing = this.#ring.oldest;
    const v = sum / this.#divider;
    this.#sum = sum - sub;
    this.#sub = sub;
    this.#value = v;
    return v;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#ring.count > 0) {
      this.#ring.undo();
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
    return this.#ring.count >= this.warmup;
  }

  snapshot(): unknown {
    return {
      spec: this.spec,
      ...this.#ring.snapshot(),
      sum: this.#sum,
      sub: this.#sub,
      trailing: this.#trailing,
      value: nanToNull(this.#value),
      undo: [this.#undoSum, this.#undoSub, this.#undoTrailing],
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    const undo = new Float64Array(3);
    stateArrayInto(s, rec, 'undo', undo);
    this.#ring.restore(s, rec);
    this.#sum = stateNumber(s, rec, 'sum');
    this.#sub = stateNumber(s, rec, 'sub');
    this.#trailing = stateNumber(s, rec, 'trailing');
    this.#value = stateNullableNumber(s, rec, 'value');
    [this.#undoSum, this.#undoSub, this.#undoTrailing] = undo as unknown as [number, number, number];
  }
}
