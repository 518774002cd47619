import { describe, expect, it } from 'vitest';
import { type OhlcvBar, parseIndicatorSpec } from '../../../src/processors/indicators/index.js';
import { streamOutputs } from './helpers/run.js';
import { flatBars, randomWalk } from './helpers/series.js';
import { closeEnough, talibCompute } from './helpers/talib-oracle.js';
import { testSeed } from '../../fixtures/random.js';

/**
 * The main contract (ARCHITECTURE.md §4 "Indicator"): for every indicator TA-Lib has, the same
 * first valid index and the same values to 1e-9 relative, on long random series and edge cases.
 */
const SPECS = [
  'sma:2', 'sma:5', 'sma:20', 'sma:200',
  'ema:2', 'ema:9', 'ema:20', 'ema:50',
  'wma:2', 'wma:10', 'wma:30',
  'rsi:2', 'rsi:14', 'rsi:30',
  'macd:12:26:9', 'macd:5:35:5', 'macd:2:3:2', 'macd:3:10:16',
  'bbands:2:1', 'bbands:5:2', 'bbands:20:2', 'bbands:20:2.5', 'bbands:50:1.5',
  'atr:1', 'atr:2', 'atr:14', 'atr:50',
  'stoch:1:1:1', 'stoch:5:3:3', 'stoch:14:3:3', 'stoch:14:1:5', 'stoch:21:5:1',
  'adx:2', 'adx:14', 'adx:30',
  'cci:2', 'cci:14', 'cci:20',
  'willr:2', 'willr:14', 'willr:50',
  'mfi:2', 'mfi:14', 'mfi:30',
  'obv',
  'roc:1', 'roc:10', 'roc:50',
];

const seed = testSeed(20240601);

const SERIES: Record<string, OhlcvBar[]> = {
  [`random walk, 5000 bars (seed ${seed})`]: randomWalk({ seed, bars: 5000 }),
  [`random walk in cents with ties, 5000 bars (seed ${seed + 1})`]: randomWalk({ seed: seed + 1, bars: 5000, cents: true }),
  [`high-priced walk, 3000 bars (seed ${seed + 2})`]: randomWalk({ seed: seed + 2, bars: 3000, start: 60_000 }),
  [`penny walk in cents, 3000 bars (seed ${seed + 3})`]: randomWalk({ seed: seed + 3, bars: 3000, start: 0.5, cents: true }),
  'flat at 100, 300 bars': flatBars(300, 100),
  'flat at 0.1 (inexact in binary), 300 bars': flatBars(300, 0.1),
  'flat then walk': [...flatBars(120, 42.5), ...randomWalk({ seed: seed + 4, bars: 400, start: 42.5, cents: true })],
  'shorter than most warm-ups, 12 bars': randomWalk({ seed: seed + 5, bars: 12 }),
};

describe('indicators equal TA-Lib', () => {
  for (const [seriesName, bars] of Object.entries(SERIES)) {
    describe(seriesName, () => {
      it.each(SPECS)('%s', (spec) => {
        const expected = talibCompute(parseIndicatorSpec(spec), bars);
        const ours = streamOutputs(spec, bars);
        expect(ours.first, `${spec}: first valid index must equal TA-Lib's begIndex (seed ${seed})`).toBe(expected.begIndex);
        for (const [output, col] of Object.entries(expected.outputs)) {
          const mine = ours.outputs[output];
          expect(mine, `${spec}: output "${output}" must exist`).toBeDefined();
          for (let i = 0; i < bars.length; i++) {
            const e = col[i] as number | null;
            const a = (mine as (number | null)[])[i] as number | null;
            if (e === null || a === null) {
              expect(a, `${spec}.${output}[${i}]: null exactly where TA-Lib has no value (seed ${seed})`).toBe(e);
            } else if (!closeEnough(a, e)) {
              expect.fail(`${spec}.${output}[${i}]: ${a} must be within 1e-9 relative of TA-Lib's ${e} (seed ${seed})`);
            }
          }
        }
      });
    });
  }
});
