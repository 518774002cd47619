import { INTERVAL_MS, type Candle, type Interval } from '../../domain/index.js';
import type { Indicator, OhlcvBar } from '../indicators/indicator.js';

/**
 * Where one series' values of one indicator go (the live store's ring). `upsert` must read a
 * multi-output value at once and not keep the object: the indicator may reuse it.
 */
export interface IndicatorTarget {
  upsert(start: number, value: unknown): unknown;
}

/** A recent bar with every indicator's state from before it, so a revision can re-apply from there. */
interface Recent {
  start: number;
  bar: OhlcvBar;
  before: unknown[];
}

interface Series {
  readonly symbol: string;
  readonly interval: Interval;
  indicators: Indicator<unknown>[];
  readonly targets: IndicatorTarget[];
  /** Start of the newest bar added; -Infinity before the first. */
  lastStart: number;
  /** The newest bars (at most `recentBars(interval)`), oldest first. */
  recent: Recent[];
}

export interface LiveIndicatorsOptions {
  specs: readonly string[];
  create: (spec: string) => Indicator<unknown>;
  /** Session key of a candle for session-anchored indicators (VWAP). */
  sessionOf?: (candle: Candle) => string | undefined;
  /**
   * The candles held for a series, oldest first, with amendments already applied (the live
   * store's ring). A revision older than the saved recent bars recomputes the series from them.
   */
  history: (symbol: string, interval: Interval) => readonly Candle[];
  /** Bars that a late event can still amend: state is saved before each. Default from 2 s lateness. */
  allowedLatenessMs?: number;
  /** Resolved once per series and spec; values are upserted into it without allocation. */
  target: (symbol: string, interval: Interval, spec: string) => IndicatorTarget;
}

/**
 * Keeps the configured indicators of every (symbol, interval) up to date from candle updates,
 * with the same streaming classes the batch CLI uses (one code path). A forming candle's update is
 * a `replace` of the newest bar and a new bucket an `update`, both O(1). For the few newest bars a
 * late event can still amend (allowed lateness / interval, plus two), the state before each bar is
 * saved, so a revision (rev + 1) restores it and re-applies the bars after: the amendment flows on
 * to every later value, exactly. A revision older than that (not expected with the configured
 * lateness) recomputes the series from the candles held: exact while the ring holds the whole
 * history; beyond, long-memory indicators (EMA, Wilder) differ by about (1 − α)^depth.
 */
export class LiveIndicators {
  readonly #o: LiveIndicatorsOptions;
  readonly #series = new Map<string, Series>();
  readonly #bar: OhlcvBar = { open: 0, high: 0, low: 0, close: 0, volume: 0, session: undefined };
  readonly #recentBars: (interval: Interval) => number;
  #recomputations = 0;

  constructor(options: LiveIndicatorsOptions) {
    this.#o = options;
    const lateness = options.allowedLatenessMs ?? 2_000;
    this.#recentBars = (interval) => Math.ceil(lateness / INTERVAL_MS[interval]) + 2;
  }

  get specs(): readonly string[] {
    return this.#o.specs;
  }

  /** How many revisions of older candles forced a recomputation. */
  get recomputations(): number {
    return this.#recomputations;
  }

  apply(candles: readonly Candle[]): void {
    if (this.#o.specs.length === 0) return;
    for (let i = 0; i < candles.length; i++) this.#applyOne(candles[i] as Candle);
  }

  #seriesOf(c: Candle): Series {
    const key = c.interval + c.symbol;
    let s = this.#series.get(key);
    if (s === undefined) {
      s = {
        symbol: c.symbol,
        interval: c.interval,
        indicators: this.#o.specs.map(this.#o.create),
        targets: this.#o.specs.map((spec) => this.#o.target(c.symbol, c.interval, spec)),
        lastStart: Number.NEGATIVE_INFINITY,
        recent: [],
      };
      this.#series.set(key, s);
    }
    return s;
  }

  #applyOne(c: Candle): void {
    const s = this.#seriesOf(c);
    if (c.start < s.lastStart) {
      this.#revise(s, c);
      return;
    }
    const bar = this.#fill(c);
    const isNew = c.start > s.lastStart;
    s.lastStart = c.start;
    if (isNew) {
      const recent = s.recent;
      const entry = recent.length >= this.#recentBars(c.interval) ? (recent.shift() as Recent) : { start: 0, bar: { ...bar }, before: [] };
      entry.start = c.start;
      entry.before = s.indicators.map((ind) => ind.snapshot());
      recent.push(entry);
    }
    const last = s.recent[s.recent.length - 1] as Recent;
    Object.assign(last.bar, bar);
    const inds = s.indicators;
    const targets = s.targets;
    for (let k = 0; k < inds.length; k++) {
      const ind = inds[k] as Indicator<unknown>;
      (targets[k] as IndicatorTarget).upsert(c.start, isNew ? ind.update(bar) : ind.replace(bar));
    }
  }

  /** A revision of an older bar: re-apply from the saved state before it, or recompute. */
  #revise(s: Series, c: Candle): void {
    const at = s.recent.findIndex((r) => r.start === c.start);
    if (at < 0) {
      this.#recompute(s);
      return;
    }
    Object.assign((s.recent[at] as Recent).bar, this.#fill(c));
    const first = s.recent[at] as Recent;
    s.indicators.forEach((ind, k) => ind.restore(first.before[k]));
    for (let h = at; h < s.recent.length; h++) {
      const entry = s.recent[h] as Recent;
      if (h > at) entry.before = s.indicators.map((ind) => ind.snapshot());
      for (let k = 0; k < s.indicators.length; k++) {
        (s.targets[k] as IndicatorTarget).upsert(entry.start, (s.indicators[k] as Indicator<unknown>).update(entry.bar));
      }
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

  #recompute(s: Series): void {
    this.#recomputations++;
    s.indicators = this.#o.specs.map(this.#o.create);
    s.recent = [];
    s.lastStart = Number.NEGATIVE_INFINITY;
    this.#feed(s, this.#o.history(s.symbol, s.interval));
  }

  /** Adds bars in order (newer than the series' newest), saving state before the last recent ones. */
  #feed(s: Series, candles: readonly Candle[]): void {
    const keep = this.#recentBars(s.interval);
    for (let i = 0; i < candles.length; i++) {
      const c = candles[i] as Candle;
      if (c.start <= s.lastStart) continue;
      const bar = this.#fill(c);
      if (i >= candles.length - keep) {
        s.recent.push({ start: c.start, bar: { ...bar }, before: s.indicators.map((ind) => ind.snapshot()) });
        if (s.recent.length > keep) s.recent.shift();
      }
      for (let k = 0; k < s.indicators.length; k++) {
        (s.targets[k] as IndicatorTarget).upsert(c.start, (s.indicators[k] as Indicator<unknown>).update(bar));
      }
      s.lastStart = c.start;
    }
  }

  /**
   * Feeds whole series in order (the rebuild after a restart), saving state only before the
   * bars a late event can still reach.
   */
  load(candles: readonly Candle[]): void {
    const bySeries = new Map<string, Candle[]>();
    for (const c of candles) {
      const key = c.interval + c.symbol;
      let list = bySeries.get(key);
      if (list === undefined) bySeries.set(key, (list = []));
      list.push(c);
    }
    for (const list of bySeries.values()) this.#feed(this.#seriesOf(list[0] as Candle), list);
  }
}
