import { describe, expect, it } from 'vitest';
import { type Indicator, type OhlcvBar, createIndicator } from '../../../src/processors/indicators/index.js';
import { mulberry32, testSeed } from '../../fixtures/random.js';
import { randomWalk } from './helpers/series.js';

/**
 * The shared indicator contract (ARCHITECTURE.md §4), run against every indicator: warm-up and
 * isStable agree with the first value, `value` mirrors the last result, `replace` amends the
 * newest bar exactly, and snapshot/restore through JSON resumes exactly.
 */
const SPECS = [
  'sma:20', 'ema:20', 'wma:10', 'rsi:14', 'macd:12:26:9', 'bbands:20:2', 'atr:14', 'atr:1',
  'stoch:14:3:3', 'stoch:1:1:1', 'adx:14', 'cci:20', 'willr:14', 'mfi:14', 'obv', 'roc:10', 'vwap',
];

const seed = testSeed(7_331);

function run(ind: Indicator<unknown>, bars: readonly OhlcvBar[]): unknown[] {
  return bars.map((b) => ind.update(b));
}

/** A random amendment of `bar`, as a forming candle gets: new close, stretched range, more volume. */
function amend(bar: OhlcvBar, rand: () => number): OhlcvBar {
  const close = bar.close * (1 + (rand() - 0.5) * 0.02);
  return {
    ...bar,
    close,
    high: Math.max(bar.high, close) * (1 + rand() * 0.001),
    low: Math.min(bar.low, close) * (1 - rand() * 0.001),
    volume: bar.volume + Math.round(rand() * 1000),
  };
}

describe.each(SPECS)('%s follows the indicator contract', (spec) => {
  const bars = randomWalk({ seed, bars: 1500, cents: true, barsPerSession: 50 });

  it('returns null exactly during warm-up, and isStable/value agree', () => {
    const ind = createIndicator(spec);
    expect(ind.spec, 'spec is canonical').toBe(spec);
    expect(ind.value, 'no value before the first bar').toBeNull();
    expect(ind.isStable, 'not stable before the first bar').toBe(false);
    bars.forEach((bar, i) => {
      const v = ind.update(bar);
      const warm = i + 1 < ind.warmup;
      if (spec !== 'vwap') expect(v === null, `${spec} bar ${i}: null iff still in warm-up (warmup ${ind.warmup})`).toBe(warm);
      expect(ind.isStable, `${spec} bar ${i}: isStable once ${ind.warmup} bars are in`).toBe(!warm);
      expect(ind.value, `${spec} bar ${i}: value mirrors the last result`).toEqual(v);
    });
  });

  it(`replace(B) after update(A) equals update(B) directly (seed ${seed})`, () => {
    const rand = mulberry32(seed ^ 0x5eed);
    const expected = run(createIndicator(spec), bars);
    const ind = createIndicator(spec);
    bars.forEach((bar, i) => {
      // Forming candle: a few interim versions, then the final bar.
      let got = ind.update(amend(bar, rand));
      const revisions = Math.floor(rand() * 3);
      for (let r = 0; r < revisions; r++) got = ind.replace(amend(bar, rand));
      got = ind.replace(bar);
      expect(got, `${spec} bar ${i}: the amended result must equal a direct update (seed ${seed})`).toEqual(expected[i]);
    });
  });

  it('replace before any update behaves like update', () => {
    const a = createIndicator(spec);
    const b = createIndicator(spec);
    expect(a.replace(bars[0] as OhlcvBar), 'first replace is an update').toEqual(b.update(bars[0] as OhlcvBar));
    expect(a.update(bars[1] as OhlcvBar), 'and the stream continues identically').toEqual(b.update(bars[1] as OhlcvBar));
  });

  it(`snapshot/restore through JSON resumes exactly, replace included (seed ${seed})`, () => {
    const rand = mulberry32(seed ^ 0xc0ffee);
    const expected = run(createIndicator(spec), bars);
    for (const cut of [0, 1, 5, 37, 400, 1499]) {
      const a = createIndicator(spec);
      for (let i = 0; i < cut; i++) a.update(bars[i] as OhlcvBar);
      const b = createIndicator(spec);
      b.restore(JSON.parse(JSON.stringify(a.snapshot())));
      expect(b.value, `${spec} cut ${cut}: value survives the round trip`).toEqual(a.value);
      expect(b.isStable, `${spec} cut ${cut}: isStable survives the round trip`).toBe(a.isStable);
      if (cut > 0) {
        // The restored state must still be able to amend the newest bar.
        b.replace(amend(bars[cut - 1] as OhlcvBar, rand));
        expect(b.replace(bars[cut - 1] as OhlcvBar), `${spec} cut ${cut}: replace after restore is exact`).toEqual(expected[cut - 1]);
      }
      for (let i = cut; i < bars.length; i++) {
        expect(b.update(bars[i] as OhlcvBar), `${spec} cut ${cut} bar ${i}: restored stream equals the uninterrupted one`).toEqual(expected[i]);
      }
    }
  });

  it('restore refuses a snapshot of another spec, naming both', () => {
    const other = createIndicator(spec === 'obv' ? 'vwap' : 'obv');
    expect(() => createIndicator(spec).restore(other.snapshot()), 'a foreign snapshot must not be half-applied').toThrow(
      /cannot restore snapshot, snapshot is for/,
    );
  });
});
