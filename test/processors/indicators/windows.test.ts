import { describe, expect, it } from 'vitest';
import { ExtremeWindow } from '../../../src/processors/indicators/extreme-window.js';
import { SmaWindow } from '../../../src/processors/indicators/sma-window.js';
import { mulberry32, testSeed } from '../../fixtures/random.js';

/**
 * The O(1) building blocks against brute force, under random push/undo sequences: `undo` must be
 * the exact inverse of the last push even when that push popped many deque entries.
 */
describe('ExtremeWindow', () => {
  const seed = testSeed(1234);

  for (const period of [1, 2, 3, 7, 16, 33]) {
    for (const isMax of [true, false]) {
      it(`${isMax ? 'max' : 'min'} over ${period} equals a rescan, with undo (seed ${seed})`, () => {
        const rand = mulberry32(seed + period);
        const w = new ExtremeWindow(period, isMax);
        const values: number[] = [];
        for (let step = 0; step < 3000; step++) {
          // Few distinct values: ties are where deques usually go wrong.
          const x = Math.floor(rand() * 8);
          let got = w.push(x);
          values.push(x);
          if (rand() < 0.4) {
            w.undo();
            values.pop();
            const y = rand() < 0.5 ? 100 : -100; // an extreme that pops the whole deque, or none of it
            got = w.push(y);
            values.push(y);
          }
          const window = values.slice(-period);
          const want = isMax ? Math.max(...window) : Math.min(...window);
          expect(got, `step ${step}: the window extreme must equal a rescan (seed ${seed})`).toBe(want);
        }
      });
    }
  }
});

describe('SmaWindow', () => {
  it('ignores the first `skip` pushes and averages the last `period` values after them', () => {
    const w = new SmaWindow(3, 2);
    const out = [10, 20, 1, 2, 3, 4].map((x) => w.push(x));
    expect(out.slice(0, 4).every(Number.isNaN), 'skipped and warming pushes give NaN').toBe(true);
    expect(out.slice(4), 'then the mean of the last 3 non-skipped values').toEqual([2, 3]);
    w.undo();
    expect(w.push(7), 'undo reverts the last push exactly').toBe((2 + 3 + 7) / 3);
  });
});
