import { type Indicator, type OhlcvBar, VALUE_OUTPUTS } from './indicator.js';
import { nanToNull, readState, stateNullableNumber, stateNumber, stateString } from './state.js';

/**
 * Session VWAP (not in TA-Lib): cumulative typical price * volume / cumulative volume, with
 * tp = (high + low + close) / 3, restarting whenever `bar.session` differs from the previous
 * bar's (bars without a session never restart). Null while the session has traded no volume:
 * a price weighted by nothing is undefined, and a made-up value would mislead a chart or alert.
 */
export class Vwap implements Indicator<number> {
  readonly spec = 'vwap';
  readonly outputs = VALUE_OUTPUTS;
  readonly warmup = 1;
  #count = 0;
  #session: string | undefined = undefined;
  #pv = 0;
  #volume = 0;
  #value = Number.NaN;
  #undoSession: string | undefined = undefined;
  #undoPv = 0;
  #undoVolume = 0;

  update(bar: OhlcvBar): number | null {
    this.#undoSession = this.#session;
    this.#undoPv = this.#pv;
    this.#undoVolume = this.#volume;
    if (this.#count++ === 0 || bar.session !== this.#session) {
      this.#session = bar.session;
      this.#pv = 0;
      this.#volume = 0;
    }
    const volume = bar.volume;
    this.#pv += ((bar.high + bar.low + bar.close) / 3) * volume;
    this.#volume += volume;
    const v = this.#volume > 0 ? this.#pv / this.#volume : Number.NaN;
    this.#value = v;
    return v === v ? v : null;
  }

  replace(bar: OhlcvBar): number | null {
    if (this.#count > 0) {
      this.#count--;
      this.#session = this.#undoSession;
      this.#pv = this.#undoPv;
      this.#volume = this.#undoVolume;
    }
    return this.update(bar);
  }

  get value(): number | null {
    return nanToNull(this.#value);
  }

  get isStable(): boolean {
    return this.#count >= 1;
  }

  snapshot(): unknown {
    return {
      spec: this.spec,
      count: this.#count,
      session: this.#session ?? null,
      pv: this.#pv,
      volume: this.#volume,
      value: nanToNull(this.#value),
      undoSession: this.#undoSession ?? null,
      undoPv: this.#undoPv,
      undoVolume: this.#undoVolume,
    };
  }

  restore(state: unknown): void {
    const s = this.spec;
    const rec = readState(s, state);
    this.#count = stateNumber(s, rec, 'count');
    this.#session = stateString(s, rec, 'session');
    this.#pv = stateNumber(s, rec, 'pv');
    this.#volume = stateNumber(s, rec, 'volume');
    this.#value = stateNullableNumber(s, rec, 'value');
    this.#undoSession = stateString(s, rec, 'undoSession');
    this.#undoPv = stateNumber(s, rec, 'undoPv');
    this.#undoVolume = stateNumber(s, rec, 'undoVolume');
  }
}
