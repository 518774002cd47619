import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { ExtremeWindow } from './extreme-window.js';
import { nanToNull, readState, stateNullableNumber, stateNumber, stateObject } from './state.js';

/**
 * Williams %R, TA-Lib WILLR (https://ta-lib.org/functions/#willr, ta_WILLR.c):
 * (highest high - close) / ((highest high - lowest low) / -100) over `period` bars, 0 when the
 * range is 0; divided exactly as TA-Lib does so rounding matches. Highest/lowest come from
 * monotonic deques (O(1) amortised) instead of TA-Lib's rescans.
 */
export class Willr implements Indicator<number> {
  readonly spec: string;
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup: number;
  readonly #highest: ExtremeWindow;
  readonly #lowest: ExtremeWindow;
  #count = 0;
  #value = Number.NaN;

  constructor(period: number) {
    this.spec = `willr:${period}`;
    this.warmup = period;
    this.#highest = new ExtremeWindow(period, true);
    this.#lowest = new ExtremeWindow(period, false);
  }

  update(bar: OhlcvBar): number | null {
    const highest = this.#highest.push(bar.high);
    const lowest = this.#lowest.push(bar.low);
    if (++this.#count < this.warmup) {
      this.#value = Number.NaN;
      return null;
    }
    const diff = (highest - lowest) / -100;
    const v = diff !== 0 ? (highest - bar.close) / diff : 0;
    this.#value = v;
    return v;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      this.#highest.undo();
      this.#lowest.undo();
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
      value: nanToNull(this.#value),
      highest: this.#highest.snapshot(),
      lowest: this.#lowest.snapshot(),
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    this.#highest.restore(s, stateObject(s, rec, 'highest'));
    this.#lowest.restore(s, stateObject(s, rec, 'lowest'));
    this.#count = stateNumber(s, rec, 'count');
    this.#value = stateNullableNumber(s, rec, 'value');
  }
}
