import type { Candle, Interval } from '../../domain/index.js';
import type { Indicator, OhlcvBar } from '../indicators/indicator.js';

export interface IndicatorPoint {
  start: number;
  value: unknown;
}

/** Receives indicator values as they change: one call per (symbol, interval, spec) per change. */
export type IndicatorSink = (symbol: string, interval: Interval, spec: string, points: readonly IndicatorPoint[]) => void;

interface Series {
  readonly symbol: string;
  readonly interval: Interval;
  indicators: Indicator<unknown>[];
  /** Start of the newest bar added; -Infinity before the first. */
  lastStart: number;
}

export interface LiveIndicatorsOptions {
  specs: readonly string[];
  create: (spec: string) => Indicator<unknown>;
  /** Session key of a candle for session-anchored indicators (VWAP). */
  sessionOf?: (candle: Candle) => string | undefined;
  /**
   * The candles held for a series, oldest first, with amendments already applied (the live
   * store's ring). A revision of an older candle recomputes the series from them.
   */
  history: (symbol: string, interval: Interval) => readonly Candle[];
}

/**
 * Keeps the configured indicators of every (symbol, interval) up to date from candle updates,
 * with the same streaming classes the batch CLI uses (one code path). A forming candle's update is
 * a `replace` of the newest bar and a new bucket an `update`, both O(1). A revision of an older
 * candle (a late trade amended it, rev + 1) is rare, so instead of saving state before every bar
 * the series is recomputed from the candles held, and the amendment flows on to every later value.
 * Warm-up of such a recomputation starts at the oldest candle held: exact while the ring holds the
 * whole history; beyond that, long-memory indicators (EMA, Wilder) differ by (1 − α)^depth.
 */
export class LiveIndicators {
  readonly #o: LiveIndicatorsOptions;
  readonly #series = new Map<string, Series>();
  readonly #bar: OhlcvBar = { open: 0, high: 0, low: 0, close: 0, volume: 0, session: undefined };
  #recomputations = 0;

  constructor(options: LiveIndicatorsOptions) {
    this.#o = options;
  }

  get specs(): readonly string[] {
    return this.#o.specs;
  }

  /** How many revisions of older candles forced a recomputation. */
  get recomputations(): number {
    return this.#recomputations;
  }

  apply(candles: readonly Candle[], sink: IndicatorSink): void {
    if (this.#o.specs.length === 0) return;
    for (let i = 0; i < candles.length; i++) this.#applyOne(candles[i] as Candle, sink);
  }

  #seriesOf(c: Candle): Series {
    const key = c.interval + c.symbol;
    let s = this.#series.get(key);
    if (s === undefined) {
      s = { symbol: c.symbol, interval: c.interval, indicators: this.#o.specs.map(this.#o.create), lastStart: Number.NEGATIVE_INFINITY };
      this.#series.set(key, s);
    }
    return s;
  }

  #applyOne(c: Candle, sink: IndicatorSink): void {
    const s = this.#seriesOf(c);
    if (c.start < s.lastStart) {
      this.#recompute(s, sink);
      return;
    }
    const bar = this.#fill(c);
    const isNew = c.start > s.lastStart;
    s.lastStart = c.start;
    const specs = this.#o.specs;
    for (let k = 0; k < s.indicators.length; k++) {
      const ind = s.indicators[k] as Indicator<unknown>;
      const v = isNew ? ind.update(bar) : ind.replace(bar);
      sink(c.symbol, c.interval, specs[k] as string, [{ start: c.start, value: copy(v) }]);
    }
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

  #recompute(s: Series, sink: IndicatorSink): void {
    this.#recomputations++;
    const candles = this.#o.history(s.symbol, s.interval);
    s.indicators = this.#o.specs.map(this.#o.create);
    const points: IndicatorPoint[][] = this.#o.specs.map(() => []);
    for (const c of candles) {
      const bar = this.#fill(c);
      for (let k = 0; k < s.indicators.length; k++) {
        (points[k] as IndicatorPoint[]).push({ start: c.start, value: copy((s.indicators[k] as Indicator<unknown>).update(bar)) });
      }
      s.lastStart = c.start;
    }
    for (let k = 0; k < this.#o.specs.length; k++) sink(s.symbol, s.interval, this.#o.specs[k] as string, points[k] as IndicatorPoint[]);
  }

  /**
   * Feeds a whole series in order (a rebuild after restart): same as applying each candle, but the
   * sink gets one call per spec.
   */
  load(candles: readonly Candle[], sink: IndicatorSink): void {
    const bySeries = new Map<string, Candle[]>();
    for (const c of candles) {
      const key = c.interval + c.symbol;
      let list = bySeries.get(key);
      if (list === undefined) bySeries.set(key, (list = []));
      list.push(c);
    }
    for (const list of bySeries.values()) {
      const first = list[0] as Candle;
      const s = this.#seriesOf(first);
      const points: IndicatorPoint[][] = this.#o.specs.map(() => []);
      for (const c of list) {
        if (c.start <= s.lastStart) continue;
        const bar = this.#fill(c);
        for (let k = 0; k < s.indicators.length; k++) {
          (points[k] as IndicatorPoint[]).push({ start: c.start, value: copy((s.indicators[k] as Indicator<unknown>).update(bar)) });
        }
        s.lastStart = c.start;
      }
      for (let k = 0; k < this.#o.specs.length; k++) sink(s.symbol, s.interval, this.#o.specs[k] as string, points[k] as IndicatorPoint[]);
    }
  }
}

/** Multi-output values may be reused objects inside an indicator; keep a copy. */
function copy(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? { ...(v as object) } : v;
}
