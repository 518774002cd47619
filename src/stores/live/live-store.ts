import {
  INTERVALS,
  type Candle,
  type Instrument,
  type Interval,
  type Kpi,
  type MarketEvent,
  type QuoteEvent,
  type TradeEvent,
} from '../../domain/index.js';
import { CandleRing, UpsertResult } from './candle-ring.js';
import { IndicatorRing, type IndicatorInput, type IndicatorPoint } from './indicator-ring.js';

/**
 * Default ring depths, sized for the budget of 100 KB per live symbol (~5,000 symbols in
 * 500 MB): with every interval full, 1,350 slots x 68 B = 91,800 B of columns, plus ~2.8 KB of
 * object overhead measured with --expose-gc (1,000 full symbols). 1s keeps ten minutes, 1m one
 * NYSE session (390 min), 5m two, 15m four, 1h about ten, 1d six weeks. Indicator rings come on
 * top (8 B x (1 + outputs) per slot). Deeper history is the warehouse's job; raise per interval
 * through `depths`.
 */
export const DEFAULT_DEPTHS: Readonly<Record<Interval, number>> = Object.freeze({
  '1s': 600,
  '1m': 390,
  '5m': 156,
  '15m': 104,
  '1h': 70,
  '1d': 30,
});

export interface LiveStoreOptions {
  /** Ring depth per interval; intervals left out keep DEFAULT_DEPTHS. */
  depths?: Partial<Record<Interval, number>>;
}

export interface RangeQuery {
  /** Inclusive lower bound on candle start, epoch ms. */
  from?: number;
  /** Inclusive upper bound on candle start, epoch ms. */
  to?: number;
  /** Keep the newest `limit` within the range. */
  limit?: number;
}

/** Last trade and last quote seen for a symbol (null until one arrives). */
export interface LastTick {
  readonly trade: TradeEvent | null;
  readonly quote: QuoteEvent | null;
}

export interface LiveStoreStats {
  symbols: number;
  candles: number;
  indicatorPoints: number;
  /** Typed-array bytes held by candle and indicator rings (allocated capacity, not just used). */
  approxBytes: number;
}

/** Called once per applied item; `data` is the Candle, Kpi or TradeEvent/QuoteEvent itself. */
export type ChangeListener = (channel: string, symbol: string, data: unknown) => void;

/** Channel names are built once so notifying allocates no strings. */
export const CANDLE_CHANNELS: Readonly<Record<Interval, string>> = Object.freeze(
  Object.fromEntries(INTERVALS.map((i) => [i, `candles:${i}`])) as Record<Interval, string>,
);
export const TICKS_CHANNEL = 'ticks';
export const KPIS_CHANNEL = 'kpis';

class SymbolState {
  readonly symbol: string;
  readonly candles: Map<Interval, CandleRing> = new Map();
  /** Keyed by interval then spec; created on first use since most symbols may have none. */
  indicators: Map<Interval, Map<string, IndicatorRing>> | null = null;
  lastTrade: TradeEvent | null = null;
  lastQuote: QuoteEvent | null = null;
  kpi: Kpi | null = null;
  constructor(symbol: string) {
    this.symbol = symbol;
  }
}

/**
 * The in-memory serving state behind REST and the stream: recent candles, indicator values,
 * last ticks, KPIs and instruments per symbol. Writers are the processors' sinks (batches);
 * readers are the API. Not thread-shared: everything runs on the event loop.
 */
export class LiveStore {
  readonly #depths: Readonly<Record<Interval, number>>;
  readonly #symbols = new Map<string, SymbolState>();
  #instruments = new Map<string, Instrument>();
  #listeners: ChangeListener[] = [];

  constructor(options: LiveStoreOptions = {}) {
    const depths = { ...DEFAULT_DEPTHS };
    for (const interval of INTERVALS) {
      const d = options.depths?.[interval];
      if (d === undefined) continue;
      if (!Number.isInteger(d) || d < 1) {
        throw new RangeError(`depths.${interval}: expected a positive integer, got ${String(d)}; set a ring depth of at least 1`);
      }
      depths[interval] = d;
    }
    this.#depths = Object.freeze(depths);
  }

  get depths(): Readonly<Record<Interval, number>> {
    return this.#depths;
  }

  /** Registers a listener; returns the function that removes it. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  applyCandles(candles: readonly Candle[]): void {
    const listeners = this.#listeners;
    for (let i = 0; i < candles.length; i++) {
      const c = candles[i] as Candle;
      const state = this.#state(c.symbol);
      let ring = state.candles.get(c.interval);
      if (ring === undefined) {
        ring = new CandleRing(c.symbol, c.interval, this.#depths[c.interval]);
        state.candles.set(c.interval, ring);
      }
      if (ring.upsert(c) === UpsertResult.Dropped) continue;
      const channel = CANDLE_CHANNELS[c.interval];
      for (let l = 0; l < listeners.length; l++) (listeners[l] as ChangeListener)(channel, c.symbol, c);
    }
  }

  /** Indicator values are not streamed, so this notifies nobody. */
  applyIndicators(symbol: string, interval: Interval, spec: string, points: readonly IndicatorInput[]): void {
    const ring = this.indicatorRing(symbol, interval, spec);
    for (let i = 0; i < points.length; i++) {
      const p = points[i] as IndicatorInput;
      ring.upsert(p.start, p.value);
    }
  }

