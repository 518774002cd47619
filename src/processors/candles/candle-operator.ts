import {
  INTERVAL_MS,
  INTERVALS,
  type Candle,
  type Interval,
  type MarketCalendar,
  type BarEvent,
  type MarketEvent,
  type SessionDay,
  type SessionWindow,
  type TradeEvent,
} from '../../domain/index.js';
import { StockStreamError } from '../../shared/errors.js';
import { BaseOperator } from '../runtime/operator.js';
import { resolveCandleOptions, type CandleOperatorOptions, type ResolvedCandleOptions } from './candle-options.js';
import { CandleSlot, applyToSlot, toCandle } from './candle-slot.js';

/** Counters exposed by `stats()` and kept in checkpoints. */
export interface CandleStats {
  /** Events seen (every kind). */
  events: number;
  /** Quotes seen; they never build candles. */
  quotesIgnored: number;
  /** Trades and bars outside regular sessions (or outside pre/post too with includeExtendedHours). */
  outsideSession: number;
  /** (event, interval) pairs refused because the bucket was already dropped; `onLate` was called for each. */
  late: number;
  /** Revisions: late events that amended a final candle (rev + 1 each). */
  revisions: number;
  /** Flat gap-fill candles emitted. */
  filled: number;
  /** Passed buckets left unfilled because a watermark call hit `maxFillsPerCall`. */
  fillsSkipped: number;
  /** Candle copies pushed to `out`. */
  emitted: number;
}

/** The latest candle of a lane that was already dropped: what a gap fill after it copies. */
interface Settled {
  readonly start: number;
  readonly wStart: number;
  readonly wEnd: number;
  readonly close: number;
}

/**
 * Checkpoint of the operator (version 2): columnar, so taking it copies numbers into two typed
 * arrays instead of building an object per candle (the checkpoint store writes typed arrays as
 * raw bytes). `slots` holds SLOT_COLUMNS numbers per kept candle, `settled` SETTLED_COLUMNS per
 * lane with a settled candle; both start with the symbol's index in `symbols` and the interval.
 */
export interface CandleCheckpoint {
  readonly version: 2;
  readonly watermark: number | null;
  readonly stats: CandleStats;
  readonly intervals: readonly Interval[];
  readonly symbols: readonly string[];
  readonly slots: Float64Array;
  readonly settled: Float64Array;
}

/** symbol index, interval index, start, end, wStart, wEnd, flags, open, high, low, close, openTs, closeTs, volume, sumPV, trades, rev */
const SLOT_COLUMNS = 17;
/** symbol index, interval index, start, wStart, wEnd, close */
const SETTLED_COLUMNS = 6;
const FLAG_REGULAR = 1;
const FLAG_FINAL = 2;
const FLAG_FILLED = 4;

/** One (symbol, interval): its kept candles ordered by start (buckets never overlap, so by end too). */
interface Lane {
  readonly interval: Interval;
  readonly ms: number;
  readonly rank: number;
  readonly daily: boolean;
  readonly slots: CandleSlot[];
  settled: Settled | null;
  /** No watermark below this can change the lane; −∞ forces a look (after a restore, or a slot born final). */
  nextDue: number;
  /**
   * The slot the lane's last event went to. While it is not final it is still kept, and an event
   * placed by its time inside its [start, end) belongs to it, so #feed applies the event without the bucket
   * arithmetic and the search of the lane's slots. At 200 ticks per symbol and second nearly
   * every tick takes this path in all six lanes.
   */
  cur: CandleSlot | null;
}

interface SymbolState {
  readonly symbol: string;
  readonly calendar: MarketCalendar;
  readonly lanes: Lane[];
  /** The window of the last located event, so most events skip the calendar entirely. */
  winStart: number;
  winEnd: number;
  winRegular: boolean;
  dayStart: number;
  dayEnd: number;
}

const RANK_1D = INTERVALS.indexOf('1d');
const MS_PER_DAY = 86_400_000;

