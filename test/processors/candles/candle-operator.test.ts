import { describe, expect, it } from 'vitest';
import { bar, calendarFor, quote, trade, type Candle, type Interval, type MarketCalendar, type MarketEvent } from '../../../src/domain/index.js';
import { CandleOperator, type CandleCheckpoint, type CandleOperatorOptions } from '../../../src/processors/candles/index.js';
import { viaCheckpointFile } from '../../fixtures/checkpoint.js';

const utc = (iso: string): number => Date.parse(iso);
const S = 1000;
const M = 60_000;
const nyse = calendarFor('NYSE');
const hose = calendarFor('HOSE');
const crypto = calendarFor('CRYPTO');
const byExchange = (s: string): MarketCalendar => (s === 'BTC-USD' ? crypto : s === 'FPT' ? hose : nyse);

let n = 0;
const t = (symbol: string, ts: number, price: number, size = 100): MarketEvent => trade({ symbol, ts, source: 'test', id: `t${n++}`, price, size });

function make(o: Partial<CandleOperatorOptions> = {}): CandleOperator {
  return new CandleOperator({ calendarOf: byExchange, ...o });
}
function run(op: CandleOperator, events: MarketEvent[]): Candle[] {
  const out: Candle[] = [];
  op.processBatch(events, out);
  return out;
}
function wm(op: CandleOperator, w: number): Candle[] {
  const out: Candle[] = [];
  op.onWatermark(w, out);
  return out;
}
const pick = (cs: Candle[], interval: Interval): Candle[] => cs.filter((c) => c.interval === interval).sort((a, b) => a.start - b.start);
const span = (c: Candle | undefined): [string, string] | undefined => (c ? [new Date(c.start).toISOString(), new Date(c.end).toISOString()] : undefined);

