import { type Indicator, type OhlcvBar, STOCH_OUTPUTS, type StochValue } from './indicator.js';
import { ExtremeWindow } from './extreme-window.js';
import { SmaWindow } from './sma-window.js';
import { readState, stateObject } from './state.js';

/**
 * Slow stochastic oscillator, TA-Lib STOCH with SMA for both smoothings
 * (https://ta-lib.org/functions/#stoch, ta_STOCH.c): fast %K = (close - lowest low) /
 * ((highest high - lowest low) / 100) over `fastK` bars (0 when the range is 0), written as
 * TA-Lib divides so rounding matches; k = SMA(slowK) of fast %K; d = SMA(slowD) of k. Both are
 * reported from bar fastK + slowK + slowD - 3 on, as TA-Lib aligns them.
 *
 * Every call returns a fresh object: callers may keep it.
 */
export class Stoch implements Indicator<StochValue> {
  readonly spec: string;
  readonly outputs = STOCH_OUTPUTS;
  readonly warmup: number;
  readonly #highest: ExtremeWindow;
  readonly #lowest: ExtremeWindow;
  readonly #k: SmaWindow;
  readonly #d: SmaWindow;
  #value: StochValue | null = null;

  constructor(fastK: number, slowK: number, slowD: number) {
    this.spec = `stoch:${fastK}:${slowK}:${slowD}`;
    this.warmup = fastK + slowK + slowD - 2;
    this.#highest = new ExtremeWindow(fastK, true);
    this.#lowest = new ExtremeWindow(fastK, false);
    this.#k = new SmaWindow(slowK, fastK - 1);
    this.#d = new SmaWindow(slowD, fastK + slowK - 2);
  }

  update(bar: OhlcvBar): StochValue | null {
    const highest = this.#highest.push(bar.high);
    const lowest = this.#lowest.push(bar.low);
    const diff = (highest - lowest) / 100;
    const fastK = diff !== 0 ? (bar.close - lowest) / diff : 0;
    const k = this.#k.push(fastK);
    const d = this.#d.push(k);
    return (this.#value = d === d ? { k, d } : null);
  }

  replace(bar: OhlcvBar): StochValue | null {
    if (this.#k.count > 0) {
      this.#highest.undo();
      this.#lowest.undo();
      this.#k.undo();
      this.#d.undo();
    }
    return this.update(bar);
  }

  get value(): StochValue | null {
    return this.#value;
  }

  get isStable(): boolean {
    return this.#k.count >= this.warmup;
  }

  snapshot(): unknown {
    return {
      spec: this.spec,
      value: this.#value,
      highest: this.#highest.snapshot(),
      lowest: this.#lowest.snapshot(),
      k: this.#k.snapshot(),
      d: this.#d.snapshot(),
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    this.#highest.restore(s, stateObject(s, rec, 'highest'));
    this.#lowest.restore(s, stateObject(s, rec, 'lowest'));
    this.#k.restore(s, stateObject(s, rec, 'k'));
    this.#d.restore(s, stateObject(s, rec, 'd'));
    const v = rec.value as StochValue | null;
    this.#value = v === null ? null : { k: Number(v.k), d: Number(v.d) };
  }
}
