import type { Kpi, MarketCalendar, MarketEvent, SessionDay, SessionWindow } from '../../domain/index.js';
import { BaseOperator } from '../runtime/operator.js';

/** Seconds of event time over which trades per second are averaged. */
const RATE_WINDOW_S = 10;

/** What a checkpoint keeps of a symbol. */
interface SymbolKpiState {
  symbol: string;
  session: string;
  last: number;
  ts: number;
  open: number;
  high: number;
  low: number;
  volume: number;
  notional: number;
  prevClose: number | null;
  /** Trade counts per event-time second, a ring of RATE_WINDOW_S slots. */
  secCounts: number[];
  secKeys: number[];
  /** Set while the symbol is in this batch's touched list (avoids a per-tick Set lookup). */
  dirty: boolean;
}

interface SymbolKpi extends SymbolKpiState {
  readonly calendar: MarketCalendar;
  /**
   * Event time [spanStart, spanEnd) of the trading day `session` came from: a trade inside it
   * skips the calendar (the symbol's exchange lookup, then dayAt). Asked per tick, that lookup was
   * most of the ~4 % of end-to-end throughput the whole KPI operator cost. Empty (NaN) until set,
   * after a restore too, so the first trade asks.
   */
  spanStart: number;
  spanEnd: number;
}

export interface KpiState {
  symbols: SymbolKpiState[];
}

export interface KpiOperatorOptions {
  /**
   * The calendar of the symbol's exchange. A trade belongs to the trading day its `dayAt` gives
   * (keyed by the exchange-local date) and counts for nothing outside every day's span; a later
   * day rolls the previous day's last price into `prevClose`.
   */
  calendarOf: (symbol: string) => MarketCalendar;
  /** Previous closes known before the first session (e.g. from history). */
  prevCloses?: ReadonlyMap<string, number>;
  /**
   * Push one Kpi object per symbol, updated in place by later batches, instead of a copy per
   * batch (as the candle operator's `liveOutput`): what the live store and the stream hub want,
   * since they keep or send the newest values only. The newest KPI of each of 1,000 symbols was
   * otherwise a fresh object, young at every scavenge and copied by it (~250 KB each time in the
   * latency bench). Anything kept as a record of one version must copy it. Default false.
   */
  liveOutput?: boolean;
}

/**
 * Per-symbol KPIs from trades: last, change against the previous session's close, session
 * OHLC, volume, VWAP and trades per second over the last 10 s of event time. Emits one KPI copy
 * per symbol touched in a batch, so fan-out cost follows symbols, not ticks.
 */
export class KpiOperator extends BaseOperator<MarketEvent, Kpi, KpiState> {
  readonly name = 'kpis';
  readonly #bySymbol = new Map<string, SymbolKpi>();
  readonly #touched: SymbolKpi[] = [];
  readonly #options: KpiOperatorOptions;
  /** With liveOutput, the Kpi object handed out for each symbol. Not state: rebuilt after a restore. */
  readonly #live = new Map<string, Kpi>();

  constructor(options: KpiOperatorOptions) {
    super();
    this.#options = options;
  }

  override processBatch(batch: readonly MarketEvent[], out: Kpi[]): void {
    const touched = this.#touched;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as MarketEvent;
      if (e.kind !== 'trade') continue;
      let s = this.#bySymbol.get(e.symbol);
      if (s === undefined || !(e.ts >= s.spanStart && e.ts < s.spanEnd)) {
        const calendar = s === undefined ? this.#options.calendarOf(e.symbol) : s.calendar;
        const day = calendar.dayAt(e.ts);
        if (day === null) continue;
        const session = day.date;
        if (s === undefined) {
          s = newSymbolKpi(e.symbol, session, e.price, e.ts, this.#options.prevCloses?.get(e.symbol) ?? null, calendar);
          this.#bySymbol.set(e.symbol, s);
        } else if (session !== s.session) {
          // Only a later session rolls over; a straggler from the previous session is ignored.
          if (session < s.session) continue;
          s.prevClose = s.last;
          s.session = session;
          s.open = s.high = s.low = e.price;
          s.volume = 0;
          s.notional = 0;
        }
        s.spanStart = spanStart(day);
        s.spanEnd = spanEnd(day);
      }
      if (e.ts >= s.ts) {
        s.last = e.price;
        s.ts = e.ts;
      }
      if (e.price > s.high) s.high = e.price;
      if (e.price < s.low) s.low = e.price;
      s.volume += e.size;
      s.notional += e.price * e.size;
      const sec = Math.floor(e.ts / 1000);
      const slot = sec % RATE_WINDOW_S;
      if (s.secKeys[slot] !== sec) {
        s.secKeys[slot] = sec;
        s.secCounts[slot] = 0;
      }
      s.secCounts[slot] = (s.secCounts[slot] as number) + 1;
      if (!s.dirty) {
        s.dirty = true;
        touched.push(s);
      }
    }
    for (let i = 0; i < touched.length; i++) {
      const t = touched[i] as SymbolKpi;
      t.dirty = false;
      if (this.#options.liveOutput !== true) {
        out.push(toKpi(t));
        continue;
      }
      let k = this.#live.get(t.symbol);
      if (k === undefined) {
        k = toKpi(t);
        this.#live.set(t.symbol, k);
      } else fillKpi(t, k);
      out.push(k);
    }
    touched.length = 0;
  }