describe('CandleOperator buckets', () => {
  it('NYSE: hourly buckets start at 09:30 and the last is cut at the 16:00 close; the day spans the session', () => {
    const op = make({ fillGaps: false });
    // 2025-03-10 is EDT: 09:30 = 13:30Z, 16:00 = 20:00Z.
    const out = run(op, [t('AAPL', utc('2025-03-10T13:30:00Z'), 100), t('AAPL', utc('2025-03-10T14:29:59.999Z'), 101), t('AAPL', utc('2025-03-10T19:45:00Z'), 102)]);
    const hours = pick(out, '1h');
    expect(hours.map(span), '09:30–10:30 holds both early trades; 15:30–16:00 is cut at the close').toEqual([
      ['2025-03-10T13:30:00.000Z', '2025-03-10T14:30:00.000Z'],
      ['2025-03-10T19:30:00.000Z', '2025-03-10T20:00:00.000Z'],
    ]);
    expect(hours[0]?.trades, '14:29:59.999Z (10:29:59.999 local) still belongs to the 09:30 bar (end exclusive)').toBe(2);
    expect(pick(out, '15m').map((c) => c.start).at(-1), '15m bars align to the open too: 15:45 local').toBe(utc('2025-03-10T19:45:00Z'));
    expect(span(pick(out, '1d')[0]), 'daily bar = 09:30–16:00 of the local date').toEqual(['2025-03-10T13:30:00.000Z', '2025-03-10T20:00:00.000Z']);
  });

  it('NYSE across DST: the same local bar moves in UTC', () => {
    const op = make({ fillGaps: false, intervals: ['1h'] });
    const out = run(op, [t('AAPL', utc('2025-03-07T14:45:00Z'), 100), t('AAPL', utc('2025-03-10T13:45:00Z'), 100), t('AAPL', utc('2025-11-03T14:45:00Z'), 100)]);
    expect(out.map((c) => new Date(c.start).toISOString()), '09:30 local is 14:30Z in EST and 13:30Z in EDT').toEqual([
      '2025-03-07T14:30:00.000Z',
      '2025-03-10T13:30:00.000Z',
      '2025-11-03T14:30:00.000Z',
    ]);
  });

  it('HOSE: buckets are cut at the lunch break and restart at 13:00; lunch and pre-open trades are not candled', () => {
    const op = make({ fillGaps: false });
    const out = run(op, [
      t('FPT', utc('2025-03-04T04:10:00Z'), 100), // 11:10 local
      t('FPT', utc('2025-03-04T05:00:00Z'), 999), // 12:00 lunch: ignored
      t('FPT', utc('2025-03-04T06:05:00Z'), 101), // 13:05
      t('FPT', utc('2025-03-04T07:40:00Z'), 102), // 14:40
      t('FPT', utc('2025-03-04T01:00:00Z'), 999), // 08:00 before the open: ignored
    ]);
    expect(pick(out, '1h').map(span), 'HOSE 1h: 11:00–11:30, 13:00–14:00, 14:00–14:45').toEqual([
      ['2025-03-04T04:00:00.000Z', '2025-03-04T04:30:00.000Z'],
      ['2025-03-04T06:00:00.000Z', '2025-03-04T07:00:00.000Z'],
      ['2025-03-04T07:00:00.000Z', '2025-03-04T07:45:00.000Z'],
    ]);
    expect(pick(out, '15m').map(span)[0], '11:15–11:30 is a full 15m bar ending at the break').toEqual(['2025-03-04T04:00:00.000Z', '2025-03-04T04:15:00.000Z']);
    const day = pick(out, '1d')[0];
    expect(span(day), 'the HOSE day spans 09:00–14:45 local').toEqual(['2025-03-04T02:00:00.000Z', '2025-03-04T07:45:00.000Z']);
    expect([day?.high, day?.trades], 'lunch and pre-open trades never reach the daily bar').toEqual([102, 3]);
    expect(op.stats().outsideSession, 'the two ignored trades are counted').toBe(2);
  });

  it('crypto: buckets align to UTC and the day is the UTC date', () => {
    const op = make({ fillGaps: false });
    const out = run(op, [t('BTC-USD', utc('2025-03-08T23:59:59.500Z'), 90_000), t('BTC-USD', utc('2025-03-09T00:00:00.000Z'), 90_100)]);
    expect(pick(out, '1d').map(span), 'two UTC days').toEqual([
      ['2025-03-08T00:00:00.000Z', '2025-03-09T00:00:00.000Z'],
      ['2025-03-09T00:00:00.000Z', '2025-03-10T00:00:00.000Z'],
    ]);
    expect(pick(out, '1h').map((c) => c.start), 'hour bars on UTC hours').toEqual([utc('2025-03-08T23:00:00Z'), utc('2025-03-09T00:00:00Z')]);
  });

  it('daily bars are keyed by the exchange-local date across UTC midnight', () => {
    const open = calendarFor('HOSE', { alwaysOpen: true });
    const op = make({ fillGaps: false, intervals: ['1d'], calendarOf: () => open });
    const out = run(op, [t('FPT', utc('2025-03-03T16:59:59Z'), 100), t('FPT', utc('2025-03-03T17:00:00Z'), 101), t('FPT', utc('2025-03-04T03:00:00Z'), 102)]);
    expect(out.map(span), '17:00Z is local midnight (UTC+7): the second and third trades share the 2025-03-04 bar').toEqual([
      ['2025-03-02T17:00:00.000Z', '2025-03-03T17:00:00.000Z'],
      ['2025-03-03T17:00:00.000Z', '2025-03-04T17:00:00.000Z'],
    ]);
    expect(out[1]?.trades, 'both trades of local 2025-03-04').toBe(2);

    const ext = make({ fillGaps: false, intervals: ['1d'], includeExtendedHours: true });
    // 2025-03-05T00:30Z is 19:30 EST on 2025-03-04: an after-hours trade of the 4th.
    const d = run(ext, [t('AAPL', utc('2025-03-05T00:30:00Z'), 100)]);
    expect(span(d[0]), 'with extended hours the 2025-03-04 day runs 04:00–20:00 EST').toEqual(['2025-03-04T09:00:00.000Z', '2025-03-05T01:00:00.000Z']);
  });

  it('extended hours: pre/post trades are ignored by default and bucketed from the window open when included', () => {
    const pre = t('AAPL', utc('2025-03-10T13:00:30Z'), 100); // 09:00:30 EDT, pre-market
    expect(run(make(), [pre]), 'pre-market trades build no candle by default').toEqual([]);
    const out = run(make({ includeExtendedHours: true, intervals: ['1h'] }), [pre]);
    expect(span(out[0]), 'pre-market hour bars step from 04:00 EDT (08:00Z): 09:00–09:30 is cut at the open').toEqual(['2025-03-10T13:00:00.000Z', '2025-03-10T13:30:00.000Z']);
  });
});

