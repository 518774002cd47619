/** Candle intervals StockStream computes. Order matters: smallest first. */
export const INTERVALS = ['1s', '1m', '5m', '15m', '1h', '1d'] as const;
export type Interval = (typeof INTERVALS)[number];

/** Length of each interval in milliseconds; '1d' is nominal (daily bars follow the session date). */
export const INTERVAL_MS: Readonly<Record<Interval, number>> = Object.freeze({
  '1s': 1_000,
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
});

export function isInterval(value: unknown): value is Interval {
  return typeof value === 'string' && (INTERVALS as readonly string[]).includes(value);
}