  /**
   * Keeps the newest trade and quote per symbol by event time; a late tick neither moves them
   * back nor is streamed, so subscribers never see the price jump to an older value.
   * Bars are candles' business and are ignored here.
   */
  /**
   * The ring holding one indicator of one series, created on first use. Live producers keep it and
   * upsert into it directly: no lookups or allocations per value on the hot path.
   */
  indicatorRing(symbol: string, interval: Interval, spec: string): IndicatorRing {
    const state = this.#state(symbol);
    state.indicators ??= new Map();
    let bySpec = state.indicators.get(interval);
    if (bySpec === undefined) {
      bySpec = new Map();
      state.indicators.set(interval, bySpec);
    }
    let ring = bySpec.get(spec);
    if (ring === undefined) {
      ring = new IndicatorRing(this.#depths[interval]);
      bySpec.set(spec, ring);
    }
    return ring;
  }

  applyTicks(events: readonly MarketEvent[]): void {
    const listeners = this.#listeners;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as MarketEvent;
      if (e.kind === 'bar') continue;
      const state = this.#state(e.symbol);
      if (e.kind === 'trade') {
        if (state.lastTrade !== null && e.ts < state.lastTrade.ts) continue;
        state.lastTrade = e;
      } else {
        if (state.lastQuote !== null && e.ts < state.lastQuote.ts) continue;
        state.lastQuote = e;
      }
      for (let l = 0; l < listeners.length; l++) (listeners[l] as ChangeListener)(TICKS_CHANNEL, e.symbol, e);
    }
  }

  applyKpis(kpis: readonly Kpi[]): void {
    const listeners = this.#listeners;
    for (let i = 0; i < kpis.length; i++) {
      const k = kpis[i] as Kpi;
      this.#state(k.symbol).kpi = k;
      for (let l = 0; l < listeners.length; l++) (listeners[l] as ChangeListener)(KPIS_CHANNEL, k.symbol, k);
    }
  }

  setInstruments(list: readonly Instrument[]): void {
    this.#instruments = new Map(list.map((i) => [i.symbol, i]));
  }

  instruments(): Instrument[] {
    return [...this.#instruments.values()];
  }

  instrument(symbol: string): Instrument | undefined {
    return this.#instruments.get(symbol);
  }

  /** Instruments first (configured order), then symbols seen only in data. */
  symbols(): string[] {
    const out = [...this.#instruments.keys()];
    for (const s of this.#symbols.keys()) if (!this.#instruments.has(s)) out.push(s);
    return out;
  }

  hasSymbol(symbol: string): boolean {
    return this.#instruments.has(symbol) || this.#symbols.has(symbol);
  }

  /** Candles oldest first; with `limit`, the newest `limit` within [from, to]. */
  candles(symbol: string, interval: Interval, query: RangeQuery = {}): Candle[] {
    const ring = this.#symbols.get(symbol)?.candles.get(interval);
    if (ring === undefined) return [];
    const [lo, hi] = ring.range(query.from ?? -Infinity, query.to ?? Infinity, query.limit ?? Infinity);
    const out: Candle[] = new Array(hi - lo);
    for (let i = lo; i < hi; i++) out[i - lo] = ring.at(i);
    return out;
  }

  /** The newest candle, or undefined; the stream's subscribe snapshot. */
  latestCandle(symbol: string, interval: Interval): Candle | undefined {
    const ring = this.#symbols.get(symbol)?.candles.get(interval);
    return ring === undefined || ring.size === 0 ? undefined : ring.at(ring.size - 1);
  }

  /** True when `spec` has a live ring for (symbol, interval). */
  hasIndicator(symbol: string, interval: Interval, spec: string): boolean {
    return this.#symbols.get(symbol)?.indicators?.get(interval)?.has(spec) ?? false;
  }

  /** Points per spec for the specs held live; specs without a live ring are left out. */
  indicators(symbol: string, interval: Interval, specs: readonly string[], query: RangeQuery = {}): Record<string, IndicatorPoint[]> {
    const out: Record<string, IndicatorPoint[]> = {};
    const bySpec = this.#symbols.get(symbol)?.indicators?.get(interval);
    if (bySpec === undefined) return out;
    for (const spec of specs) {
      const ring = bySpec.get(spec);
      if (ring !== undefined) out[spec] = ring.query(query.from ?? -Infinity, query.to ?? Infinity, query.limit ?? Infinity);
    }
    return out;
  }

  /** KPIs in the order symbols first appeared. */
  kpis(): Kpi[] {
    const out: Kpi[] = [];
    for (const s of this.#symbols.values()) if (s.kpi !== null) out.push(s.kpi);
    return out;
  }

  kpi(symbol: string): Kpi | undefined {
    return this.#symbols.get(symbol)?.kpi ?? undefined;
  }

  lastTick(symbol: string): LastTick | undefined {
    const s = this.#symbols.get(symbol);
    if (s === undefined || (s.lastTrade === null && s.lastQuote === null)) return undefined;
    return { trade: s.lastTrade, quote: s.lastQuote };
  }

  stats(): LiveStoreStats {
    let candles = 0;
    let indicatorPoints = 0;
    let approxBytes = 0;
    for (const s of this.#symbols.values()) {
      for (const ring of s.candles.values()) {
        candles += ring.size;
        approxBytes += ring.bytes;
      }
      if (s.indicators === null) continue;
      for (const bySpec of s.indicators.values()) {
        for (const ring of bySpec.values()) {
          indicatorPoints += ring.size;
          approxBytes += ring.bytes;
        }
      }
    }
    return { symbols: this.#symbols.size, candles, indicatorPoints, approxBytes };
  }

  #state(symbol: string): SymbolState {
    let s = this.#symbols.get(symbol);
    if (s === undefined) {
      s = new SymbolState(symbol);
      this.#symbols.set(symbol, s);
    }
    return s;
  }
}
