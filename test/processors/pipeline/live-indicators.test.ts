import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../src/domain/index.js';
import { computeIndicators, createIndicator } from '../../../src/processors/indicators/index.js';
import { LiveIndicators } from '../../../src/processors/pipeline/index.js';
import { LiveStore, type IndicatorPoint } from '../../../src/stores/index.js';
import { mulberry32 } from '../../fixtures/random.js';

const SPECS = ['sma:5', 'ema:4', 'rsi:3', 'macd:3:6:2', 'bbands:4:2', 'atr:3', 'vwap'];
const BARS = 300;

/** A new VWAP session every 50 bars, so replays cross session resets. */
const sessionOf = (c: Pick<Candle, 'start'>): string => String(Math.floor(c.start / 50_000));

function candle(start: number, rand: () => number, rev = 0): Candle {
  const o = 100 + rand() * 10;
  const c = 100 + rand() * 10;
  return { symbol: 'X', interval: '1s', start, end: start + 1000, open: o, high: Math.max(o, c) + rand(), low: Math.min(o, c) - rand(), close: c, volume: 100 + Math.floor(rand() * 900), vwap: c, trades: 1, final: true, rev };
}

/** A live store of the given 1s depth wired to LiveIndicators as the platform does. */
function wired(depth: number): LiveStore {
  return new LiveStore({ depths: { '1s': depth }, indicators: new LiveIndicators({ specs: SPECS, create: createIndicator, sessionOf }) });
}

/**
 * Streams BARS bars through a wired store in random batches: forming updates, new bars and
 * revisions up to `amendDepth` bars back. Returns every bar's final version, including the ones
 * the ring has evicted.
 */
function runLive(seed: number, depth: number, amendDepth: number): { store: LiveStore; all: Candle[] } {
  const rand = mulberry32(seed);
  const store = wired(depth);
  const all: Candle[] = [];
  let batch: Candle[] = [];
  const flush = (): void => {
    store.applyCandles(batch);
    batch = [];
  };
  for (let i = 0; i < BARS; i++) {
    // Two forming updates, then the bar as it closes.
    for (let f = 0; f < 3; f++) {
      const c = candle(i * 1000, rand);
      all[i] = c;
      batch.push(c);
    }
    if (i > amendDepth + 1 && rand() < 0.2) {
      const k = i - (1 + Math.floor(rand() * amendDepth));
      const amended = candle(k * 1000, rand, (all[k] as Candle).rev + 1);
      all[k] = amended;
      batch.push(amended);
    }
    if (rand() < 0.5) flush();
  }
  flush();
  return { store, all };
}

/** The batch CLI's computation over every bar since the first, shaped as served points. */
function batchPoints(candles: readonly Candle[]): Record<string, IndicatorPoint[]> {
  const table = computeIndicators(
    candles.map((c) => ({ open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, session: sessionOf(c) })),
    SPECS,
  );
  const out: Record<string, IndicatorPoint[]> = {};
  for (const spec of SPECS) {
    const cols = table.indicators[spec] as Record<string, (number | null)[]>;
    out[spec] = candles.map((c, i) => {
      const p = { start: c.start } as IndicatorPoint;
      for (const [name, col] of Object.entries(cols)) p[name] = col[i] ?? null;
      return p;
    });
  }
  return out;
}

describe('LiveIndicators', () => {
  it('serves on demand, for every candle held, the values a batch run over every amended candle since the series start gives, to the bit', () => {
    for (const seed of [1, 2, 3, 4]) {
      for (const [depth, amendDepth] of [
        [40, 3],
        [40, 30],
        [BARS + 10, 8],
      ] as const) {
        const { store, all } = runLive(seed, depth, amendDepth);
        const held = Math.min(depth, BARS);
        const expected = Object.fromEntries(Object.entries(batchPoints(all)).map(([spec, points]) => [spec, points.slice(BARS - held)]));
        expect(store.candles('X', '1s').length, `seed ${seed}, depth ${depth}: the ring holds the newest ${held} bars`).toBe(held);
        expect(store.indicators('X', '1s', SPECS), `seed ${seed}, depth ${depth}, revisions ${amendDepth} back: on-demand values equal the batch over all amended candles, evicted ones included`).toEqual(expected);
      }
    }
  });

  it('serves a range and limit from the replay, and only maintained specs', () => {
    const { store, all } = runLive(5, 40, 3);
    const expected = batchPoints(all)['rsi:3'] as IndicatorPoint[];
    const from = (all[270] as Candle).start;
    const to = (all[290] as Candle).start;
    expect(store.indicators('X', '1s', ['rsi:3', 'sma:9'], { from, to, limit: 5 }), 'the newest 5 within [from, to], warmed up from the series start; sma:9 is not maintained').toEqual({
      'rsi:3': expected.slice(286, 291),
    });
  });

  it('ignores a revision of a candle the ring has already evicted, as the store does', () => {
    const rand = mulberry32(9);
    const store = wired(10);
    const bars = Array.from({ length: 30 }, (_, i) => candle(i * 1000, rand));
    store.applyCandles(bars);
    const before = store.indicators('X', '1s', SPECS);
    store.applyCandles([candle(5_000, rand, 1)]);
    expect(store.indicators('X', '1s', SPECS), 'the evicted bar 5 is final in the tail: its late revision changes nothing').toEqual(before);
    expect(before['sma:5'], 'the served values are those of all 30 bars').toEqual((batchPoints(bars)['sma:5'] as IndicatorPoint[]).slice(20));
  });
});