describe('CandleOperator aggregation', () => {
  it('computes OHLCV, vwap and trade count; out-of-order trades keep open earliest and close latest', () => {
    const op = make({ intervals: ['1m'] });
    const base = utc('2025-03-10T14:00:00Z');
    const out = run(op, [t('AAPL', base + 10 * S, 101, 100), t('AAPL', base + 5 * S, 100, 300), t('AAPL', base + 50 * S, 99, 200), t('AAPL', base + 20 * S, 103, 400)]);
    expect(out.length, 'one output per touched candle per batch, not per trade').toBe(1);
    const c = out[0] as Candle;
    expect([c.open, c.high, c.low, c.close, c.volume, c.trades], 'open = earliest-ts trade, close = latest-ts trade').toEqual([100, 103, 99, 99, 1000, 4]);
    expect(c.vwap, 'vwap = Σp·s / Σs').toBeCloseTo((101 * 100 + 100 * 300 + 99 * 200 + 103 * 400) / 1000, 12);
    expect([c.final, c.rev], 'forming, first version').toEqual([false, 0]);
  });

  it('emits one copy per touched candle per batch, however many trades hit it', () => {
    const op = make();
    const base = utc('2025-03-10T14:00:00Z');
    const batch = Array.from({ length: 100 }, (_, i) => t('AAPL', base + (i % 10) * 10, 100 + (i % 7)));
    const out = run(op, batch);
    expect(out.length, '100 trades in one second touch one candle per interval: 6 outputs').toBe(6);
    expect(run(op, [quote({ symbol: 'AAPL', ts: base, source: 'q', id: 'q1', bid: 1, ask: 2, bidSize: 1, askSize: 1 })]), 'quotes build nothing').toEqual([]);
  });

  it('bars feed intervals at or above their own, with vwap from the typical price', () => {
    const op = make({ fillGaps: false });
    const ts = utc('2025-03-10T14:05:00Z');
    const out = run(op, [bar({ symbol: 'AAPL', ts, source: 'b', id: 'b1', interval: '5m', open: 10, high: 12, low: 9, close: 11, volume: 600 })]);
    expect(out.map((c) => c.interval).sort(), 'a 5m bar feeds 5m, 15m, 1h and 1d, not 1s or 1m').toEqual(['15m', '1d', '1h', '5m']);
    const h = pick(out, '1h')[0] as Candle;
    expect([h.open, h.high, h.low, h.close, h.volume, h.trades], 'bar fields carried over; trades + 1 per bar').toEqual([10, 12, 9, 11, 600, 1]);
    expect(h.vwap, 'vwap ≈ typical price (h+l+c)/3').toBeCloseTo((12 + 9 + 11) / 3, 12);
    const more = run(op, [bar({ symbol: 'AAPL', ts: ts + 5 * M, source: 'b', id: 'b2', interval: '5m', open: 11, high: 15, low: 8, close: 14, volume: 200 })]);
    const h2 = pick(more, '1h')[0] as Candle;
    expect([h2.open, h2.high, h2.low, h2.close, h2.volume, h2.trades], 'the hour merges both bars').toEqual([10, 15, 8, 14, 800, 2]);
    const daily = run(op, [bar({ symbol: 'AAPL', ts: utc('2025-03-11T04:00:00Z'), source: 'b', id: 'b3', interval: '1d', open: 1, high: 2, low: 1, close: 2, volume: 5 })]);
    expect(daily.map((c) => [c.interval, new Date(c.start).toISOString()]), 'a 1d bar stamped at local midnight goes to that date’s session').toEqual([['1d', '2025-03-11T13:30:00.000Z']]);
  });

  it('a daily bar dated without a time (UTC midnight) belongs to that date, in New York and in Ho Chi Minh City', () => {
    const op = make({ fillGaps: false });
    const daily = (symbol: string, date: string): Candle[] =>
      pick(run(op, [bar({ symbol, ts: utc(`${date}T00:00:00Z`), source: 'csv', id: `${symbol}${date}`, interval: '1d', open: 1, high: 2, low: 1, close: 2, volume: 5 })]), '1d');
    // 2024-01-02T00:00Z is 2024-01-01 19:00 in New York: New Year's Day, a holiday.
    expect(daily('AAPL', '2024-01-02').map((c) => new Date(c.start).toISOString()), 'the NYSE bar dated 2024-01-02 is that day’s session').toEqual(['2024-01-02T14:30:00.000Z']);
    expect(daily('FPT', '2024-01-03').map((c) => new Date(c.start).toISOString()), 'the HOSE bar dated 2024-01-03 is that day’s session (09:00 ICT)').toEqual(['2024-01-03T02:00:00.000Z']);
  });

  it('consecutive daily bars dated at UTC midnight each get their own day, with extended hours in winter', () => {
    // With extended hours an NYSE day in January runs 04:00–20:00 EST = 09:00Z to 01:00Z the next
    // day, so the bar dated 2025-01-08 (00:00Z) lies inside 2025-01-07's still open daily candle.
    const op = make({ fillGaps: false, intervals: ['1d'], includeExtendedHours: true });
    const dailyBar = (date: string, close: number): MarketEvent =>
      bar({ symbol: 'AAPL', ts: utc(`${date}T00:00:00Z`), source: 'csv', id: `d${date}`, interval: '1d', open: close, high: close, low: close, close, volume: 5 });
    const first = run(op, [dailyBar('2025-01-07', 10)]);
    const second = run(op, [dailyBar('2025-01-08', 20)]);
    expect(first.map((c) => [new Date(c.start).toISOString(), c.close]), 'the bar dated 2025-01-07 is that day (pre-market 04:00 EST)').toEqual([['2025-01-07T09:00:00.000Z', 10]]);
    expect(
      second.map((c) => [new Date(c.start).toISOString(), c.close, c.volume]),
      'the bar dated 2025-01-08 is a candle of its own, not merged into the 7th whose span it falls in',
    ).toEqual([['2025-01-08T09:00:00.000Z', 20, 5]]);
  });
});

