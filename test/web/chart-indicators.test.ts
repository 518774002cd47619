import { describe, expect, it } from 'vitest';
import { computeIndicators } from '../../src/processors/indicators/batch.js';
import { ChartIndicators, type ChartBar } from '../../web/src/chart-indicators.js';
import { mulberry32, testSeed } from '../fixtures/random.js';

const SPECS = ['sma:20', 'ema:50', 'bbands:20:2', 'vwap', 'rsi:14', 'macd:12:26:9'];
const seed = testSeed(20251121);

function bars(n: number, rand: () => number): ChartBar[] {
  let price = 100;
  return Array.from({ length: n }, (_, i) => {
    const open = price;
    price *= 1 + (rand() - 0.5) * 0.02;
    const close = price;
    return { start: i * 60_000, open, high: Math.max(open, close) * (1 + rand() * 0.005), low: Math.min(open, close) * (1 - rand() * 0.005), close, volume: Math.floor(rand() * 1000), session: `d${Math.floor(i / 390)}` };
  });
}

/** The batch CLI's values (the TA-Lib-checked path) as the chart's points. */
function expected(list: readonly ChartBar[]): Record<string, number | null>[][] {
  const t = computeIndicators(list, SPECS);
  return SPECS.map((s) => {
    const cols = t.indicators[s] as Record<string, (number | null)[]>;
    return list.map((_, i) => Object.fromEntries(Object.entries(cols).map(([o, v]) => [o, v[i] ?? null])));
  });
}

describe(`the chart's indicators (seed ${seed})`, () => {
  it('equal the batch computation over the loaded candles, and stay equal as the forming candle changes and new ones come', () => {
    const rand = mulberry32(seed);
    const all = bars(900, rand);
    const ci = new ChartIndicators(SPECS);
    ci.reset(all.slice(0, 600));
    const shown = all.slice(0, 600);
    for (let i = 600; i < all.length; i++) {
      const final = all[i] as ChartBar;
      // The forming candle passes through two states before its final one: replace, not append.
      ci.next({ ...final, close: final.open, high: final.open, low: final.open, volume: 1 });
      ci.next({ ...final, volume: Math.floor(final.volume / 2) });
      ci.next(final);
      shown.push(final);
    }
    const want = expected(shown);
    SPECS.forEach((s, k) => {
      expect(ci.series(k).length, `${s}: one point per candle`).toBe(shown.length);
      ci.series(k).forEach((pt, i) => {
        for (const [o, v] of Object.entries(want[k]?.[i] ?? {})) {
          if (v === null) expect(pt[o], `${s}.${o} at ${i}: null in warm-up, as TA-Lib`).toBeNull();
          else expect(Math.abs((pt[o] as number) - v), `${s}.${o} at ${i} (seed ${seed}) equals the batch value`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
        }
      });
    });
  });

  it('recomputes from scratch on reset (a page of older candles, a revised older candle)', () => {
    const rand = mulberry32(seed + 1);
    const list = bars(300, rand);
    const ci = new ChartIndicators(SPECS);
    ci.reset(list.slice(100));
    ci.reset(list);
    expect(ci.series(4).filter((p) => p['value'] !== null).length, 'RSI 14 is null for its 14-bar lookback only').toBe(300 - 14);
    expect(ci.at(0, 299)?.['value']).toBeCloseTo(list.slice(280).reduce((a, b) => a + b.close, 0) / 20, 9);
  });
});
