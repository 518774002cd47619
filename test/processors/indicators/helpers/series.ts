import type { OhlcvBar } from '../../../../src/processors/indicators/index.js';
import { gaussian, mulberry32 } from '../../../fixtures/random.js';

export interface WalkOptions {
  seed: number;
  bars: number;
  start?: number;
  /** Round prices to cents: realistic, and it makes ties (equal highs, unchanged closes) common. */
  cents?: boolean;
  /** Bars per session for VWAP (session keys are consecutive dates). */
  barsPerSession?: number;
}

/**
 * A seeded geometric random walk with realistic OHLCV: open near the previous close, high/low
 * around the body, lognormal volume, occasional unchanged closes and zero-range bars.
 */
export function randomWalk(opts: WalkOptions): OhlcvBar[] {
  const rand = mulberry32(opts.seed);
  const round = opts.cents === true ? (x: number) => Math.round(x * 100) / 100 : (x: number) => x;
  const perSession = opts.barsPerSession ?? 78;
  const bars: OhlcvBar[] = [];
  let prevClose = opts.start ?? 100;
  for (let i = 0; i < opts.bars; i++) {
    const open = round(prevClose * (1 + 0.001 * gaussian(rand)));
    const r = rand();
    let close: number;
    if (r < 0.05) close = prevClose;
    else close = round(open * Math.exp(0.01 * gaussian(rand)));
    let high: number;
    let low: number;
    if (r > 0.98) {
      high = low = close = open;
    } else {
      high = round(Math.max(open, close) * (1 + 0.004 * Math.abs(gaussian(rand))));
      low = round(Math.min(open, close) * (1 - 0.004 * Math.abs(gaussian(rand))));
    }
    const volume = rand() < 0.01 ? 0 : Math.round(100_000 * Math.exp(0.5 * gaussian(rand)));
    const day = Math.floor(i / perSession);
    bars.push({ open, high, low, close, volume, session: new Date(Date.UTC(2024, 0, 1 + day)).toISOString().slice(0, 10) });
    prevClose = close;
  }
  return bars;
}

export function flatBars(n: number, price: number, volume = 1000): OhlcvBar[] {
  return Array.from({ length: n }, () => ({ open: price, high: price, low: price, close: price, volume, session: 's' }));
}
