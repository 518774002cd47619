import { copyCandle, type Candle, type Interval } from '../../domain/index.js';

/**
 * The mutable state of one candle while the operator keeps it (from its first event until the
 * watermark passes end + allowed lateness). Every field is set in the constructor so V8 keeps one
 * shape. The fields are `declare`d: a plain declaration compiles (ES2022 class fields) to a
 * definition holding `undefined`, after which V8 keeps the field tagged and boxes every number
 * stored into it, a heap allocation per store: ~240 bytes per tick over six intervals, measured
 * with the sampling heap profiler. Declared, the constructor's numbers make them unboxed doubles.
 *
 * It is also a Candle: `vwap` is derived on read, and `toJSON` gives exactly the Candle fields, so
 * the operator can hand the slot itself downstream (`liveOutput`) instead of a copy per update.
 */
export class CandleSlot implements Candle {
  declare readonly symbol: string;
  declare readonly interval: Interval;
  declare readonly start: number;
  declare readonly end: number;
  /** The session window the bucket lies in (for 1d: the day's span). */
  declare readonly wStart: number;
  declare readonly wEnd: number;
  /** In a regular window (false: pre/post market with includeExtendedHours). Only regular windows are gap-filled. */
  declare readonly regular: boolean;
  declare open: number;
  declare high: number;
  declare low: number;
  declare close: number;
  /** Event times of the current open and close: out-of-order events keep open earliest, close latest. */
  declare openTs: number;
  declare closeTs: number;
  declare volume: number;
  /** Σ price·size (typical price·volume for bars); vwap = sumPV / volume. */
  declare sumPV: number;
  declare trades: number;
  declare final: boolean;
  declare rev: number;
  /** A flat gap-fill candle: the first real event replaces its values instead of merging. */
  declare filled: boolean;
  /** Id of the last output call that queued this slot, so a batch emits each candle once. */
  declare mark: number;

  constructor(symbol: string, interval: Interval, start: number, end: number, wStart: number, wEnd: number, regular: boolean, price: number) {
    this.symbol = symbol;
    this.interval = interval;
    this.start = start;
    this.end = end;
    this.wStart = wStart;
    this.wEnd = wEnd;
    this.regular = regular;
    this.open = price;
    this.high = price;
    this.low = price;
    this.close = price;
    this.openTs = start;
    this.closeTs = start;
    this.volume = 0;
    this.sumPV = 0;
    this.trades = 0;
    this.final = false;
    this.rev = 0;
    this.filled = true;
    this.mark = -1;
  }

  /** A candle without volume reports its close as vwap. */
  get vwap(): number {
    return this.volume > 0 ? this.sumPV / this.volume : this.close;
  }

  toJSON(): Candle {
    return toCandle(this);
  }
}

/**
 * Merges one trade or bar. Open follows the earliest event time (ties: first arrival), close the
 * latest (ties: last arrival), so out-of-order delivery within the bucket gives the same OHLC.
 */
export function applyToSlot(s: CandleSlot, ts: number, o: number, h: number, l: number, c: number, v: number, pv: number): void {
  if (s.filled) {
    s.filled = false;
    s.open = o;
    s.high = h;
    s.low = l;
    s.close = c;
    s.openTs = ts;
    s.closeTs = ts;
    s.volume = v;
    s.sumPV = pv;
    s.trades = 1;
    return;
  }
  if (ts < s.openTs) {
    s.open = o;
    s.openTs = ts;
  }
  if (ts >= s.closeTs) {
    s.close = c;
    s.closeTs = ts;
  }
  if (h > s.high) s.high = h;
  if (l < s.low) s.low = l;
  s.volume += v;
  s.sumPV += pv;
  s.trades += 1;
}

/** An immutable copy of the slot's current values, with exactly the Candle fields. */
export const toCandle: (s: CandleSlot) => Candle = copyCandle;