/**
 * Event-time OHLCV candles aligned to exchange sessions (ARCHITECTURE.md §2.3, §4).
 *
 * Buckets: intraday intervals step from each regular window's open and are cut at the window end
 * (NYSE 1h: 09:30, 10:30, … 15:30–16:00; HOSE 1h: … 11:00–11:30, 13:00, 14:00–14:45). The daily
 * bucket spans the session day (first open to last close; pre start to post end with
 * includeExtendedHours) and is keyed by its start, one per exchange-local date. Trades feed
 * every interval; a bar of interval X feeds intervals ≥ X (a 1d bar goes to the day of its
 * exchange-local date); quotes feed nothing.
 *
 * Watermarks (Flink-like): a candle turns final and is emitted when the watermark reaches its end;
 * it is kept until the watermark reaches end + allowedLatenessMs. An event whose bucket is still
 * kept (or never existed but end + lateness is still ahead of the watermark) is applied; each such
 * event that amends a final candle adds one to its rev, and the batch emits the amended candle.
 * An event whose bucket end + lateness is at or behind the watermark is refused: `onLate` and the
 * `late` counter. Given the same watermark calls, results do not depend on how input is batched.
 *
 * Gap filling, decided when the watermark passes a bucket end: a passed regular-window bucket
 * without a candle gets a flat final candle (OHLC and vwap = the close of the nearest earlier
 * candle in the same window, volume 0, trades 0) if that window already has an earlier candle.
 * So fills never start before the symbol's first candle of a window, never cross a lunch break,
 * close or night, and are never emitted ahead of the watermark. Fills are not re-priced if the
 * candle they copied is amended later. Daily candles are never filled.
 *
 * Output: a batch pushes each candle it touched once, at the end of the batch: a copy, or with
 * `liveOutput` the operator's own slot (see CandleOperatorOptions.liveOutput).
 */
export class CandleOperator extends BaseOperator<MarketEvent, Candle, CandleCheckpoint> {
  readonly name = 'candles';
  readonly #o: ResolvedCandleOptions;
  readonly #symbols = new Map<string, SymbolState>();
  /**
   * Slots queued for output in the current call, in first-touch order: the first #touchedCount
   * entries. The array keeps its length between calls: emptied with `length = 0` it dropped its
   * backing store, and regrowing it to a batch's ~6 entries a tick cost ~30 bytes of garbage a tick.
   */
  readonly #touched: (CandleSlot | null)[] = [];
  #touchedCount = 0;
  #mark = 0;
  #watermark = Number.NEGATIVE_INFINITY;
  #stats: CandleStats = emptyStats();
  /** Flat candles the current (symbol, interval) may still create in this watermark call. */
  #fillBudget = 0;

  constructor(options: CandleOperatorOptions) {
    super();
    this.#o = resolveCandleOptions(options);
  }

  get watermark(): number {
    return this.#watermark;
  }

  stats(): CandleStats {
    return { ...this.#stats };
  }

  override processBatch(batch: readonly MarketEvent[], out: Candle[]): void {
    this.#mark++;
    const st = this.#stats;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as MarketEvent;
      st.events++;
      if (e.kind === 'quote') {
        st.quotesIgnored++;
        continue;
      }
      const s = this.#symbol(e.symbol);
      if (e.kind === 'trade') {
        if (!this.#locate(s, e.ts)) {
          st.outsideSession++;
          continue;
        }
        this.#feed(s, e, 0);
        continue;
      }
      const rank = INTERVALS.indexOf(e.interval);
      const located = rank === RANK_1D ? this.#locateDate(s, e.ts) : this.#locate(s, e.ts);
      if (!located) {
        st.outsideSession++;
        continue;
      }
      this.#feed(s, e, rank);
    }
    this.#flush(out);
  }