  /** Current KPIs of every symbol (for snapshots). */
  all(): Kpi[] {
    return Array.from(this.#bySymbol.values(), toKpi);
  }

  override onCheckpoint(): KpiState {
    return {
      symbols: Array.from(this.#bySymbol.values(), (s) => ({
        symbol: s.symbol,
        session: s.session,
        last: s.last,
        ts: s.ts,
        open: s.open,
        high: s.high,
        low: s.low,
        volume: s.volume,
        notional: s.notional,
        prevClose: s.prevClose,
        secCounts: [...s.secCounts],
        secKeys: [...s.secKeys],
        dirty: false,
      })),
    };
  }

  override restore(state: KpiState): void {
    this.#bySymbol.clear();
    this.#live.clear();
    for (const s of state.symbols) {
      const k = newSymbolKpi(s.symbol, s.session, s.last, s.ts, s.prevClose, this.#options.calendarOf(s.symbol));
      k.open = s.open;
      k.high = s.high;
      k.low = s.low;
      k.volume = s.volume;
      k.notional = s.notional;
      k.secCounts = [...s.secCounts];
      k.secKeys = [...s.secKeys];
      this.#bySymbol.set(s.symbol, k);
    }
  }
}

/**
 * A symbol's first state, made here alone so every SymbolKpi (a restored one too) has one shape
 * and the per-tick field accesses stay monomorphic. The span starts empty (NaN: no ts is inside),
 * as a double, so the timestamps stored into it later never change the field's representation.
 */
function newSymbolKpi(symbol: string, session: string, price: number, ts: number, prevClose: number | null, calendar: MarketCalendar): SymbolKpi {
  return {
    symbol,
    session,
    last: price,
    ts,
    open: price,
    high: price,
    low: price,
    volume: 0,
    notional: 0,
    prevClose,
    secCounts: new Array<number>(RATE_WINDOW_S).fill(0),
    secKeys: new Array<number>(RATE_WINDOW_S).fill(-1),
    dirty: false,
    calendar,
    spanStart: Number.NaN,
    spanEnd: Number.NaN,
  };
}

/**
 * Where dayAt's span of `day` starts: its earliest window (the pre-market, else the first regular
 * open). NaN for a day without windows, so no trade is ever taken as inside it.
 */
function spanStart(day: SessionDay): number {
  let start = day.regular.length > 0 ? (day.regular[0] as SessionWindow).start : Number.NaN;
  if (day.pre !== null && !(day.pre.start >= start)) start = day.pre.start;
  if (day.post !== null && !(day.post.start >= start)) start = day.post.start;
  return start;
}

/** Where dayAt's span of `day` ends: its latest window's end (the post-market, else the last regular close); NaN without windows. */
function spanEnd(day: SessionDay): number {
  let end = day.regular.length > 0 ? (day.regular[day.regular.length - 1] as SessionWindow).end : Number.NaN;
  if (day.post !== null && !(day.post.end <= end)) end = day.post.end;
  if (day.pre !== null && !(day.pre.end <= end)) end = day.pre.end;
  return end;
}

function tradesPerSec(s: SymbolKpi): number {
  const lastSec = Math.floor(s.ts / 1000);
  let trades = 0;
  for (let i = 0; i < RATE_WINDOW_S; i++) {
    const key = s.secKeys[i] as number;
    if (key > lastSec - RATE_WINDOW_S && key <= lastSec) trades += s.secCounts[i] as number;
  }
  return trades / RATE_WINDOW_S;
}

function toKpi(s: SymbolKpi): Kpi {
  const k: Kpi = { symbol: s.symbol, last: 0, change: 0, changePct: 0, open: 0, high: 0, low: 0, volume: 0, vwap: 0, prevClose: s.prevClose, tradesPerSec: 0, ts: 0 };
  fillKpi(s, k);
  return k;
}

/** Sets every value of `k` from the symbol's state (the object toKpi made, or a liveOutput one). */
function fillKpi(s: SymbolKpi, k: Kpi): void {
  const change = s.prevClose === null ? 0 : s.last - s.prevClose;
  k.last = s.last;
  k.change = change;
  k.changePct = s.prevClose === null ? 0 : (change / s.prevClose) * 100;
  k.open = s.open;
  k.high = s.high;
  k.low = s.low;
  k.volume = s.volume;
  k.vwap = s.volume > 0 ? s.notional / s.volume : s.last;
  // A number|null field is kept tagged: storing a number boxes it, so store only a change.
  if (k.prevClose !== s.prevClose) k.prevClose = s.prevClose;
  k.tradesPerSec = tradesPerSec(s);
  k.ts = s.ts;
}
