import { describe, expect, it } from 'vitest';
import { validateEvent, type ExchangeCode, type MarketEvent, type ValidationPolicy } from '../../../src/domain/index.js';
import { isStockStreamError } from '../../../src/shared/errors.js';
import type { RawRecord } from '../../../src/sources/source.js';
import {
  defaultUniverse,
  isOnTick,
  measureSimulatorRate,
  Simulator,
  SYNTHETIC_DAY_MS,
  type SessionPhase,
  type SimulatorOptions,
} from '../../../src/sources/simulator/index.js';

// Randomised tests draw a seed (or take SEED from the environment) and name it in every message.
const SEED = Number(process.env['SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const START = SYNTHETIC_DAY_MS * 73_000; // a synthetic-day boundary in 2023, so the session position is known
const universe = defaultUniverse();
const exchangeOf = new Map(universe.map((i) => [i.symbol, i.exchange]));
const policy: ValidationPolicy = { now: START, maxFutureMs: Infinity, maxPastMs: Infinity, knownSymbols: new Set(universe.map((i) => i.symbol)) };

async function collect(options: Partial<SimulatorOptions> & { maxEvents: number }): Promise<Record<string, unknown>[]> {
  const sim = new Simulator({ seed: SEED, startTs: START, clock: 'virtual', ...options });
  const out: RawRecord[] = [];
  await sim.run(async (batch) => {
    out.push(...batch);
  });
  return out as Record<string, unknown>[];
}

function validated(records: Record<string, unknown>[]): MarketEvent[] {
  return records.map((r) => {
    const e = validateEvent(r, policy);
    if (!('kind' in e)) throw new Error(`seed ${SEED}: every simulated event must pass ingest validation, got ${e.message} for ${JSON.stringify(r)}`);
    return e;
  });
}

describe('defaultUniverse', () => {
  it('has 20+ US and 10+ HOSE instruments with start prices on their tick grids', () => {
    const us = universe.filter((i) => i.currency === 'USD');
    const vn = universe.filter((i) => i.exchange === 'HOSE');
    expect(us.length, 'the demo needs at least 20 US names').toBeGreaterThanOrEqual(20);
    expect(vn.length, 'the demo needs at least 10 Vietnamese names').toBeGreaterThanOrEqual(10);
    for (const i of universe) {
      expect(isOnTick(i.exchange, i.startPrice), `${i.symbol} start price ${i.startPrice} must sit on the ${i.exchange} tick grid`).toBe(true);
      expect(i.sharesOutstanding, `${i.symbol} needs shares outstanding for market-cap weights`).toBeGreaterThan(1e8);
    }
    for (const i of vn) expect(i.currency, `${i.symbol} trades on HOSE in VND`).toBe('VND');
  });
});

describe('Simulator', () => {
  it('is deterministic: same seed and options give the same events', async () => {
    const a = await collect({ maxEvents: 20_000 });
    const b = await collect({ maxEvents: 20_000 });
    expect(b, `seed ${SEED}: two virtual runs with one seed must be identical (replays and tests rely on it)`).toEqual(a);
    expect(a.length, 'maxEvents bounds the run exactly').toBe(20_000);
  });

  it('differs between seeds', async () => {
    const a = await collect({ maxEvents: 2_000 });
    const b = await collect({ maxEvents: 2_000, seed: SEED + 1 });
    const prices = (rs: Record<string, unknown>[]): string => rs.map((r) => `${r['symbol']}${r['price'] ?? r['bid']}`).join();
    expect(prices(a), `seeds ${SEED} and ${SEED + 1} must give different markets`).not.toEqual(prices(b));
  });

  it('emits valid events: positive prices on tick, bid < ask, stable unique ids, ordered time', async () => {
    const records = await collect({ maxEvents: 50_000, ratePerSec: 50 });
    const events = validated(records);
    // Collect violations and assert once: 50,000 expect() calls would dominate the test's runtime.
    const problems: string[] = [];
    const ids = new Set<string>();
    let prevTs = -Infinity;
    let trades = 0;
    events.forEach((e, n) => {
      const ex = exchangeOf.get(e.symbol) as ExchangeCode;
      if (e.id !== `simulator-${SEED}-${n + 1}`) problems.push(`${e.id}: ids must be \${source}-\${seed}-\${sequence}`);
      ids.add(e.id);
      if (e.ts < prevTs) problems.push(`${e.id}: event time went backwards`);
      prevTs = e.ts;
      const prices = e.kind === 'trade' ? [e.price] : e.kind === 'quote' ? [e.bid, e.ask] : [];
      for (const p of prices) {
        if (!isOnTick(ex, p)) problems.push(`${e.id}: ${e.symbol} price ${p} is off the ${ex} tick grid`);
        if (ex !== 'HOSE' && Math.round(p * 100) / 100 !== p) problems.push(`${e.id}: US price ${p} is not whole cents`);
      }
      if (e.kind === 'trade') {
        trades++;
        if (e.size <= 0 || e.size % 100 !== 0) problems.push(`${e.id}: size ${e.size} is not a positive number of round lots`);
      } else if (e.kind === 'quote' && !(e.bid < e.ask)) {
        problems.push(`${e.id}: quote ${e.bid}/${e.ask} is locked or crossed`);
      }
    });
    expect(problems.slice(0, 10), `seed ${SEED}: every event must be on tick, in lots, uncrossed, in time order`).toEqual([]);
    expect(ids.size, 'ids are unique, so dedup never drops a simulated event').toBe(events.length);
    expect(trades / events.length, `seed ${SEED}: quoteRatio 0.3 leaves ~70 % trades`).toBeGreaterThan(0.65);
    expect(trades / events.length).toBeLessThan(0.75);
  });

  it('honours sessionPhase: trades only in regular session, nothing while closed or at lunch', async () => {
    // A fake calendar in UTC hours: US regular 14:30-21:00, pre from 09:00, post until 24:00;
    // HOSE regular 02:00-04:30 and 06:00-07:45 with lunch between.
    const day = Date.UTC(2024, 0, 2);
    const phase = (exchange: ExchangeCode, ts: number): SessionPhase => {
      const h = (ts - day) / 3_600_000;
      if (exchange === 'HOSE') return h >= 2 && h < 4.5 ? 'regular' : h >= 4.5 && h < 6 ? 'lunch' : h >= 6 && h < 7.75 ? 'regular' : 'closed';
      return h >= 14.5 && h < 21 ? 'regular' : h >= 9 && h < 14.5 ? 'pre' : h >= 21 && h < 24 ? 'post' : 'closed';
    };
    const sim = new Simulator({ seed: SEED, startTs: day, endTs: day + 86_400_000, clock: 'virtual', ratePerSec: 5, sessionPhase: phase });
    const events: Record<string, unknown>[] = [];
    await sim.run(async (batch) => {
      events.push(...(batch as Record<string, unknown>[]));
    });
    expect(events.at(-1)?.['ts'], 'endTs ends the run within the day').toBeLessThan(day + 86_400_000);
    const seen = { regular: 0, pre: 0, post: 0, lunchOrClosed: 0, extendedTrades: 0, lunchTrades: 0 };
    for (const r of events) {
      const p = phase(exchangeOf.get(r['symbol'] as string) as ExchangeCode, r['ts'] as number);
      if (p === 'regular') seen.regular++;
      else if (p === 'pre' || p === 'post') {
        seen[p]++;
        if (r['kind'] === 'trade') seen.extendedTrades++;
      } else seen.lunchOrClosed++;
    }
    expect(seen.lunchOrClosed, `seed ${SEED}: no events while a market is closed or at lunch`).toBe(0);
    expect(seen.extendedTrades, `seed ${SEED}: no trades outside the regular session`).toBe(0);
    expect(seen.pre, `seed ${SEED}: some quotes before the open`).toBeGreaterThan(0);
    expect(seen.post, `seed ${SEED}: some quotes after the close`).toBeGreaterThan(0);
    expect(seen.regular, `seed ${SEED}: the regular session is where the activity is`).toBeGreaterThan(10 * (seen.pre + seen.post) / 2);
    const usBetween = (fromH: number, toH: number): number =>
      events.filter((r) => exchangeOf.get(r['symbol'] as string) !== 'HOSE' && (r['ts'] as number) >= day + fromH * 3_600_000 && (r['ts'] as number) < day + toH * 3_600_000).length;
    const open = usBetween(14.5, 15);
    const midday = usBetween(17.5, 18);
    expect(open, `seed ${SEED}: the U shape follows the calendar's session: ${open} events in the first half hour vs ${midday} at midday`).toBeGreaterThan(1.5 * midday);
    const hose = events.filter((r) => exchangeOf.get(r['symbol'] as string) === 'HOSE');
    expect(hose.length, `seed ${SEED}: HOSE trades in its two sessions`).toBeGreaterThan(0);
  });

  it('has a U-shaped day and respects ratePerSec on average by event time', async () => {
    const rate = 20;
    const sim = new Simulator({ seed: SEED, startTs: START, endTs: START + SYNTHETIC_DAY_MS, clock: 'virtual', ratePerSec: rate, quoteRatio: 0 });
    const halfHour = 1_800_000;
    const volume = new Float64Array(13);
    let count = 0;
    await sim.run(async (batch) => {
      for (const r of batch as Record<string, unknown>[]) {
        const ts = r['ts'] as number;
        count++;
        const bucket = Math.floor((ts - START) / halfHour);
        volume[bucket] = (volume[bucket] as number) + (r['size'] as number);
      }
    });
    const perSec = count / (SYNTHETIC_DAY_MS / 1000);
    expect(perSec, `seed ${SEED}: ${perSec.toFixed(2)} events/s of event time over a day, want ~${rate}`).toBeGreaterThan(rate * 0.97);
    expect(perSec).toBeLessThan(rate * 1.03);
    const midday = Math.min(volume[5] as number, volume[6] as number, volume[7] as number);
    expect(volume[0], `seed ${SEED}: first half hour must out-trade midday (U shape); volumes ${[...volume].join(',')}`).toBeGreaterThan(1.5 * midday);
    expect(volume[12], `seed ${SEED}: last half hour must out-trade midday (U shape); volumes ${[...volume].join(',')}`).toBeGreaterThan(1.3 * midday);
  });

  it('keeps event-time spacing at 1/rate times the activity curve', async () => {
    // Midday activity is close to its floor, so spacing there must be within a factor 2 of 1/rate.
    const rate = 1_000;
    const records = await collect({ maxEvents: 1_000, ratePerSec: rate, startTs: START + SYNTHETIC_DAY_MS / 2 });
    const span = (records.at(-1)?.['ts'] as number) - (records[0]?.['ts'] as number);
    expect(span, `seed ${SEED}: 1,000 events at ${rate}/s should span about a second of event time`).toBeGreaterThan(800);
    expect(span).toBeLessThan(2_000);
  });

  it('correlates names within a sector more than across sectors', async () => {
    const records = await collect({ maxEvents: 500_000, ratePerSec: 5, quoteRatio: 1 });
    const minute = 60_000;
    const mids = new Map<string, number[]>();
    for (const r of records) {
      const slot = Math.floor(((r['ts'] as number) - START) / minute);
      let arr = mids.get(r['symbol'] as string);
      if (arr === undefined) mids.set(r['symbol'] as string, (arr = []));
      arr[slot] = ((r['bid'] as number) + (r['ask'] as number)) / 2;
    }
    const returns = (sym: string): number[] => {
      const a = mids.get(sym) ?? [];
      const out: number[] = [];
      let last: number | undefined;
      for (let i = 0; i < a.length; i += 5) {
        const v = a[i] ?? last;
        if (v !== undefined && last !== undefined) out.push(Math.log(v / last));
        last = v ?? last;
      }
      return out;
    };
    // Spearman (rank) correlation: one jump would dominate Pearson's on a few hundred returns.
    const ranks = (v: number[]): number[] => {
      const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
      const r = new Array<number>(v.length);
      order.forEach(([, i], k) => (r[i] = k));
      return r;
    };
    const corr = (xs: number[], ys: number[]): number => {
      const n = Math.min(xs.length, ys.length);
      const x = ranks(xs.slice(0, n));
      const y = ranks(ys.slice(0, n));
      const mx = x.slice(0, n).reduce((a, b) => a + b, 0) / n;
      const my = y.slice(0, n).reduce((a, b) => a + b, 0) / n;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let i = 0; i < n; i++) {
        sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
        sxx += ((x[i] as number) - mx) ** 2;
        syy += ((y[i] as number) - my) ** 2;
      }
      return sxy / Math.sqrt(sxx * syy);
    };
    const same = corr(returns('JPM'), returns('BAC'));
    const cross = corr(returns('JPM'), returns('HPG'));
    expect(same, `seed ${SEED}: JPM/BAC share a sector factor (corr ${same.toFixed(2)}) and must move together more than JPM/HPG (${cross.toFixed(2)})`).toBeGreaterThan(cross + 0.15);
  });

  it("holds exactly ratePerSec with activityCurve 'flat'", async () => {
    const records = await collect({ maxEvents: 10_001, ratePerSec: 10_000, activityCurve: 'flat' });
    const span = (records.at(-1)?.['ts'] as number) - (records[0]?.['ts'] as number);
    expect(span, `seed ${SEED}: 10,000 intervals at 10,000/s span one second of event time`).toBeGreaterThanOrEqual(999);
    expect(span).toBeLessThanOrEqual(1_000);
  });

  it('stop() ends a realtime run and nothing is delivered afterwards', async () => {
    const sim = new Simulator({ seed: SEED, ratePerSec: 5_000 });
    let batches = 0;
    let afterStop = 0;
    let stopped = false;
    const running = sim.run(async () => {
      if (stopped) afterStop++;
      batches++;
    });
    while (batches < 2) await new Promise((r) => setTimeout(r, 5));
    await sim.stop();
    stopped = true;
    await running;
    expect(afterStop, 'no batch may reach the sink once stop() has resolved').toBe(0);
  });

  it('stop() from inside the sink does not deadlock a virtual run', async () => {
    const sim = new Simulator({ seed: SEED, clock: 'virtual', batchSize: 100 });
    let delivered = 0;
    await sim.run(async (batch) => {
      delivered += batch.length;
      if (delivered >= 1_000) await sim.stop();
    });
    expect(delivered, 'the batch that called stop() is the last one').toBe(1_000);
  });

  it('refuses invalid options with SS_CONFIG_INVALID naming the field', () => {
    expect.assertions(2);
    try {
      new Simulator({ seed: 1, ratePerSec: -5 });
    } catch (err) {
      expect(isStockStreamError(err, 'SS_CONFIG_INVALID'), 'a negative rate is a configuration error').toBe(true);
      expect((err as Error).message, 'the message names the field and the value').toMatch(/ratePerSec.*-5/);
    }
  });

  it('reports its raw generation rate', () => {
    const r = measureSimulatorRate(200_000);
    console.log(`simulator raw generation: ${Math.round(r.eventsPerSec).toLocaleString('en-US')} events/s (${r.events} events, ${r.seconds.toFixed(3)} s)`);
    expect(r.events, 'the helper generates exactly the requested count').toBe(200_000);
  });
});
