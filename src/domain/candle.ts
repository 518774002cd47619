import type { Interval } from './interval.js';

/**
 * One OHLCV candle, as served by `GET /api/candles` (ARCHITECTURE.md §5).
 * Keyed by (symbol, interval, start). `final` turns true when the event-time watermark passes the
 * bucket end. For the allowed lateness after that, each late event still amends the candle and
 * `rev` grows by one; later events go to the late-events topic.
 */
export interface Candle {
  symbol: string;
  interval: Interval;
  /** Bucket start, epoch ms, aligned to the exchange session. */
  start: number;
  /** Bucket end (exclusive), epoch ms. Shorter than the interval when a session boundary cuts it. */
  end: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Volume-weighted average price of the trades in the bucket (close of a flat filled candle). */
  vwap: number;
  trades: number;
  final: boolean;
  rev: number;
}

export function candleKey(c: Pick<Candle, 'symbol' | 'interval' | 'start'>): string {
  return `${c.symbol}|${c.interval}|${c.start}`;
}

/**
 * A plain copy with exactly the Candle fields. A live candle may be a class whose `vwap` is a
 * getter (the candle operator's slots), which `{ ...c }` would not copy.
 */
export function copyCandle(c: Candle): Candle {
  return {
    symbol: c.symbol,
    interval: c.interval,
    start: c.start,
    end: c.end,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
    vwap: c.vwap,
    trades: c.trades,
    final: c.final,
    rev: c.rev,
  };
}
