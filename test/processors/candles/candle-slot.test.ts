import { Session } from 'node:inspector/promises';
import { describe, expect, it } from 'vitest';
import { CandleSlot, applyToSlot } from '../../../src/processors/candles/candle-slot.js';

/**
 * Bytes the V8 heap allocates while `fn` runs, from the sampling heap profiler (every sample kept,
 * also of objects already collected). Statistical, but with a 512-byte interval a few megabytes
 * of boxed numbers cannot hide among the few bytes an unboxed loop allocates.
 */
async function allocatedBytes(fn: () => void): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    fn();
    const { profile } = await session.post('HeapProfiler.stopSampling');
    let total = 0;
    const walk = (n: typeof profile.head): void => {
      total += n.selfSize;
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    return total;
  } finally {
    session.disconnect();
  }
}

describe('CandleSlot', () => {
  it('merges trades without allocating: its numeric fields stay unboxed doubles', async () => {
    const start = 1_741_701_600_000;
    const slots = Array.from({ length: 64 }, (_, i) => new CandleSlot(`S${i}`, '1m', start, start + 60_000, start, start + 23_400_000, true, 100.25));
    const prices = Float64Array.from({ length: 4_096 }, (_, i) => 100 + ((i * 7919) % 97) / 100);
    const merge = (rounds: number): void => {
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < prices.length; i++) {
          const p = prices[i] as number;
          applyToSlot(slots[i & 63] as CandleSlot, start + r * 10 + (i & 7), p, p, p, p, 100, p * 100);
        }
      }
    };
    // The optimising compiler works in the background and may be late on a loaded machine, and
    // unoptimised code boxes every double: the least of a few rounds is the optimised figure.
    merge(20);
    let bytes = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 6 && bytes >= 2 * 50 * prices.length; round++) {
      bytes = Math.min(bytes, await allocatedBytes(() => merge(50)));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const updates = 50 * prices.length;
    // Were the fields tagged (a plain ES2022 field declaration holds undefined first), every double
    // stored (close, closeTs, sumPV, high/low) would be a new 12-byte heap number: > 20 bytes/update.
    expect(bytes / updates, `bytes allocated per update (${bytes} over ${updates}); numeric fields of CandleSlot must be declared so V8 keeps them unboxed`).toBeLessThan(2);
  });
});