  override onWatermark(watermark: number, out: Candle[]): void {
    const prev = this.#watermark;
    if (!(watermark > prev)) return;
    this.#watermark = watermark;
    this.#mark++;
    const lateness = this.#o.allowedLatenessMs;
    for (const s of this.#symbols.values()) {
      for (let li = 0; li < s.lanes.length; li++) {
        const lane = s.lanes[li] as Lane;
        if (watermark < lane.nextDue) continue;
        if (this.#o.fillGaps && !lane.daily) this.#fill(s.symbol, lane, prev, watermark);
        const slots = lane.slots;
        for (let k = 0; k < slots.length; k++) {
          const sl = slots[k] as CandleSlot;
          if (sl.end > watermark) break;
          if (!sl.final) {
            this.#queue(sl);
            sl.final = true;
          }
        }
        let drop = 0;
        while (drop < slots.length && (slots[drop] as CandleSlot).end + lateness <= watermark) drop++;
        if (drop > 0) {
          for (let k = drop - 1; k >= 0; k--) {
            const sl = slots[k] as CandleSlot;
            if (sl.regular) {
              lane.settled = { start: sl.start, wStart: sl.wStart, wEnd: sl.wEnd, close: sl.close };
              break;
            }
          }
          slots.splice(0, drop);
          // A dropped slot is final, so #feed would pass it by anyway; unreferenced, it can go.
          if (lane.cur !== null && lane.cur.end + lateness <= watermark) lane.cur = null;
        }
        lane.nextDue = this.#nextDue(lane, watermark);
      }
    }
    this.#flush(out);
  }

  override onCheckpoint(): CandleCheckpoint {
    const symbols: string[] = [];
    let slotCount = 0;
    let settledCount = 0;
    for (const st of this.#symbols.values()) {
      for (const l of st.lanes) {
        slotCount += l.slots.length;
        if (l.settled !== null) settledCount++;
      }
    }
    const slots = new Float64Array(slotCount * SLOT_COLUMNS);
    const settled = new Float64Array(settledCount * SETTLED_COLUMNS);
    let p = 0;
    let q = 0;
    for (const st of this.#symbols.values()) {
      const si = symbols.push(st.symbol) - 1;
      for (const l of st.lanes) {
        for (const c of l.slots) {
          slots[p++] = si;
          slots[p++] = l.rank;
          slots[p++] = c.start;
          slots[p++] = c.end;
          slots[p++] = c.wStart;
          slots[p++] = c.wEnd;
          slots[p++] = (c.regular ? FLAG_REGULAR : 0) | (c.final ? FLAG_FINAL : 0) | (c.filled ? FLAG_FILLED : 0);
          slots[p++] = c.open;
          slots[p++] = c.high;
          slots[p++] = c.low;
          slots[p++] = c.close;
          slots[p++] = c.openTs;
          slots[p++] = c.closeTs;
          slots[p++] = c.volume;
          slots[p++] = c.sumPV;
          slots[p++] = c.trades;
          slots[p++] = c.rev;
        }
        const z = l.settled;
        if (z !== null) {
          settled[q++] = si;
          settled[q++] = l.rank;
          settled[q++] = z.start;
          settled[q++] = z.wStart;
          settled[q++] = z.wEnd;
          settled[q++] = z.close;
        }
      }
    }
    return {
      version: 2,
      watermark: Number.isFinite(this.#watermark) ? this.#watermark : null,
      stats: { ...this.#stats },
      intervals: INTERVALS,
      symbols,
      slots,
      settled,
    };
  }

  override restore(state: CandleCheckpoint): void {
    if (
      state === null ||
      typeof state !== 'object' ||
      state.version !== 2 ||
      !Array.isArray(state.symbols) ||
      !Array.isArray(state.intervals) ||
      !(state.slots instanceof Float64Array) ||
      !(state.settled instanceof Float64Array)
    ) {
      throw new StockStreamError(
        'SS_PROCESS_STATE',
        `candles checkpoint: expected {version: 2, symbols, slots: Float64Array, ...}, got version ${JSON.stringify((state as { version?: unknown } | null)?.version)}; delete the checkpoint to rebuild from the log`,
        { context: { operator: this.name } },
      );
    }
    this.#symbols.clear();
    this.#touched.length = 0;
    this.#touchedCount = 0;
    this.#watermark = state.watermark ?? Number.NEGATIVE_INFINITY;
    this.#stats = { ...emptyStats(), ...state.stats };
    const lane = (si: number, ii: number): Lane | undefined => {
      const symbol = state.symbols[si];
      const interval = state.intervals[ii];
      if (symbol === undefined || interval === undefined) {
        throw new StockStreamError('SS_PROCESS_STATE', `candles checkpoint: row refers to symbol ${si} / interval ${ii}, which it does not list; delete the checkpoint to rebuild from the log`);
      }
      // A lane whose interval is no longer configured is dropped: the config changed on purpose.
      return this.#symbol(symbol).lanes.find((l) => l.interval === interval);
    };
    const sl = state.slots;
    for (let p = 0; p + SLOT_COLUMNS <= sl.length; p += SLOT_COLUMNS) {
      const l = lane(sl[p] as number, sl[p + 1] as number);
      if (l === undefined) continue;
      const flags = sl[p + 6] as number;
      const c = new CandleSlot(state.symbols[sl[p] as number] as string, l.interval, sl[p + 2] as number, sl[p + 3] as number, sl[p + 4] as number, sl[p + 5] as number, (flags & FLAG_REGULAR) !== 0, sl[p + 10] as number);
      c.final = (flags & FLAG_FINAL) !== 0;
      c.filled = (flags & FLAG_FILLED) !== 0;
      c.open = sl[p + 7] as number;
      c.high = sl[p + 8] as number;
      c.low = sl[p + 9] as number;
      c.openTs = sl[p + 11] as number;
      c.closeTs = sl[p + 12] as number;
      c.volume = sl[p + 13] as number;
      c.sumPV = sl[p + 14] as number;
      c.trades = sl[p + 15] as number;
      c.rev = sl[p + 16] as number;
      l.slots.push(c);
    }
    const se = state.settled;
    for (let q = 0; q + SETTLED_COLUMNS <= se.length; q += SETTLED_COLUMNS) {
      const l = lane(se[q] as number, se[q + 1] as number);
      if (l !== undefined) l.settled = { start: se[q + 2] as number, wStart: se[q + 3] as number, wEnd: se[q + 4] as number, close: se[q + 5] as number };
    }
  }

  /** End of stream: the candles still forming are emitted as they are (final: false). */
  override close(out: Candle[]): void {
    this.#mark++;
    for (const s of this.#symbols.values()) {
      for (const lane of s.lanes) {
        for (const sl of lane.slots) if (!sl.final) this.#queue(sl);
      }
    }
    this.#flush(out);
  }

  #symbol(symbol: string): SymbolState {
    let s = this.#symbols.get(symbol);
    if (s === undefined) {
      const lanes: Lane[] = [];
      for (const interval of this.#o.intervals) {
        lanes.push({
          interval,
          ms: INTERVAL_MS[interval],
          rank: INTERVALS.indexOf(interval),
          daily: interval === '1d',
          slots: [],
          settled: null,
          nextDue: Number.NEGATIVE_INFINITY,
          cur: null,
        });
      }
      s = {
        symbol,
        calendar: this.#o.calendarOf(symbol),
        lanes,
        winStart: 0,
        winEnd: 0,
        winRegular: false,
        dayStart: 0,
        dayEnd: 0,
      };
      this.#symbols.set(symbol, s);
    }
    return s;
  }

  /** Sets the symbol's current window and day for ts; false (state untouched) when ts is outside every candled window. */
  #locate(s: SymbolState, ts: number): boolean {
    if (ts >= s.winStart && ts < s.winEnd) return true;
    const day = s.calendar.dayAt(ts);
    if (day === null || day.regular.length === 0) return false;
    const ext = this.#o.includeExtendedHours;
    let start = Number.NaN;
    let end = Number.NaN;
    let regular = true;
    for (const w of day.regular) {
      if (ts >= w.start && ts < w.end) {
        start = w.start;
        end = w.end;
        break;
      }
    }
    if (Number.isNaN(start) && ext) {
      regular = false;
      if (day.pre !== null && ts >= day.pre.start && ts < day.pre.end) {
        start = day.pre.start;
        end = day.pre.end;
      } else if (day.post !== null && ts >= day.post.start && ts < day.post.end) {
        start = day.post.start;
        end = day.post.end;
      }
    }
    if (Number.isNaN(start)) return false;
    s.winStart = start;
    s.winEnd = end;
    s.winRegular = regular;
    this.#setDay(s, day);
    return true;
  }

  /**
   * For daily bars: the session day of ts's exchange-local date, whatever the time of day. A ts at
   * exactly UTC midnight is a date without a time (`2024-01-02` in a CSV of daily bars) and means
   * that date: read as an instant it would fall on the previous evening in New York.
   */
  #locateDate(s: SymbolState, ts: number): boolean {
    const date = ts % MS_PER_DAY === 0 ? new Date(ts).toISOString().slice(0, 10) : s.calendar.localDate(ts);
    const day = s.calendar.day(date);
    if (day === null || day.regular.length === 0) return false;
    // The day bounds now need not match the cached window: forget the window.
    s.winStart = 0;
    s.winEnd = 0;
    this.#setDay(s, day);
    return true;
  }

