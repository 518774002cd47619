import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../src/domain/index.js';
import { computeIndicators, createIndicator } from '../../../src/processors/indicators/index.js';
import { LiveIndicators } from '../../../src/processors/pipeline/index.js';

const SPECS = ['sma:5', 'ema:4', 'rsi:3', 'macd:3:6:2', 'bbands:4:2', 'atr:3'];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function candle(start: number, rand: () => number, rev = 0): Candle {
  const o = 100 + rand() * 10;
  const c = 100 + rand() * 10;
  return { symbol: 'X', interval: '1s', start, end: start + 1000, open: o, high: Math.max(o, c) + rand(), low: Math.min(o, c) - rand(), close: c, volume: 100 + Math.floor(rand() * 900), vwap: c, trades: 1, final: true, rev };
}

/** Runs a stream of candle updates (forming updates, new bars, revisions of recent and old bars) and returns the latest value per (spec, start). */
function runLive(seed: number, amendDepth: number): { values: Map<string, unknown>; finalCandles: Candle[]; recomputations: number } {
  const rand = mulberry32(seed);
  const ring: Candle[] = [];
  const values = new Map<string, unknown>();
  // Values are copied as they arrive: an indicator may reuse its multi-output object.
  const target = (_s: string, _i: string, spec: string) => ({
    upsert: (start: number, value: unknown) => values.set(`${spec}|${start}`, value !== null && typeof value === 'object' ? { ...value } : value),
  });
  const live = new LiveIndicators({ specs: SPECS, create: createIndicator, history: () => ring, allowedLatenessMs: 2000, target });
  for (let i = 0; i < 300; i++) {
    const start = i * 1000;
    // Two forming updates, then the bar as it closes.
    for (let f = 0; f < 3; f++) {
      const c = candle(start, rand);
      if (ring.length > 0 && (ring[ring.length - 1] as Candle).start === start) ring[ring.length - 1] = c;
      else ring.push(c);
      live.apply([c]);
    }
    if (i > amendDepth + 1 && rand() < 0.2) {
      const k = ring.length - 1 - (1 + Math.floor(rand() * amendDepth));
      const amended = candle((ring[k] as Candle).start, rand, (ring[k] as Candle).rev + 1);
      ring[k] = amended;
      live.apply([amended]);
    }
  }
  return { values, finalCandles: ring, recomputations: live.recomputations };
}

function batchValues(candles: Candle[]): Map<string, unknown> {
  const table = computeIndicators(candles, SPECS);
  const out = new Map<string, unknown>();
  for (const spec of SPECS) {
    const cols = table.indicators[spec] as Record<string, (number | null)[]>;
    const names = Object.keys(cols);
    candles.forEach((c, i) => {
      const v = names.length === 1 && names[0] === 'value' ? (cols['value'] as (number | null)[])[i] : Object.fromEntries(names.map((n) => [n, (cols[n] as (number | null)[])[i]]));
      out.set(`${spec}|${c.start}`, v === undefined ? null : (typeof v === 'object' && v !== null && Object.values(v).every((x) => x === null) ? null : v));
    });
  }
  return out;
}

describe('LiveIndicators', () => {
  for (const [label, depth] of [
    ['revisions within the saved recent bars', 3],
    ['revisions older than the saved bars (recomputed from the ring)', 8],
  ] as const) {
    it(`ends with the values a batch run over the final candles gives: ${label}`, () => {
      for (const seed of [1, 2, 3, 4]) {
        const { values, finalCandles, recomputations } = runLive(seed, depth);
        expect(values, `seed ${seed}: every value after revisions equals the batch computation over the amended candles`).toEqual(batchValues(finalCandles));
        if (depth > 4) expect(recomputations, `seed ${seed}: old revisions take the recompute path`).toBeGreaterThan(0);
        else expect(recomputations, `seed ${seed}: recent revisions never need a recompute`).toBe(0);
      }
    });
  }
});
