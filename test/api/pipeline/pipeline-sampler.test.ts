import { describe, expect, it } from 'vitest';
import { PipelineSampler } from '../../../src/api/index.js';

/** Counters and a clock the test moves by hand, so rates are exact. */
function fixture(options: { windowMs?: number } = {}) {
  const clock = { now: 1_000_000 };
  const counts = { ingest: 0, process: 0 };
  const sampler = new PipelineSampler({
    stages: [
      { stage: 'ingest', label: 'Events accepted', total: () => counts.ingest },
      { stage: 'process', label: 'Records processed', total: () => counts.process },
    ],
    now: () => clock.now,
    intervalMs: 1000,
    ...options,
  });
  return { clock, counts, sampler };
}

describe('PipelineSampler', () => {
  it('gives totals now and rates over the samples of the window', () => {
    const { clock, counts, sampler } = fixture();
    sampler.sample();
    for (let s = 1; s <= 4; s++) {
      clock.now += 1000;
      counts.ingest += 500;
      counts.process += 250 * s;
      sampler.sample();
    }
    const r = sampler.rates();
    expect(r.windowMs, 'four seconds of samples').toBe(4000);
    expect(r.stages, 'rate = growth over the window per second').toEqual([
      { stage: 'ingest', label: 'Events accepted', total: 2000, perSecond: 500 },
      { stage: 'process', label: 'Records processed', total: 2500, perSecond: 625 },
    ]);
  });

  it('forgets samples older than the window, so a burst that ended no longer counts', () => {
    const { clock, counts, sampler } = fixture({ windowMs: 3000 });
    sampler.sample();
    clock.now += 1000;
    counts.ingest = 9000;
    sampler.sample();
    for (let s = 0; s < 5; s++) {
      clock.now += 1000;
      sampler.sample();
    }
    const r = sampler.rates();
    expect(r.windowMs, 'the window is at most 3 s').toBeLessThanOrEqual(3000);
    expect(r.stages[0], 'the burst is behind the window: the total stays, the rate is 0').toMatchObject({ total: 9000, perSecond: 0 });
  });

  it('is 0 per second before any time has passed and when a counter goes back (a restarted component)', () => {
    const { clock, counts, sampler } = fixture();
    expect(sampler.rates().stages[0]?.perSecond, 'no samples yet').toBe(0);
    counts.ingest = 100;
    sampler.sample();
    clock.now += 1000;
    counts.ingest = 40;
    expect(sampler.rates().stages[0], 'never negative').toMatchObject({ total: 40, perSecond: 0 });
  });

  it('start() samples at once and on an unref’d timer that stop() clears', () => {
    const { sampler } = fixture();
    const active = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = active();
    sampler.start();
    expect(sampler.rates().windowMs, 'a first sample exists right after start').toBe(0);
    expect(active(), 'an unref’d timer is not an active resource that keeps the process alive').toBe(before);
    sampler.stop();
    sampler.stop();
  });

  it('refuses a window shorter than its interval', () => {
    expect(() => new PipelineSampler({ stages: [], intervalMs: 1000, windowMs: 500 }), 'the options are checked at construction').toThrow(/0 < intervalMs <= windowMs/);
  });
});
