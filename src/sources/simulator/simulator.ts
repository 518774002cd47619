import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ExchangeCode, Instrument } from '../../domain/index.js';
import { StockStreamError } from '../../shared/errors.js';
import type { RawRecord, Source, SourceSink } from '../source.js';
import { SourceLifecycle } from '../source-lifecycle.js';
import { intradayIntensity, SYNTHETIC_DAY_MS } from './intraday.js';
import { Prng } from './prng.js';
import { roundToTick, tickSize, tickUp } from './tick-size.js';
import { defaultUniverse } from './universe.js';

export type SessionPhase = 'pre' | 'regular' | 'post' | 'lunch' | 'closed';
export type SessionPhaseFn = (exchange: ExchangeCode, ts: number) => SessionPhase;

/** An instrument to simulate; missing parameters get currency-based defaults. */
export type SimulatorInstrument = Instrument & { readonly startPrice?: number; readonly volatility?: number };

export interface SimulatorOptions {
  /** Same seed and options with the virtual clock give the exact same event sequence. */
  seed: number;
  /** Defaults to defaultUniverse(). */
  instruments?: readonly SimulatorInstrument[];
  /**
   * Events per second across all symbols while every market is in regular session, averaged over a
   * session: the U-shaped activity curve runs at ~2.7× at the open, ~0.8× at midday, ~2.2× at the close.
   * Default 2,000.
   */
  ratePerSec?: number;
  /** 'u-shape' (default) varies activity through the session; 'flat' holds exactly ratePerSec (benchmarks). */
  activityCurve?: 'u-shape' | 'flat';
  /** Share of quotes among events in regular session, 0..1. Default 0.3. */
  quoteRatio?: number;
  /** Event time of the first event, epoch ms. Default Date.now(). */
  startTs?: number;
  /** 'realtime' paces event time with the wall clock; 'virtual' runs as fast as the sink accepts. Default 'realtime'. */
  clock?: 'realtime' | 'virtual';
  /** Calendar hook: when given, trades only in 'regular', a few quotes in 'pre'/'post', nothing in 'lunch'/'closed'. When absent every market is open. */
  sessionPhase?: SessionPhaseFn;
  /** Stop after this many events. Default unlimited. */
  maxEvents?: number;
  /** Stop when event time reaches this, epoch ms (exclusive): e.g. simulate exactly one day. Default never. */
  endTs?: number;
  /** Largest batch handed to the sink. Default 4,096. */
  batchSize?: number;
  /** The `source` field and the id prefix. Default 'simulator'. */
  source?: string;
  /**
   * Part of every id, so that runs of the same seed (a restart) never repeat ids that dedup would
   * then drop. Default '' (ids depend only on the seed, for reproducible tests).
   */
  runId?: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const MS_PER_TRADING_YEAR = 252 * SYNTHETIC_DAY_MS;
const SQRT_TRADING_DAYS = Math.sqrt(252);

// Price dynamics: log-returns load on a market factor (per currency) and a sector factor (per
// currency and sector), so same-sector names correlate at ~0.5 and same-market names at ~0.25.
const DRIFT = 0.05;
const MARKET_LOADING = 0.5;
const SECTOR_LOADING = 0.5;
const IDIOSYNCRATIC_LOADING = Math.sqrt(1 - MARKET_LOADING ** 2 - SECTOR_LOADING ** 2);
// Two-state volatility regime (Markov chain): calm spells last ~7 trading hours, volatile ~1 hour.
const VOLATILE_MULTIPLIER = 2.5;
const CALM_TO_VOLATILE_PER_HOUR = 0.15;
const VOLATILE_TO_CALM_PER_HOUR = 1;
// Jumps (news): about one every two trading weeks per symbol, ~2 % log-size.
const JUMPS_PER_DAY = 0.1;
const JUMP_SIGMA = 0.02;
// Across closed periods the diffusion counts at most an hour, so overnight gaps stay modest.
const MAX_STEP_MS = HOUR_MS;
// Spread as a fraction of price: a floor plus a share of the current daily volatility.
const SPREAD_BASE = 0.00005;
const SPREAD_PER_DAILY_VOL = 0.005;
// Pre- and post-market activity relative to an average regular-session moment.
const EXTENDED_HOURS_FACTOR = 0.15;
const LOT = 100;
// Trade sizes: Pareto(α = 1.5) in round lots, capped at 1,000 lots (100,000 shares).
const TRADE_LOT_ALPHA = 1.5;
const MAX_TRADE_LOTS = 1_000;
const QUOTE_MEAN_LOTS = 5;
const MIN_PRICE_TICKS = 50;
// Realtime pacing: wake at least every 250 ms and at most every 10 ms; a sink that falls more than
// 2 s behind makes the simulator skip the backlog instead of flooding the log when it recovers.
const MIN_SLEEP_MS = 10;
const MAX_SLEEP_MS = 250;
const MAX_LAG_MS = 2_000;
const PROBE_LIMIT_MINUTES = 16 * 60;
const MAX_CLOSED_SKIPS = 24 * 60;
const VND_PER_USD = 25_000;

const DEFAULT_RATE = 2_000;
const DEFAULT_QUOTE_RATIO = 0.3;
const DEFAULT_BATCH = 4_096;

/** A lazily sampled Brownian path: stepped only when a symbol that loads on it moves. */
class Factor {
  value = 0;
  lastT: number;
  constructor(t: number) {
    this.lastT = t;
  }
  at(t: number, rng: Prng): number {
    if (t > this.lastT) {
      const step = Math.min(t - this.lastT, MAX_STEP_MS);
      this.value += Math.sqrt(step / MS_PER_TRADING_YEAR) * rng.normal();
      this.lastT = t;
    }
    return this.value;
  }
}

class SymbolState {
  readonly symbol: string;
  readonly exchange: ExchangeCode;
  readonly exchangeIndex: number;
  readonly sigma: number;
  readonly weight: number;
  readonly market: Factor;
  readonly sector: Factor;
  mid: number;
  bid = 0;
  ask = 0;
  lastT: number;
  marketMark = 0;
  sectorMark = 0;
  volatile = false;
  lastReturn = 0;
  constructor(i: SimulatorInstrument, exchangeIndex: number, market: Factor, sector: Factor, t: number) {
    this.symbol = i.symbol;
    this.exchange = i.exchange;
    this.exchangeIndex = exchangeIndex;
    this.sigma = i.volatility ?? 0.3;
    this.mid = i.startPrice ?? (i.currency === 'VND' ? 50_000 : 100);
    const usd = i.currency === 'VND' ? this.mid / VND_PER_USD : this.mid;
    // Activity grows sub-linearly with market cap so small names still trade visibly in the demo.
    this.weight = Math.max(1, i.sharesOutstanding * usd) ** 0.3;
    this.market = market;
    this.sector = sector;
    this.lastT = t;
  }
}

/**
 * The deterministic market simulator: per-symbol geometric Brownian motion with a calm/volatile
 * regime chain, jumps, market and sector factors, a U-shaped intraday activity curve, trades at
 * the bid or ask on the exchange's tick grid, heavy-tailed round-lot sizes.
 *
 * Event time advances by 1 / (rate × current activity) per event, so `ratePerSec` is the average
 * rate over a session. The realtime clock generates, in one batch, every event whose time has come
 * (no per-event timers); the virtual clock generates as fast as the sink accepts.
 */
export class Simulator implements Source {
  readonly name: string;
  readonly #life: SourceLifecycle;
  readonly #rng: Prng;
  readonly #instruments: readonly SimulatorInstrument[];
  readonly #symbols: SymbolState[];
  readonly #exchanges: ExchangeCode[];
  readonly #exchangeFactor: Float64Array;
  readonly #quoteOnly: Uint8Array;
  readonly #windowStart: Float64Array;
  readonly #windowEnd: Float64Array;
  readonly #cumulative: Float64Array;
  readonly #weightSum: number;
  readonly #rate: number;
  readonly #quoteRatio: number;
  readonly #realtime: boolean;
  readonly #flat: boolean;
  readonly #phase: SessionPhaseFn | undefined;
  readonly #maxEvents: number;
  readonly #endTs: number;
  readonly #batchSize: number;
  readonly #idPrefix: string;
  readonly #startTs: number;
  #t: number;
  #bucketEnd = -Infinity;
  #spacingMs = Infinity;
  #sequence = 0;

