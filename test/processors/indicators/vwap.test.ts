import { describe, expect, it } from 'vitest';
import { type OhlcvBar, createIndicator } from '../../../src/processors/indicators/index.js';
import { testSeed } from '../../fixtures/random.js';
import { randomWalk } from './helpers/series.js';
import { closeEnough, vwapReference } from './helpers/talib-oracle.js';

/** VWAP is not in TA-Lib: it must equal a from-scratch recomputation of each session's sums. */
describe('vwap', () => {
  const seed = testSeed(99);

  it(`equals the straightforward per-session reference (seed ${seed})`, () => {
    const bars = randomWalk({ seed, bars: 3000, barsPerSession: 78 });
    const expected = vwapReference(bars);
    const ind = createIndicator('vwap');
    bars.forEach((bar, i) => {
      const v = ind.update(bar) as number | null;
      const e = expected[i] as number | null;
      if (v === null || e === null) expect(v, `bar ${i}: null only where the session has no volume yet (seed ${seed})`).toBe(e);
      else expect(closeEnough(v, e), `bar ${i}: ${v} must match the reference ${e} (seed ${seed})`).toBe(true);
    });
  });

  it('restarts when the session changes and is null until volume trades', () => {
    const bar = (close: number, volume: number, session?: string): OhlcvBar => ({ open: close, high: close, low: close, close, volume, session });
    const ind = createIndicator('vwap');
    expect(ind.update(bar(10, 0, 'd1')), 'no volume yet: VWAP undefined').toBeNull();
    expect(ind.update(bar(10, 100, 'd1'))).toBe(10);
    expect(ind.update(bar(20, 100, 'd1')), 'volume-weighted within the session').toBe(15);
    expect(ind.update(bar(40, 50, 'd2')), 'a new session starts from its own first bar').toBe(40);
    const noSession = createIndicator('vwap');
    noSession.update(bar(10, 100));
    expect(noSession.update(bar(20, 100)), 'bars without a session never restart').toBe(15);
  });
});