describe('CandleOperator watermarks and lateness', () => {
  const base = utc('2025-03-10T14:00:00Z');

  it('marks candles final when the watermark reaches their end', () => {
    const op = make({ intervals: ['1m'], fillGaps: false });
    run(op, [t('AAPL', base + 30 * S, 100)]);
    expect(wm(op, base + M - 1), 'a watermark before the end finalises nothing').toEqual([]);
    const out = wm(op, base + M);
    expect(out.map((c) => [c.start, c.final, c.rev]), 'watermark == end → final, rev 0').toEqual([[base, true, 0]]);
    expect(wm(op, base + M + 500), 'a final candle is emitted once').toEqual([]);
  });

  it('amends a final candle within the allowed lateness: rev + 1 per late event, however batched', () => {
    const op = make({ intervals: ['1m'], fillGaps: false, allowedLatenessMs: 2000 });
    run(op, [t('AAPL', base + 30 * S, 100)]);
    wm(op, base + M + 1000);
    const out = run(op, [t('AAPL', base + 40 * S, 105), t('AAPL', base + 45 * S, 95)]);
    expect(out.map((c) => [c.high, c.low, c.close, c.trades, c.final, c.rev]), 'two late trades are two revisions, emitted once per batch').toEqual([[105, 95, 95, 3, true, 2]]);
    const again = run(op, [t('AAPL', base + 50 * S, 96)]);
    expect(again.map((c) => c.rev), 'the next late trade is the next revision').toEqual([3]);
    expect(op.stats().revisions, 'revisions counted per event').toBe(3);
  });

  it('refuses events for dropped buckets: onLate, counted, not applied', () => {
    const late: [string, Interval, number, number][] = [];
    const op = make({ intervals: ['1m', '1h'], fillGaps: false, allowedLatenessMs: 2000, onLate: (e, i) => late.push([e.id, i.interval, i.bucketStart, i.watermark]) });
    run(op, [t('AAPL', base + 30 * S, 100)]);
    wm(op, base + M + 2000);
    const ev = t('AAPL', base + 40 * S, 200);
    const out = run(op, [ev]);
    expect(late, 'the 1m bucket ended 2 s before the watermark: late for 1m only').toEqual([[ev.id, '1m', base, base + M + 2000]]);
    expect(out.map((c) => [c.interval, c.high]), 'the hour bucket is still open and takes the trade').toEqual([['1h', 200]]);
    expect(op.stats().late, 'one late (event, interval)').toBe(1);
  });

  it('creates a final candle (rev 0) for a bucket that was never seen but is still within lateness', () => {
    const op = make({ intervals: ['1m'], fillGaps: false, allowedLatenessMs: 5000 });
    wm(op, base + M + 1000);
    const out = run(op, [t('AAPL', base + 10 * S, 100)]);
    expect(out.map((c) => [c.final, c.rev]), 'born final, first version').toEqual([[true, 0]]);
  });

  it('close() emits open candles as they are', () => {
    const op = make({ intervals: ['1m'], fillGaps: false });
    run(op, [t('AAPL', base, 100), t('AAPL', base + 2 * M, 101)]);
    wm(op, base + M);
    const out: Candle[] = [];
    op.close(out);
    expect(out.map((c) => [c.start, c.final]), 'only the still-open candle, not final').toEqual([[base + 2 * M, false]]);
  });
});