  /** The daily bucket: first regular open to last close, or pre start to post end with extended hours. */
  #setDay(s: SymbolState, day: SessionDay): void {
    const ext = this.#o.includeExtendedHours;
    s.dayStart = ext && day.pre !== null ? day.pre.start : (day.regular[0] as SessionWindow).start;
    s.dayEnd = ext && day.post !== null ? day.post.end : (day.regular[day.regular.length - 1] as SessionWindow).end;
  }

  /**
   * Applies a trade or bar to every lane from `minRank` up. The event's numbers are read here, not
   * passed in: a call that is not inlined passes numbers boxed, a heap object per argument and tick.
   */
  #feed(s: SymbolState, e: TradeEvent | BarEvent, minRank: number): void {
    const ts = e.ts;
    let o: number;
    let h: number;
    let l: number;
    let c: number;
    let v: number;
    let pv: number;
    if (e.kind === 'trade') {
      o = h = l = c = e.price;
      v = e.size;
      pv = e.price * e.size;
    } else {
      o = e.open;
      h = e.high;
      l = e.low;
      c = e.close;
      v = e.volume;
      // Bars carry no trade list: typical price × volume approximates their notional.
      pv = ((h + l + c) / 3) * v;
    }
    const lanes = s.lanes;
    // A daily bar's bucket is the day of its date (#locateDate), not the day its time falls in:
    // one stamped at UTC midnight can lie inside the previous day's extended span. Only events
    // placed by their time may take the current slot by time.
    const byTime = minRank !== RANK_1D;
    for (let li = 0; li < lanes.length; li++) {
      const lane = lanes[li] as Lane;
      if (lane.rank < minRank) continue;
      const cur = lane.cur;
      if (byTime && cur !== null && !cur.final && ts >= cur.start && ts < cur.end) {
        this.#queue(cur);
        applyToSlot(cur, ts, o, h, l, c, v, pv);
        continue;
      }
      let start: number;
      let end: number;
      let wStart: number;
      let wEnd: number;
      let regular: boolean;
      if (lane.daily) {
        start = s.dayStart;
        end = s.dayEnd;
        wStart = start;
        wEnd = end;
        regular = true;
      } else {
        wStart = s.winStart;
        wEnd = s.winEnd;
        regular = s.winRegular;
        start = wStart + Math.floor((ts - wStart) / lane.ms) * lane.ms;
        end = Math.min(start + lane.ms, wEnd);
      }
      const slot = this.#slotFor(s, lane, e, start, end, wStart, wEnd, regular, o);
      if (slot === null) continue;
      lane.cur = slot;
      applyToSlot(slot, ts, o, h, l, c, v, pv);
    }
  }

  /** The kept slot for a bucket, a new one, or null when the bucket was dropped (the event is late). */
  #slotFor(
    s: SymbolState,
    lane: Lane,
    e: MarketEvent,
    start: number,
    end: number,
    wStart: number,
    wEnd: number,
    regular: boolean,
    price: number,
  ): CandleSlot | null {
    const wm = this.#watermark;
    // A kept slot always has end + lateness > watermark, so this test alone decides lateness.
    if (end + this.#o.allowedLatenessMs <= wm) {
      this.#stats.late++;
      const onLate = this.#o.onLate;
      if (onLate !== null) onLate(e, { interval: lane.interval, bucketStart: start, watermark: wm });
      return null;
    }
    const slots = lane.slots;
    let at = slots.length;
    for (let k = slots.length - 1; k >= 0; k--) {
      const sl = slots[k] as CandleSlot;
      if (sl.start === start) {
        // Each late event that amends a final candle is one revision: counting per event, not
        // per batch, keeps rev independent of how the log happened to be polled.
        if (sl.final) {
          sl.rev++;
          this.#stats.revisions++;
        }
        this.#queue(sl);
        return sl;
      }
      if (sl.start < start) break;
      at = k;
    }
    const sl = new CandleSlot(s.symbol, lane.interval, start, end, wStart, wEnd, regular, price);
    sl.final = end <= wm;
    // Only a new slot can make the lane due earlier: an open one at its end (the gap fills it
    // allows come after that end); one born final (late but within lateness) at once, for its
    // drop and fills. Updating a kept slot changes no due time, so the lane is not looked at again
    // on every watermark step it receives ticks (a 1s lane is then visited once a second, not ten times).
    if (sl.final) lane.nextDue = Number.NEGATIVE_INFINITY;
    else if (end < lane.nextDue) lane.nextDue = end;
    // Queued directly, not through #queue: a candle born final (late but within lateness) is first emitted as rev 0.
    sl.mark = this.#mark;
    this.#touched[this.#touchedCount++] = sl;
    if (at === slots.length) slots.push(sl);
    else slots.splice(at, 0, sl);
    return sl;
  }

  /** Queues a slot for output once per call. */
  #queue(sl: CandleSlot): void {
    if (sl.mark === this.#mark) return;
    sl.mark = this.#mark;
    this.#touched[this.#touchedCount++] = sl;
  }

  #flush(out: Candle[]): void {
    const t = this.#touched;
    const n = this.#touchedCount;
    const live = this.#o.liveOutput;
    for (let i = 0; i < n; i++) {
      const sl = t[i] as CandleSlot;
      out.push(live ? sl : toCandle(sl));
      // Not kept past the call: a slot the lane drops must not stay reachable from here.
      t[i] = null;
    }
    this.#stats.emitted += n;
    this.#touchedCount = 0;
  }

  /**
   * Gap-fills the buckets whose end the watermark passed in this call, (prev, wm], in every
   * regular window that holds a candle (kept, or the last dropped one).
   */
  #fill(symbol: string, lane: Lane, prev: number, wm: number): void {
    this.#fillBudget = this.#o.maxFillsPerCall;
    let lastW = Number.NaN;
    const settled = lane.settled;
    if (settled !== null && settled.wEnd > prev) {
      lastW = settled.wStart;
      this.#fillWindow(symbol, lane, settled.wStart, settled.wEnd, settled.start, prev, wm);
    }
    const slots = lane.slots;
    for (let k = 0; k < slots.length; k++) {
      const sl = slots[k] as CandleSlot;
      if (!sl.regular || sl.wStart === lastW) continue;
      lastW = sl.wStart;
      if (sl.wEnd > prev) this.#fillWindow(symbol, lane, sl.wStart, sl.wEnd, sl.start, prev, wm);
    }
  }

  #fillWindow(symbol: string, lane: Lane, wStart: number, wEnd: number, first: number, prev: number, wm: number): void {
    const ms = lane.ms;
    const slots = lane.slots;
    let b = first + ms;
    if (prev >= wStart) b = Math.max(b, wStart + Math.floor((prev - wStart) / ms) * ms);
    // The nearest earlier candle: a kept slot before b in this window, else the settled one.
    let j = 0;
    while (j < slots.length && (slots[j] as CandleSlot).start < b) j++;
    let close = Number.NaN;
    for (let k = j - 1; k >= 0; k--) {
      const sl = slots[k] as CandleSlot;
      if (sl.wStart === wStart) {
        close = sl.close;
        break;
      }
    }
    if (Number.isNaN(close) && lane.settled !== null && lane.settled.wStart === wStart) close = lane.settled.close;
    if (Number.isNaN(close)) return;
    while (b < wEnd) {
      const bEnd = Math.min(b + ms, wEnd);
      if (bEnd > wm) break;
      const next = j < slots.length ? (slots[j] as CandleSlot) : null;
      if (next !== null && next.start === b) {
        close = next.close;
        j++;
        b = bEnd;
        continue;
      }
      if (this.#fillBudget <= 0) {
        // Skip to the next kept candle or the first bucket not yet passed, whichever is first.
        let target = wm >= wEnd ? wEnd : wStart + Math.floor((wm - wStart) / ms) * ms;
        if (next !== null && next.start < target) target = next.start;
        if (target <= b) break;
        this.#stats.fillsSkipped += Math.ceil((target - b) / ms);
        b = target;
        continue;
      }
      this.#fillBudget--;
      const sl = new CandleSlot(symbol, lane.interval, b, bEnd, wStart, wEnd, true, close);
      sl.final = true;
      sl.mark = this.#mark;
      this.#touched[this.#touchedCount++] = sl;
      this.#stats.filled++;
      slots.splice(j, 0, sl);
      j++;
      b = bEnd;
    }
  }

  /** The lowest watermark at which this lane has something to do; lower is only slower, never wrong. */
  #nextDue(lane: Lane, wm: number): number {
    const slots = lane.slots;
    let due = Number.POSITIVE_INFINITY;
    if (slots.length > 0) due = (slots[0] as CandleSlot).end + this.#o.allowedLatenessMs;
    for (let k = 0; k < slots.length; k++) {
      const sl = slots[k] as CandleSlot;
      if (sl.end > wm) {
        if (sl.end < due) due = sl.end;
        break;
      }
    }
    if (this.#o.fillGaps && !lane.daily) {
      // The earliest window with a candle that the watermark has not finished: its next bucket end.
      let wStart = Number.NaN;
      let wEnd = Number.NaN;
      if (lane.settled !== null && lane.settled.wEnd > wm) {
        wStart = lane.settled.wStart;
        wEnd = lane.settled.wEnd;
      } else {
        for (let k = 0; k < slots.length; k++) {
          const sl = slots[k] as CandleSlot;
          if (sl.regular && sl.wEnd > wm) {
            wStart = sl.wStart;
            wEnd = sl.wEnd;
            break;
          }
        }
      }
      if (!Number.isNaN(wStart)) {
        const b = wm < wStart ? wStart : wStart + Math.floor((wm - wStart) / lane.ms) * lane.ms;
        const bEnd = Math.min(b + lane.ms, wEnd);
        if (bEnd < due) due = bEnd;
      }
    }
    return due;
  }
}

function emptyStats(): CandleStats {
  return { events: 0, quotesIgnored: 0, outsideSession: 0, late: 0, revisions: 0, filled: 0, fillsSkipped: 0, emitted: 0 };
}
