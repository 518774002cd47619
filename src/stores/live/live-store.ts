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

/**
 * Default ring depths, sized for the budget of 100 KB RSS per live symbol (~5,000 symbols in
 * 500 MB) as `node --expose-gc dist/bench/memory.js 5000` measures it: every interval full, the 7
 * default indicators and all pipeline state. Per symbol that is ~47 KB whatever the depths (~18 KB
 * of it the indicators' tail state for 6 series, the rest the candle and KPI operators', ingest's
 * and the store's own) plus CANDLE_SLOT_BYTES = 68 B per slot: these 705 slots are 47.9 KB, and
 * ~94 KB is measured in all.
 * Indicator values take no slot: they are derived on demand from the ring (IndicatorProvider),
 * so a deeper ring costs only its candles and a longer replay per indicator query.
 * 1s keeps two minutes, 1m one NYSE session (390 min), 5m one, 15m two, 1h five (seven bars a
 * session), 1d six weeks. Deeper history is the warehouse's job; raise per interval through
 * `live.depths`: 100 more slots cost 6.8 KB per symbol, 34 MB at 5,000 symbols.
 */
export const DEFAULT_DEPTHS: Readonly<Record<Interval, number>> = Object.freeze({
  '1s': 120,
  '1m': 390,
  '5m': 78,
  '15m': 52,
  '1h': 35,
  '1d': 30,
});

/**
 * One served indicator point: `start` plus `value` for single-output indicators, or one key per
 * output (`macd`, `signal`, `histogram`, ...) for multi-output ones; null during warm-up.
 */
export type IndicatorPoint = { start: number } & Record<string, number | null>;

/**
 * Derives indicator values from the candles the store holds (the pipeline's LiveIndicators
 * implements it; the store imports no processor). Rings keep no values: the provider keeps, per
 * series, the indicator state after every candle the ring has evicted, so replaying the ring from
 * that state gives each held candle's value exactly as it was streamed.
 */
export interface IndicatorProvider {
  /** True when `spec` is maintained for every series from its first candle. */
  maintains(spec: string): boolean;
  /** A full ring is about to drop `candle`, its oldest; `candle` is overwritten after the call. */
  evicted(candle: Candle): void;
  /**
   * Values of `specs` (all maintained) at `candles[first..]`, where `candles` is the series' ring
   * from its oldest candle, oldest first. One point per candle from `first` on.
   */
  values(symbol: string, interval: Interval, specs: readonly string[], candles: readonly Candle[], first: number): Record<string, IndicatorPoint[]>;
}

