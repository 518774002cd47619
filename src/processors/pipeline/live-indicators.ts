import { INTERVALS, type Candle, type Interval } from '../../domain/index.js';
import type { Indicator, OhlcvBar } from '../indicators/indicator.js';

/**
 * One served point: `start` plus `value` for single-output indicators, or one key per output for
 * multi-output ones; null during warm-up. The shape the live store serves (its IndicatorPoint).
 */
export type IndicatorPoint = { start: number } & Record<string, number | null>;

export interface LiveIndicatorsOptions {
  specs: readonly string[];
  create: (spec: string) => Indicator<unknown>;
  /** Session key of a candle for session-anchored indicators (VWAP). */
  sessionOf?: (candle: Candle) => string | undefined;
}

/**
 * The configured indicators of every (symbol, interval), with the same streaming classes the batch
 * CLI uses (one code path): the live store's IndicatorProvider. No value is stored per bar.
 *
 * Per series, one indicator set, the tail, lags the live candle ring: when the store evicts the
 * ring's oldest candle, that candle is applied to it (O(specs), once per bar). Evicted candles are
 * final and out of reach of revisions, so the tail is the state after every candle before the
 * ring, and one replay of the ring from a copy of it gives the value at each held candle: the same
 * update sequence as a stream since the series began, equal to the bit (`values`). A revision
 * (a late event amending a held candle, however far back) needs no work here: the ring holds the
 * amended candle and the next query replays it.
 *
 * There is no set following the newest candle: nothing reads one, and it would cost O(specs) per
 * touched candle, a replay per revision and memory (measured at 5,000 symbols: 18 KB RSS per
 * symbol for the tails alone, 62 KB with such a set too, of a 100 KB budget). A consumer of
 * current values (alerts) can keep its own set from the candle stream.
 */
export class LiveIndicators {
  readonly #o: LiveIndicatorsOptions;
  /** Tail sets per interval, keyed by symbol: no key string is built per eviction. */
  readonly #tails: Readonly<Record<Interval, Map<string, Indicator<unknown>[]>>>;
  readonly #bar: OhlcvBar = { open: 0, high: 0, low: 0, close: 0, volume: 0, session: undefined };

  constructor(options: LiveIndicatorsOptions) {
    this.#o = options;
    this.#tails = Object.fromEntries(INTERVALS.map((iv) => [iv, new Map<string, Indicator<unknown>[]>()])) as Record<Interval, Map<string, Indicator<unknown>[]>>;
  }

  maintains(spec: string): boolean {
    return this.#o.specs.includes(spec);
  }

  /** The store's eviction hook: the ring's oldest candle leaves it, so the tail takes it. */
  evicted(candle: Candle): void {
    const specs = this.#o.specs;
    if (specs.length === 0) return;
    const bySymbol = this.#tails[candle.interval];
    let tail = bySymbol.get(candle.symbol);
    if (tail === undefined) {
      tail = specs.map(this.#o.create);
      bySymbol.set(candle.symbol, tail);
    }
    const bar = this.#fill(candle);
    for (let k = 0; k < tail.length; k++) (tail[k] as Indicator<unknown>).update(bar);
  }

  /**
   * Values of maintained `specs` at `candles[first..]`, where `candles` is the series' whole ring,
   * oldest first: a copy of the tail replays the ring. O(candles × specs); allocates, so it is for
   * queries, not the hot path.
   */
  values(symbol: string, interval: Interval, specs: readonly string[], candles: readonly Candle[], first: number): Record<string, IndicatorPoint[]> {
    const tail = this.#tails[interval].get(symbol);
    const inds = specs.map((spec) => {
      const k = this.#o.specs.indexOf(spec);
      if (k < 0) throw new RangeError(`indicator ${JSON.stringify(spec)} is not maintained live; ask maintains(spec) before values()`);
      const ind = this.#o.create(spec);
      // No tail yet: the ring has never evicted, so it holds the series from its first candle.
      if (tail !== undefined) ind.restore((tail[k] as Indicator<unknown>).snapshot());
      return ind;
    });
    const out: Record<string, IndicatorPoint[]> = {};
    const lists = specs.map((spec) => (out[spec] = []));
    for (let i = 0; i < candles.length; i++) {
      const c = candles[i] as Candle;
      const bar = this.#fill(c);
      for (let k = 0; k < inds.length; k++) {
        const ind = inds[k] as Indicator<unknown>;
        const v = ind.update(bar);
        if (i >= first) (lists[k] as IndicatorPoint[]).push(point(c.start, ind.outputs, v));
      }
    }
    return out;
  }

  #fill(c: Candle): OhlcvBar {
    const bar = this.#bar;
    bar.open = c.open;
    bar.high = c.high;
    bar.low = c.low;
    bar.close = c.close;
    bar.volume = c.volume;
    bar.session = this.#o.sessionOf?.(c);
    return bar;
  }
}

/** A value as served: `value` for one output, one key per output otherwise; null and NaN as null. */
function point(start: number, outputs: readonly string[], v: unknown): IndicatorPoint {
  const p = { start } as IndicatorPoint;
  if (outputs.length === 1 && outputs[0] === 'value') {
    p['value'] = typeof v === 'number' && !Number.isNaN(v) ? v : null;
    return p;
  }
  const rec = v as Record<string, unknown> | null;
  for (let j = 0; j < outputs.length; j++) {
    const name = outputs[j] as string;
    const x = rec === null ? null : rec[name];
    p[name] = typeof x === 'number' && !Number.isNaN(x) ? x : null;
  }
  return p;
}