  constructor(options: SimulatorOptions) {
    const o = checkOptions(options);
    this.name = o.source ?? 'simulator';
    this.#life = new SourceLifecycle(this.name);
    this.#rng = new Prng(o.seed);
    this.#instruments = Object.freeze([...(o.instruments ?? defaultUniverse())]);
    this.#rate = o.ratePerSec ?? DEFAULT_RATE;
    this.#quoteRatio = o.quoteRatio ?? DEFAULT_QUOTE_RATIO;
    this.#realtime = (o.clock ?? 'realtime') === 'realtime';
    this.#flat = o.activityCurve === 'flat';
    this.#phase = o.sessionPhase;
    this.#maxEvents = o.maxEvents ?? Infinity;
    this.#endTs = o.endTs ?? Infinity;
    this.#batchSize = o.batchSize ?? DEFAULT_BATCH;
    this.#idPrefix = o.runId ? `${this.name}-${o.seed}-${o.runId}-` : `${this.name}-${o.seed}-`;
    this.#startTs = o.startTs ?? Date.now();
    this.#t = this.#startTs;

    this.#exchanges = [...new Set(this.#instruments.map((i) => i.exchange))];
    const factors = new Map<string, Factor>();
    const factor = (key: string): Factor => {
      let f = factors.get(key);
      if (f === undefined) {
        f = new Factor(this.#startTs);
        factors.set(key, f);
      }
      return f;
    };
    this.#symbols = this.#instruments.map(
      (i) => new SymbolState(i, this.#exchanges.indexOf(i.exchange), factor(i.currency), factor(`${i.currency}|${i.sector}`), this.#startTs),
    );
    for (const s of this.#symbols) {
      s.mid = roundToTick(s.exchange, s.mid, 'nearest');
      this.#requote(s, s.sigma);
    }
    const n = this.#exchanges.length;
    this.#exchangeFactor = new Float64Array(n);
    this.#quoteOnly = new Uint8Array(n);
    this.#windowStart = new Float64Array(n).fill(NaN);
    this.#windowEnd = new Float64Array(n).fill(NaN);
    this.#cumulative = new Float64Array(this.#symbols.length);
    this.#weightSum = this.#symbols.reduce((a, s) => a + s.weight, 0);
  }

  /** The simulated instruments (for symbol lists and market-cap weights). */
  get instruments(): readonly SimulatorInstrument[] {
    return this.#instruments;
  }

  /** Events produced so far. */
  get produced(): number {
    return this.#sequence;
  }

  run(sink: SourceSink): Promise<void> {
    return this.#life.run(() => this.#loop(sink));
  }

  stop(): Promise<void> {
    return this.#life.stop();
  }

  /**
   * Appends up to `max` events with event time <= `untilT` (and before `endTs`) to `out`; returns
   * how many. While every market is closed it skips ahead at most a day per call, so a caller gets
   * control back. Exposed for benchmarks and tests that want the generator without the run loop;
   * a running simulator owns it.
   */
  generate(out: RawRecord[], max: number, untilT = Infinity): number {
    const rng = this.#rng;
    const cumulative = this.#cumulative;
    const last = cumulative.length - 1;
    const endTs = this.#endTs;
    let n = 0;
    let skips = 0;
    while (n < max) {
      if (this.#t >= this.#bucketEnd) this.#refresh(this.#t);
      if (this.#spacingMs === Infinity) {
        // Every market closed: jump to the next minute (sessions open on minute boundaries).
        this.#t = Math.floor(this.#t / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
        if (this.#t > untilT || this.#t >= endTs || ++skips >= MAX_CLOSED_SKIPS) break;
        continue;
      }
      if (this.#t > untilT || this.#t >= endTs) break;
      const r = rng.uniform() * (cumulative[last] as number);
      let lo = 0;
      let hi = last;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((cumulative[mid] as number) > r) hi = mid;
        else lo = mid + 1;
      }
      out.push(this.#event(this.#symbols[lo] as SymbolState, this.#t));
      n++;
      this.#t += this.#spacingMs;
    }
    return n;
  }

  async #loop(sink: SourceSink): Promise<void> {
    const wallStart = Date.now();
    let emitted = 0;
    while (!this.#life.stopped && emitted < this.#maxEvents && this.#t < this.#endTs) {
      const max = Math.min(this.#batchSize, this.#maxEvents - emitted);
      let untilT = Infinity;
      if (this.#realtime) {
        untilT = this.#startTs + (Date.now() - wallStart);
        if (untilT - this.#t > MAX_LAG_MS) this.#t = untilT - MAX_LAG_MS;
      }
      const batch: RawRecord[] = [];
      const n = this.generate(batch, max, untilT);
      if (n > 0) {
        emitted += n;
        await this.#life.deliver(sink, batch);
      }
      if (!this.#realtime) {
        // Let timers (stop(), other stages) run between batches even when the sink resolves at once.
        await yieldToEventLoop();
      } else if (n < max) {
        await this.#life.sleep(Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, this.#t - untilT)));
      }
    }
  }

  /** Re-reads session phases and the activity curve once per second of event time. */
  #refresh(t: number): void {
    this.#bucketEnd = Math.floor(t / 1000) * 1000 + 1000;
    const phaseFn = this.#phase;
    for (let e = 0; e < this.#exchanges.length; e++) {
      if (phaseFn === undefined) {
        this.#exchangeFactor[e] = this.#flat ? 1 : intradayIntensity((((t % SYNTHETIC_DAY_MS) + SYNTHETIC_DAY_MS) % SYNTHETIC_DAY_MS) / SYNTHETIC_DAY_MS);
        this.#quoteOnly[e] = 0;
        continue;
      }
      const exchange = this.#exchanges[e] as ExchangeCode;
      const phase = phaseFn(exchange, t);
      if (phase === 'regular') {
        if (!(t >= (this.#windowStart[e] as number) && t < (this.#windowEnd[e] as number))) this.#findWindow(e, exchange, t, phaseFn);
        const start = this.#windowStart[e] as number;
        this.#exchangeFactor[e] = this.#flat ? 1 : intradayIntensity((t - start) / ((this.#windowEnd[e] as number) - start));
        this.#quoteOnly[e] = 0;
      } else {
        this.#exchangeFactor[e] = phase === 'pre' || phase === 'post' ? EXTENDED_HOURS_FACTOR : 0;
        this.#quoteOnly[e] = 1;
      }
    }
    let acc = 0;
    for (let i = 0; i < this.#symbols.length; i++) {
      const s = this.#symbols[i] as SymbolState;
      acc += s.weight * (this.#exchangeFactor[s.exchangeIndex] as number);
      this.#cumulative[i] = acc;
    }
    const activity = acc / this.#weightSum;
    this.#spacingMs = activity > 0 ? 1000 / (this.#rate * activity) : Infinity;
  }

  /** Finds the regular session around `t` to the minute by probing the calendar, once per session. */
  #findWindow(e: number, exchange: ExchangeCode, t: number, phaseFn: SessionPhaseFn): void {
    const m0 = Math.floor(t / MINUTE_MS) * MINUTE_MS;
    let start = m0;
    for (let k = 1; k <= PROBE_LIMIT_MINUTES && phaseFn(exchange, m0 - k * MINUTE_MS) === 'regular'; k++) start = m0 - k * MINUTE_MS;
    let end = m0 + MINUTE_MS;
    for (let k = 1; k <= PROBE_LIMIT_MINUTES && phaseFn(exchange, m0 + k * MINUTE_MS) === 'regular'; k++) end = m0 + (k + 1) * MINUTE_MS;
    this.#windowStart[e] = start;
    this.#windowEnd[e] = end;
  }

  #event(s: SymbolState, t: number): RawRecord {
    const rng = this.#rng;
    this.#move(s, t);
    const id = this.#idPrefix + ++this.#sequence;
    const ts = Math.floor(t);
    if (this.#quoteOnly[s.exchangeIndex] === 1 || rng.uniform() < this.#quoteRatio) {
      return {
        kind: 'quote',
        symbol: s.symbol,
        ts,
        source: this.name,
        id,
        bid: s.bid,
        ask: s.ask,
        bidSize: quoteLots(rng) * LOT,
        askSize: quoteLots(rng) * LOT,
      };
    }
    // Trades lean with the last move (order-flow momentum), at the touch.
    const buyProbability = s.lastReturn > 0 ? 0.6 : s.lastReturn < 0 ? 0.4 : 0.5;
    const lots = Math.min(MAX_TRADE_LOTS, Math.floor(rng.uniformOpenZero() ** (-1 / TRADE_LOT_ALPHA)));
    return { kind: 'trade', symbol: s.symbol, ts, source: this.name, id, price: rng.uniform() < buyProbability ? s.ask : s.bid, size: lots * LOT };
  }

  #move(s: SymbolState, t: number): void {
    const dt = t - s.lastT;
    if (dt <= 0) return;
    s.lastT = t;
    const rng = this.#rng;
    const step = dt < MAX_STEP_MS ? dt : MAX_STEP_MS;
    if (rng.uniform() < (s.volatile ? VOLATILE_TO_CALM_PER_HOUR : CALM_TO_VOLATILE_PER_HOUR) * (step / HOUR_MS)) s.volatile = !s.volatile;
    const sigma = s.volatile ? s.sigma * VOLATILE_MULTIPLIER : s.sigma;
    const dtYears = step / MS_PER_TRADING_YEAR;
    const m = s.market.at(t, rng);
    const q = s.sector.at(t, rng);
    const z = MARKET_LOADING * (m - s.marketMark) + SECTOR_LOADING * (q - s.sectorMark) + IDIOSYNCRATIC_LOADING * Math.sqrt(dtYears) * rng.normal();
    s.marketMark = m;
    s.sectorMark = q;
    let r = (DRIFT - 0.5 * sigma * sigma) * dtYears + sigma * z;
    if (rng.uniform() < (JUMPS_PER_DAY * step) / SYNTHETIC_DAY_MS) r += JUMP_SIGMA * rng.normal();
    const floor = MIN_PRICE_TICKS * tickSize(s.exchange, s.mid);
    const mid = s.mid * Math.exp(r);
    s.mid = mid > floor ? mid : floor;
    s.lastReturn = r;
    this.#requote(s, sigma);
  }

  #requote(s: SymbolState, sigma: number): void {
    const half = (s.mid * (SPREAD_BASE + (SPREAD_PER_DAILY_VOL * sigma) / SQRT_TRADING_DAYS)) / 2;
    const bid = roundToTick(s.exchange, s.mid - half, 'floor');
    const ask = roundToTick(s.exchange, s.mid + half, 'ceil');
    s.bid = bid;
    s.ask = ask > bid ? ask : tickUp(s.exchange, bid);
  }
}

function quoteLots(rng: Prng): number {
  return 1 + Math.floor(-Math.log(rng.uniformOpenZero()) * QUOTE_MEAN_LOTS);
}

function checkOptions(o: SimulatorOptions): SimulatorOptions {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new StockStreamError('SS_CONFIG_INVALID', `simulator.${field}: expected ${want}, got ${String(value)}; fix the simulator options`, {
      context: { field, value },
    });
  };
  if (!Number.isFinite(o.seed)) bad('seed', o.seed, 'a finite number');
  if (o.ratePerSec !== undefined && !(Number.isFinite(o.ratePerSec) && o.ratePerSec > 0)) bad('ratePerSec', o.ratePerSec, 'a positive number of events per second');
  if (o.quoteRatio !== undefined && !(o.quoteRatio >= 0 && o.quoteRatio <= 1)) bad('quoteRatio', o.quoteRatio, 'a share between 0 and 1');
  if (o.startTs !== undefined && !Number.isFinite(o.startTs)) bad('startTs', o.startTs, 'epoch milliseconds');
  if (o.endTs !== undefined && Number.isNaN(o.endTs)) bad('endTs', o.endTs, 'epoch milliseconds');
  if (o.clock !== undefined && o.clock !== 'realtime' && o.clock !== 'virtual') bad('clock', o.clock, '"realtime" or "virtual"');
  if (o.activityCurve !== undefined && o.activityCurve !== 'u-shape' && o.activityCurve !== 'flat') bad('activityCurve', o.activityCurve, '"u-shape" or "flat"');
  if (o.maxEvents !== undefined && !(o.maxEvents >= 0)) bad('maxEvents', o.maxEvents, 'a non-negative count');
  if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize >= 1)) bad('batchSize', o.batchSize, 'a positive integer');
  if (o.instruments !== undefined) {
    if (o.instruments.length === 0) bad('instruments', '[]', 'at least one instrument');
    const seen = new Set<string>();
    for (const i of o.instruments) {
      if (seen.has(i.symbol)) bad('instruments', i.symbol, 'unique symbols');
      seen.add(i.symbol);
      if (i.startPrice !== undefined && !(i.startPrice > 0)) bad(`instruments.${i.symbol}.startPrice`, i.startPrice, 'a positive price');
      if (i.volatility !== undefined && !(i.volatility >= 0)) bad(`instruments.${i.symbol}.volatility`, i.volatility, 'a non-negative annualised volatility');
    }
  }
  return o;
}