export interface LiveStoreOptions {
  /** Ring depth per interval; intervals left out keep DEFAULT_DEPTHS. */
  depths?: Partial<Record<Interval, number>>;
  /** Serves indicator values and hears of every eviction; without it no indicator is served. */
  indicators?: IndicatorProvider;
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
  /** Typed-array bytes held by candle rings (allocated capacity, not just used). */
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

/** Position of each interval in INTERVALS: a symbol's rings are a 6-slot array, smaller than a Map and no hashing per candle. */
const SLOT: Readonly<Record<Interval, number>> = Object.freeze(Object.fromEntries(INTERVALS.map((iv, i) => [iv, i])) as Record<Interval, number>);

class SymbolState {
  readonly symbol: string;
  /** Indexed by SLOT; null until the interval's first candle. */
  readonly rings: (CandleRing | null)[] = [null, null, null, null, null, null];
  lastTrade: TradeEvent | null = null;
  lastQuote: QuoteEvent | null = null;
  kpi: Kpi | null = null;
  constructor(symbol: string) {
    this.symbol = symbol;
  }
}

/**
 * The in-memory serving state behind REST and the stream: recent candles, last ticks, KPIs and
 * instruments per symbol, and indicator values through the IndicatorProvider. Writers are the
 * processors' sinks (batches); readers are the API. Not thread-shared: everything runs on the
 * event loop.
 */
export class LiveStore {
  readonly #depths: Readonly<Record<Interval, number>>;
  readonly #provider: IndicatorProvider | null;
  readonly #onEvict: ((ring: CandleRing) => void) | null;
  /** The candle handed to the provider on eviction, reused so evictions allocate nothing. */
  readonly #evicted: Candle = { symbol: '', interval: '1s', start: 0, end: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, vwap: 0, trades: 0, final: false, rev: 0 };
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
    const provider = options.indicators ?? null;
    this.#provider = provider;
    this.#onEvict =
      provider === null
        ? null
        : (ring) => {
            ring.readInto(0, this.#evicted);
            provider.evicted(this.#evicted);
          };
  }

  get depths(): Readonly<Record<Interval, number>> {
    return this.#depths;
  }

  /** Registers a listener; returns the function that removes it. */
  /**
   * Tells the subscribers of `channel` something that is not live state: the dashboard refresh
   * channel ("lake.incremental ran: reload what comes from the lake"). Nothing is kept.
   */
  notify(channel: string, symbol: string, data: unknown): void {
    for (const l of this.#listeners) l(channel, symbol, data);
  }

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
      const rings = this.#state(c.symbol).rings;
      const slot = SLOT[c.interval];
      let ring = rings[slot] as CandleRing | null;
      if (ring === null) {
        ring = new CandleRing(c.symbol, c.interval, this.#depths[c.interval], this.#onEvict);
        rings[slot] = ring;
      }
      if (ring.upsert(c) === UpsertResult.Dropped) continue;
      const channel = CANDLE_CHANNELS[c.interval];
      for (let l = 0; l < listeners.length; l++) (listeners[l] as ChangeListener)(channel, c.symbol, c);
    }
  }

  /**
   * Keeps the newest trade and quote per symbol by event time; a late tick neither moves them
   * back nor is streamed, so subscribers never see the price jump to an older value.
   * Bars are candles' business and are ignored here.
   */
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
    const ring = this.#ring(symbol, interval);
    if (ring === null) return [];
    const [lo, hi] = ring.range(query.from ?? -Infinity, query.to ?? Infinity, query.limit ?? Infinity);
    const out: Candle[] = new Array(hi - lo);
    for (let i = lo; i < hi; i++) out[i - lo] = ring.at(i);
    return out;
  }

  /** The newest candle, or undefined; the stream's subscribe snapshot. */
  latestCandle(symbol: string, interval: Interval): Candle | undefined {
    const ring = this.#ring(symbol, interval);
    return ring === null || ring.size === 0 ? undefined : ring.at(ring.size - 1);
  }

  /**
   * Points per spec for the specs maintained live (others are left out), one per candle held in
   * [from, to], the newest `limit` of them, oldest first. Computed on demand by replaying the
   * ring from the provider's state before its oldest candle: O(depth × specs) per call.
   */
  indicators(symbol: string, interval: Interval, specs: readonly string[], query: RangeQuery = {}): Record<string, IndicatorPoint[]> {
    const provider = this.#provider;
    const live = provider === null ? [] : specs.filter((spec) => provider.maintains(spec));
    if (provider === null || live.length === 0) return {};
    const ring = this.#ring(symbol, interval);
    if (ring === null) return Object.fromEntries(live.map((spec) => [spec, []]));
    const [lo, hi] = ring.range(query.from ?? -Infinity, query.to ?? Infinity, query.limit ?? Infinity);
    // Every candle from the oldest, not just the range: the replay must start where the provider's state ends.
    const candles: Candle[] = new Array(hi);
    for (let i = 0; i < hi; i++) candles[i] = ring.at(i);
    return provider.values(symbol, interval, live, candles, lo);
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
    let approxBytes = 0;
    for (const s of this.#symbols.values()) {
      for (const ring of s.rings) {
        if (ring === null) continue;
        candles += ring.size;
        approxBytes += ring.bytes;
      }
    }
    return { symbols: this.#symbols.size, candles, approxBytes };
  }

  #ring(symbol: string, interval: Interval): CandleRing | null {
    return this.#symbols.get(symbol)?.rings[SLOT[interval]] ?? null;
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
