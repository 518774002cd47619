import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../../src/domain/index.js';
import { IndicatorPlan, IndicatorSeries } from '../../../../src/stores/warehouse/postgres/index.js';
import { candle } from '../../../fixtures/candles.js';
import { mulberry32, testSeed } from '../../../fixtures/random.js';
import { expectedIndicators, INDICATORS } from './writer-fixtures.js';

/** The writer's per-series indicator state without PostgreSQL: revisions, replays and reloads. */
const plan = new IndicatorPlan(INDICATORS);
const WINDOW = 4;

function keyOf(c: Candle): string {
  return `${c.symbol}|${c.interval}|${c.start}`;
}

/** Collects what a series emits, as the writer's pending values do: the latest values per candle. */
function sink(out: Map<string, number | null>): (c: Candle, values: (number | null)[]) => void {
  return (c, values) => plan.columns.forEach((col, j) => out.set(`${keyOf(c)}|${col.spec}|${col.output}`, values[j] ?? null));
}

describe('IndicatorSeries', () => {
  it('re-derives revisions within the window and survives reloads from snapshot + held candles, equal to a direct run', () => {
    const seed = testSeed(7);
    const rand = mulberry32(seed);
    const finals = new Map<string, Candle>();
    const emitted = new Map<string, number | null>();
    const stored = new Map<number, Candle>(); // what serving.candles would hold: newest revision per start
    let series = IndicatorSeries.load(plan, WINDOW, null, []).series;
    const counts = { applied: 0, stale: 0, duplicate: 0, outside: 0, forming: 0, reloads: 0 };
    const put = (c: Candle): void => {
      const had = stored.get(c.start);
      if (had === undefined || c.rev >= had.rev) stored.set(c.start, c);
      const f = finals.get(keyOf(c));
      if (f === undefined || c.rev >= f.rev) finals.set(keyOf(c), c);
      counts[series.apply(c, sink(emitted))]++;
    };
    for (let i = 0; i < 300; i++) {
      put(candle('AAPL', '1m', i, { close: 100 + Math.sin(i / 7) * 5 + rand(), volume: 1000 + Math.floor(rand() * 500) }));
      const r = rand();
      if (r < 0.25 && i > 0) {
        // Revise one of the newest WINDOW buckets (the pipeline's allowed lateness is far inside the window).
        const j = i - Math.floor(rand() * Math.min(WINDOW, i + 1));
        const old = stored.get(candle('AAPL', '1m', j).start) as Candle;
        const amended = { ...old, close: old.close + rand() - 0.5, volume: old.volume + 7, rev: old.rev + 1 };
        put(amended);
        if (rand() < 0.5) put(old); // an older revision replayed: stale
      } else if (r < 0.3) {
        put({ ...(stored.get(candle('AAPL', '1m', i).start) as Candle) }); // the same revision again
      }
      if (rand() < 0.1) {
        // A restart: only the snapshot and the candles after its tail survive (serving.candles).
        const snap = JSON.parse(JSON.stringify(series.snapshot())) as ReturnType<IndicatorSeries['snapshot']>;
        const after = [...stored.values()].filter((c) => c.start > snap.tailStart).sort((a, b) => a.start - b.start);
        const loaded = IndicatorSeries.load(plan, WINDOW, snap, after);
        expect(loaded.warmed, `seed ${seed}: every spec restores from its snapshot`).toEqual([]);
        series = loaded.series;
        counts.reloads++;
      }
    }
    put({ ...candle('AAPL', '1m', 300), final: false });
    expect(counts.stale > 0 && counts.duplicate > 0 && counts.reloads > 0, `seed ${seed}: the run exercised stale and duplicate revisions and reloads: ${JSON.stringify(counts)}`).toBe(true);
    expect([counts.outside, counts.forming], 'no revision fell outside the window; the forming candle was not applied').toEqual([0, 1]);
    const sortEntries = (m: Map<string, number | null>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const finalOnly = new Map([...finals].filter(([, c]) => c.final));
    expect(sortEntries(emitted), `seed ${seed}: the latest emitted value of every candle equals createIndicator over the final revisions`).toEqual(sortEntries(expectedIndicators(finalOnly)));
  });

  it('places a bucket that arrives between held ones, and refuses one older than the window', () => {
    const emitted = new Map<string, number | null>();
    const { series } = IndicatorSeries.load(plan, 3, null, []);
    const cs = Array.from({ length: 6 }, (_, i) => candle('AAPL', '1m', i));
    for (const i of [0, 1, 2, 4, 5]) expect(series.apply(cs[i] as Candle, sink(emitted))).toBe('applied');
    expect(series.apply(cs[3] as Candle, sink(emitted)), 'bucket 3, never seen, lies inside the window').toBe('applied');
    expect(series.apply({ ...(cs[1] as Candle), rev: 1 }, sink(emitted)), 'bucket 1 was folded into the tail').toBe('outside');
    const direct = expectedIndicators(new Map(cs.map((c) => [keyOf(c), c])));
    expect([...emitted.entries()].sort(), 'values as if bucket 3 had come in order').toEqual([...direct.entries()].sort());
  });

  it('warms a spec without a snapshot up from the candles read back, and restores the others', () => {
    const cs = Array.from({ length: 40 }, (_, i) => candle('AAPL', '1m', i, { close: 100 + ((i * 37) % 11) }));
    const { series } = IndicatorSeries.load(plan, 4, null, []);
    const emitted = new Map<string, number | null>();
    for (const c of cs.slice(0, 30)) series.apply(c, sink(emitted));
    const snap = series.snapshot();
    const partial = { tailStart: snap.tailStart, state: { ...snap.state } };
    delete partial.state['ema:5'];
    const loaded = IndicatorSeries.load(plan, 4, partial, cs.slice(0, 30));
    expect(loaded.warmed, 'only the spec without a snapshot is warmed up').toEqual(['ema:5']);
    for (const c of cs.slice(30)) loaded.series.apply(c, sink(emitted));
    const direct = expectedIndicators(new Map(cs.map((c) => [keyOf(c), c])));
    expect([...emitted.entries()].sort(), 'the read-back reached the first candle, so every value equals a direct run').toEqual([...direct.entries()].sort());
  });
});