describe('CandleOperator gap filling', () => {
  const open = utc('2025-03-10T13:30:00Z');

  it('fills passed buckets after the first trade with the previous close, never before it', () => {
    const op = make({ intervals: ['1m'] });
    run(op, [t('AAPL', open + 2 * M + 10 * S, 100), t('AAPL', open + 2 * M + 20 * S, 101), t('AAPL', open + 5 * M + 1 * S, 103)]);
    const out = pick(wm(op, open + 7 * M), '1m');
    expect(out.map((c) => [(c.start - open) / M, c.open, c.close, c.volume, c.trades, c.final]), 'minutes 3 and 4 copy 101, minute 6 copies 103; nothing before minute 2').toEqual([
      [2, 100, 101, 200, 2, true],
      [3, 101, 101, 0, 0, true],
      [4, 101, 101, 0, 0, true],
      [5, 103, 103, 100, 1, true],
      [6, 103, 103, 0, 0, true],
    ]);
    expect((out[1] as Candle).vwap, 'a flat candle’s vwap is the previous close').toBe(101);
    expect(op.stats().filled, 'three flat candles').toBe(3);
  });

  it('a late trade in a filled bucket replaces the flat values (rev + 1)', () => {
    const op = make({ intervals: ['1m'], allowedLatenessMs: 5000 });
    run(op, [t('AAPL', open + 10 * S, 100)]);
    wm(op, open + 2 * M);
    const out = run(op, [t('AAPL', open + M + 59 * S, 107)]);
    expect(out.map((c) => [c.open, c.close, c.volume, c.trades, c.rev]), 'the flat minute becomes a real one').toEqual([[107, 107, 100, 1, 1]]);
  });

  it('never fills across the lunch break, the close or the night', () => {
    const op = make({ intervals: ['1m', '1h'] });
    run(op, [t('FPT', utc('2025-03-04T04:28:30Z'), 100)]); // 11:28:30 local
    const out = wm(op, utc('2025-03-04T06:03:00Z')); // 13:03 local
    expect(pick(out, '1m').map((c) => new Date(c.start).toISOString()), 'only 11:29 is filled; 13:00–13:02 are not (no trade yet after lunch)').toEqual([
      '2025-03-04T04:28:00.000Z',
      '2025-03-04T04:29:00.000Z',
    ]);
    expect(pick(out, '1h').map(span), 'the 11:00–11:30 hour closes; no hour is filled after lunch').toEqual([['2025-03-04T04:00:00.000Z', '2025-03-04T04:30:00.000Z']]);
    const ny = make({ intervals: ['15m'] });
    run(ny, [t('AAPL', utc('2025-03-10T19:50:00Z'), 100)]);
    const night = wm(ny, utc('2025-03-11T14:00:00Z'));
    expect(night.map((c) => new Date(c.start).toISOString()), 'the last bar closes; nothing overnight or before the next day’s first trade').toEqual(['2025-03-10T19:45:00.000Z']);
  });

  it('caps flat candles per call and counts the skipped ones', () => {
    const op = make({ intervals: ['1s'], maxFillsPerCall: 10 });
    run(op, [t('AAPL', open, 100)]);
    const out = wm(op, open + 60 * S);
    expect(out.length, 'the real second plus 10 flat ones').toBe(11);
    expect(op.stats().fillsSkipped, '49 passed seconds left unfilled').toBe(49);
    const next = wm(op, open + 62 * S);
    expect(next.map((c) => (c.start - open) / S), 'filling resumes from the watermark').toEqual([60, 61]);
  });
});

