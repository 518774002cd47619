import { describe, expect, it } from 'vitest';
import { calendarFor, trade, type Kpi, type MarketCalendar, type MarketEvent } from '../../../src/domain/index.js';
import { KpiOperator } from '../../../src/processors/kpis/index.js';
import { viaCheckpointFile } from '../../fixtures/checkpoint.js';

const DAY = 86_400_000;
/** 24/7 in UTC: every trade is in the session of its UTC date. */
const CRYPTO = calendarFor('CRYPTO');
const calendarOf = (): MarketCalendar => CRYPTO;
let n = 0;
const t = (symbol: string, ts: number, price: number, size = 100): MarketEvent => trade({ symbol, ts, source: 'test', id: `t${n++}`, price, size });

describe('KpiOperator', () => {
  it('tracks session OHLC, volume, VWAP and change against the previous session close', () => {
    const op = new KpiOperator({ calendarOf });
    const d0 = Date.UTC(2025, 0, 6, 15);
    const out: Kpi[] = [];
    op.processBatch([t('AAPL', d0, 100), t('AAPL', d0 + 1000, 102, 300), t('AAPL', d0 + 2000, 99)], out);
    expect(out.length, 'one KPI per touched symbol per batch, not per tick').toBe(1);
    const k0 = out[0] as Kpi;
    expect([k0.open, k0.high, k0.low, k0.last, k0.volume], 'session OHLC and volume from the trades').toEqual([100, 102, 99, 99, 500]);
    expect(k0.vwap, 'vwap = Σ p·s / Σ s').toBeCloseTo((100 * 100 + 102 * 300 + 99 * 100) / 500, 12);
    expect([k0.change, k0.prevClose], 'no previous close yet: change is 0 and prevClose null').toEqual([0, null]);

    out.length = 0;
    op.processBatch([t('AAPL', d0 + DAY, 110)], out);
    const k1 = out[0] as Kpi;
    expect(k1.prevClose, 'the first trade of a new session rolls the last price into prevClose').toBe(99);
    expect(k1.change, 'change = last − previous close').toBeCloseTo(11, 12);
    expect(k1.changePct, 'change % against the previous close').toBeCloseTo((11 / 99) * 100, 12);
    expect([k1.open, k1.volume], 'session stats reset at the new session').toEqual([110, 100]);
  });

  it('measures trades per second over the last 10 s of event time', () => {
    const op = new KpiOperator({ calendarOf });
    const d0 = Date.UTC(2025, 0, 6, 15);
    const batch: MarketEvent[] = [];
    for (let i = 0; i < 50; i++) batch.push(t('MSFT', d0 + i * 200, 400));
    const out: Kpi[] = [];
    op.processBatch(batch, out);
    expect((out[0] as Kpi).tradesPerSec, '50 trades over 10 s of event time are 5 per second').toBe(5);
  });

  it('restores from a checkpoint to the same KPIs', async () => {
    const a = new KpiOperator({ calendarOf });
    const d0 = Date.UTC(2025, 0, 6, 15);
    a.processBatch([t('AAPL', d0, 100), t('VNM', d0, 65_000, 1000)], []);
    const b = new KpiOperator({ calendarOf });
    b.restore(await viaCheckpointFile(a.onCheckpoint()));
    const next = [t('AAPL', d0 + 5000, 101), t('VNM', d0 + 5000, 65_100)];
    const outA: Kpi[] = [];
    const outB: Kpi[] = [];
    a.processBatch(next, outA);
    b.processBatch(next, outB);
    expect(outB, 'a restored operator continues exactly like the original').toEqual(outA);
  });

  it('with liveOutput hands out one object per symbol, updated in place, with the values copies have', () => {
    const live = new KpiOperator({ calendarOf, liveOutput: true });
    const copies = new KpiOperator({ calendarOf });
    const d0 = Date.UTC(2025, 0, 6, 15);
    const batches = [[t('AAPL', d0, 100), t('MSFT', d0, 400)], [t('AAPL', d0 + 1000, 101, 300)], [t('AAPL', d0 + DAY, 90), t('MSFT', d0 + DAY, 410)]];
    const handed: Kpi[][] = [];
    for (const b of batches) {
      const a: Kpi[] = [];
      const c: Kpi[] = [];
      live.processBatch(b, a);
      copies.processBatch(b, c);
      expect(a.map((k) => ({ ...k })), 'the live object holds exactly what a copy would, at each batch').toEqual(c);
      handed.push(a);
    }
    const aapl = handed.map((a) => a.find((k) => k.symbol === 'AAPL'));
    expect(aapl[1] === aapl[0] && aapl[2] === aapl[0], 'AAPL is the same object in every batch').toBe(true);
    expect([aapl[0]?.last, aapl[0]?.prevClose], 'and it shows the newest values, a new session included').toEqual([90, 101]);
  });

  it('follows the exchange calendar: sessions by exchange-local day, nothing outside them, stragglers ignored', async () => {
    const nyse = calendarFor('NYSE');
    const op = new KpiOperator({ calendarOf: () => nyse });
    // Tue 2025-01-07 and Wed 2025-01-08 (EST, UTC−5): regular 14:30–21:00 UTC, pre from 09:00, post to 01:00.
    const tue = Date.UTC(2025, 0, 7, 15);
    const wed = Date.UTC(2025, 0, 8, 15);
    const run = (events: MarketEvent[]): Kpi[] => {
      const out: Kpi[] = [];
      op.processBatch(events, out);
      return out;
    };
    run([t('AAPL', tue, 100), t('AAPL', tue + 3_600_000, 104)]);
    // 00:30 UTC Wednesday is Tuesday's post-market in New York: still Tuesday's session.
    const post = run([t('AAPL', Date.UTC(2025, 0, 8, 0, 30), 105)]);
    expect([post[0]?.open, post[0]?.last, post[0]?.prevClose], "post-market at 19:30 New York belongs to Tuesday's session").toEqual([100, 105, null]);
    expect(run([t('AAPL', Date.UTC(2025, 0, 8, 3), 106)]), 'a trade at 22:00 New York is outside every session and counts for nothing').toEqual([]);
    const w = run([t('AAPL', wed, 110)]);
    expect([w[0]?.open, w[0]?.prevClose, w[0]?.volume], "Wednesday's first trade opens a session; Tuesday's last price is its previous close").toEqual([110, 105, 100]);
    expect(run([t('AAPL', tue + 60_000, 90)]), "a straggler from Tuesday after Wednesday began is ignored").toEqual([]);
    const again = run([t('AAPL', wed + 1000, 111)]);
    expect([again[0]?.open, again[0]?.low, again[0]?.last, again[0]?.volume], 'and Wednesday goes on untouched by it').toEqual([110, 110, 111, 200]);

    const restored = new KpiOperator({ calendarOf: () => nyse });
    const state = await viaCheckpointFile(op.onCheckpoint());
    expect(JSON.stringify(state).includes('calendar'), 'the checkpoint keeps the KPI state, not the calendar cache').toBe(false);
    restored.restore(state);
    // Thursday 2025-01-09 the NYSE was closed (a national day of mourning): Friday is the next session.
    const fri = Date.UTC(2025, 0, 10, 15);
    const a: Kpi[] = [];
    const b: Kpi[] = [];
    op.processBatch([t('AAPL', wed + 2000, 112), t('AAPL', fri, 120)], a);
    restored.processBatch([t('AAPL', wed + 2000, 112), t('AAPL', fri, 120)], b);
    expect(b, 'a restored operator finds its session again and rolls over like the original').toEqual(a);
    expect(a[0]?.prevClose, "Friday's previous close is Wednesday's last price").toBe(112);
  });

  it("takes a day's span from whatever windows it has, so a straggler before it is never counted in it", () => {
    // A calendar whose second day has only an after-hours window: its span is [1000, 2000).
    const days = [
      { from: 0, to: 500, day: { date: '2025-01-06', regular: [{ start: 0, end: 500 }], pre: null, post: null } },
      { from: 1000, to: 2000, day: { date: '2025-01-07', regular: [], pre: null, post: { start: 1000, end: 2000 } } },
    ];
    const cal = { dayAt: (ts: number) => days.find((d) => ts >= d.from && ts < d.to)?.day ?? null } as unknown as MarketCalendar;
    const op = new KpiOperator({ calendarOf: () => cal });
    const out: Kpi[] = [];
    op.processBatch([t('X', 100, 10), t('X', 1500, 20, 300)], out);
    op.processBatch([t('X', 200, 99, 5)], out);
    const k = out[out.length - 1] as Kpi;
    expect([k.open, k.high, k.volume, k.prevClose], "the first day's straggler after the second began changes nothing").toEqual([20, 20, 300, 10]);
  });
});
