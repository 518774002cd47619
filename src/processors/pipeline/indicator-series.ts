import type { Candle, Interval } from '../../domain/index.js';
import { createIndicator } from '../indicators/index.js';

/**
 * Values of an indicator that is not maintained live, computed from the candles still in the live
 * ring with the same streaming classes. Warm-up starts at the oldest candle held, so values of
 * long-memory indicators can differ from a full-history run in their first bars.
 */
export function indicatorSeries(_symbol: string, _interval: Interval, spec: string, candles: readonly Candle[]): { start: number; value: unknown }[] {
  const ind = createIndicator(spec);
  return candles.map((c) => {
    const v = ind.update({ open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume });
    return { start: c.start, value: v !== null && typeof v === 'object' ? { ...(v as object) } : v };
  });
}