describe('CandleOperator liveOutput', () => {
  it('emits the same candles as copies would, read during the call (seeded session)', async () => {
    const { generateSession } = await import('../../golden/candles/random-session.js');
    const seeds = process.env['CANDLES_SEED'] ? [Number(process.env['CANDLES_SEED'])] : [21, 22, 23];
    for (const seed of seeds) {
      const steps = generateSession({
        seed,
        symbols: ['AAPL', 'MSFT', 'BTC-USD', 'FPT'],
        from: utc('2025-03-04T04:25:00Z'),
        to: utc('2025-03-04T05:05:00Z'),
        meanGapMs: 1500,
        jitterShare: 0.2,
        lateShare: 0.05,
        quoteShare: 0.05,
        barSymbol: 'BTC-USD',
        watermarkDelayMs: 1000,
      });
      const options = { calendarOf: byExchange, allowedLatenessMs: 4000 };
      const copies = new CandleOperator(options);
      const live = new CandleOperator({ ...options, liveOutput: true });
      steps.forEach((s, i) => {
        const a: Candle[] = [];
        const b: Candle[] = [];
        if (s.type === 'batch') {
          copies.processBatch(s.events, a);
          live.processBatch(s.events, b);
        } else {
          copies.onWatermark(s.wm, a);
          live.onWatermark(s.wm, b);
        }
        // JSON is how the log and the stream read a candle: it must give exactly the Candle fields.
        expect(JSON.parse(JSON.stringify(b)), `seed ${seed}, call ${i}: live objects must read as the copies`).toEqual(a);
        expect(b.map((c) => c.vwap), `seed ${seed}, call ${i}: vwap is derived on read like the copy's`).toEqual(a.map((c) => c.vwap));
      });
    }
  });

  it('hands out one object per bucket, updated in place by later calls', () => {
    const op = make({ intervals: ['1m'], fillGaps: false, liveOutput: true });
    const base = utc('2025-03-10T14:00:00Z');
    const first = run(op, [t('AAPL', base + S, 100)])[0] as Candle;
    const second = run(op, [t('AAPL', base + 2 * S, 104)])[0] as Candle;
    expect(second, 'the same bucket comes back as the same object').toBe(first);
    expect([first.high, first.close, first.trades], 'a held reference reads the newest values').toEqual([104, 104, 2]);
    const next = run(op, [t('AAPL', base + M, 90)])[0] as Candle;
    expect(next, 'a new bucket is a new object').not.toBe(first);
    expect(Object.keys(JSON.parse(JSON.stringify(first)) as object).sort(), 'JSON carries the Candle fields only, no operator state').toEqual(
      ['close', 'end', 'final', 'high', 'interval', 'low', 'open', 'rev', 'start', 'symbol', 'trades', 'volume', 'vwap'],
    );
  });
});

describe('CandleOperator checkpoint/restore', () => {
  it('restoring a checkpoint and replaying the rest equals an uninterrupted run (seeded, random split points)', async () => {
    const { generateSession } = await import('../../golden/candles/random-session.js');
    const seeds = process.env['CANDLES_SEED'] ? [Number(process.env['CANDLES_SEED'])] : [11, 12, 13, 14, 15, 16];
    for (const seed of seeds) {
      const steps = generateSession({
        seed,
        symbols: ['AAPL', 'MSFT', 'BTC-USD', 'FPT'],
        from: utc('2025-03-04T04:25:00Z'),
        to: utc('2025-03-04T06:05:00Z'),
        meanGapMs: 1500,
        jitterShare: 0.2,
        lateShare: 0.05,
        quoteShare: 0.05,
        barSymbol: 'BTC-USD',
        watermarkDelayMs: 1000,
      });
      const options = { calendarOf: byExchange, allowedLatenessMs: 4000, includeExtendedHours: true };
      const apply = (op: CandleOperator, i: number): Candle[] => {
        const out: Candle[] = [];
        const s = steps[i]!;
        if (s.type === 'batch') op.processBatch(s.events, out);
        else op.onWatermark(s.wm, out);
        return out;
      };
      const whole = new CandleOperator(options);
      const expected = steps.map((_, i) => apply(whole, i));
      const tail: Candle[] = [];
      whole.close(tail);
      const split = 1 + ((seed * 7919) % (steps.length - 1));
      const first = new CandleOperator(options);
      for (let i = 0; i < split; i++) apply(first, i);
      const state = (await viaCheckpointFile(first.onCheckpoint())) as CandleCheckpoint;
      const resumed = new CandleOperator(options);
      resumed.restore(state);
      for (let i = split; i < steps.length; i++) {
        expect(apply(resumed, i), `seed ${seed}, split ${split}, call ${i}: restored run must match the uninterrupted one`).toEqual(expected[i]);
      }
      const tail2: Candle[] = [];
      resumed.close(tail2);
      expect(tail2, `seed ${seed}: close() after restore emits the same open candles`).toEqual(tail);
      expect(resumed.stats(), `seed ${seed}: counters survive the checkpoint`).toEqual(whole.stats());
    }
  });

  it('refuses a checkpoint of another version', () => {
    expect(() => make().restore({ version: 2 } as unknown as CandleCheckpoint), 'unknown checkpoint versions must fail loudly, not half-restore').toThrow(/version/);
  });
});
