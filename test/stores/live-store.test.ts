import { describe, expect, it } from 'vitest';
import { INTERVALS, INTERVAL_MS, quote, trade, bar, type Candle, type Interval, type Kpi } from '../../src/domain/index.js';
import { CANDLE_SLOT_BYTES, DEFAULT_DEPTHS, LiveStore } from '../../src/stores/index.js';

const T0 = 1_700_000_000_000;

function candle(symbol: string, interval: Interval, i: number, over: Partial<Candle> = {}): Candle {
  const start = T0 + i * INTERVAL_MS[interval];
  return {
    symbol,
    interval,
    start,
    end: start + INTERVAL_MS[interval],
    open: 100 + i,
    high: 101 + i,
    low: 99 + i,
    close: 100.5 + i,
    volume: 1000 + i,
    vwap: 100.25 + i,
    trades: 10 + i,
    final: true,
    rev: 0,
    ...over,
  };
}

function kpi(symbol: string, last: number): Kpi {
  return { symbol, last, change: 1, changePct: 0.5, open: 100, high: 110, low: 90, volume: 5000, vwap: 101, prevClose: 99, tradesPerSec: 3, ts: T0 };
}

describe('LiveStore candles', () => {
  it('round-trips every field through the struct-of-arrays ring', () => {
    const store = new LiveStore();
    const c = candle('AAPL', '1m', 3, { final: false, rev: 7, trades: 123_456, volume: 9_876_543.25, vwap: 101.123456789 });
    store.applyCandles([c]);
    expect(store.candles('AAPL', '1m'), 'a stored candle must come back exactly as applied, including final/rev packing').toEqual([c]);
  });

  it('upserts by start: same start replaces, newer appends, older than the oldest is dropped', () => {
    const store = new LiveStore();
    store.applyCandles([candle('AAPL', '1m', 5), candle('AAPL', '1m', 6, { final: false })]);
    store.applyCandles([candle('AAPL', '1m', 6, { close: 200, final: true })]);
    store.applyCandles([candle('AAPL', '1m', 4)]);
    store.applyCandles([candle('AAPL', '1m', 7, { final: false })]);
    const got = store.candles('AAPL', '1m');
    expect(got.map((c) => c.start), 'older-than-oldest start 4 must be dropped; 6 replaced in place; 7 appended').toEqual([
      T0 + 5 * 60_000,
      T0 + 6 * 60_000,
      T0 + 7 * 60_000,
    ]);
    expect(got[1]?.close, 'the forming-candle update for start 6 must replace the earlier version').toBe(200);
    expect(got[1]?.final, 'the replacement carries the final flag').toBe(true);
  });

  it('applies a revision and refuses a lower revision arriving after it', () => {
    const store = new LiveStore();
    store.applyCandles([candle('AAPL', '1m', 1), candle('AAPL', '1m', 2)]);
    store.applyCandles([candle('AAPL', '1m', 1, { rev: 1, close: 150 })]);
    store.applyCandles([candle('AAPL', '1m', 1, { rev: 0, close: 111 })]);
    const c = store.candles('AAPL', '1m')[0];
    expect([c?.rev, c?.close], 'a late revision (rev 1) must stick; a replayed rev 0 must not undo it').toEqual([1, 150]);
  });

  it('inserts a gap-filling candle in order', () => {
    const store = new LiveStore();
    store.applyCandles([candle('AAPL', '1m', 1), candle('AAPL', '1m', 3)]);
    store.applyCandles([candle('AAPL', '1m', 2)]);
    expect(store.candles('AAPL', '1m').map((c) => c.start - T0), 'candles must stay sorted by start after a gap fill').toEqual([60_000, 120_000, 180_000]);
  });

  it('evicts the oldest at depth and keeps growing capacity only up to depth', () => {
    const store = new LiveStore({ depths: { '1m': 5 } });
    const batch: Candle[] = [];
    for (let i = 0; i < 23; i++) batch.push(candle('AAPL', '1m', i));
    store.applyCandles(batch);
    expect(store.candles('AAPL', '1m').map((c) => (c.start - T0) / 60_000), 'a depth-5 ring must hold the newest five').toEqual([18, 19, 20, 21, 22]);
    store.applyCandles([candle('AAPL', '1m', 20, { close: 1 }), candle('AAPL', '1m', 19, { close: 2 })]);
    store.applyCandles([candle('AAPL', '1m', 17)]);
    const closes = store.candles('AAPL', '1m').map((c) => c.close);
    expect(closes, 'replacing inside a wrapped ring must hit the right slots; 17 is older than the oldest and dropped').toEqual([118.5, 2, 1, 121.5, 122.5]);
    expect(store.stats().approxBytes, 'capacity must never exceed the depth').toBe(5 * CANDLE_SLOT_BYTES);
  });

  it('inserts into a full wrapped ring by evicting the oldest', () => {
    const store = new LiveStore({ depths: { '1m': 4 } });
    store.applyCandles([0, 1, 2, 4, 5].map((i) => candle('AAPL', '1m', i)));
    store.applyCandles([candle('AAPL', '1m', 3)]);
    expect(store.candles('AAPL', '1m').map((c) => (c.start - T0) / 60_000), 'a gap fill in a full ring evicts the oldest').toEqual([2, 3, 4, 5]);
  });

  it('filters by from/to (inclusive) and limit keeps the newest N, oldest first', () => {
    const store = new LiveStore();
    store.applyCandles(Array.from({ length: 10 }, (_, i) => candle('AAPL', '1m', i)));
    const at = (i: number): number => T0 + i * 60_000;
    const idx = (cs: Candle[]): number[] => cs.map((c) => (c.start - T0) / 60_000);
    expect(idx(store.candles('AAPL', '1m', { from: at(2), to: at(5) })), 'from/to are inclusive bounds on start').toEqual([2, 3, 4, 5]);
    expect(idx(store.candles('AAPL', '1m', { limit: 3 })), 'limit keeps the newest N, oldest first').toEqual([7, 8, 9]);
    expect(idx(store.candles('AAPL', '1m', { from: at(2), to: at(5), limit: 2 })), 'limit applies within the range').toEqual([4, 5]);
    expect(idx(store.candles('AAPL', '1m', { from: at(20) })), 'a range past the data is empty').toEqual([]);
    expect(store.candles('MSFT', '1m'), 'an unknown symbol has no candles').toEqual([]);
    expect(store.latestCandle('AAPL', '1m')?.start, 'latestCandle is the newest').toBe(at(9));
  });

  it('fits one symbol with every interval full at default depth in 100 KB', () => {
    const store = new LiveStore();
    for (const interval of INTERVALS) {
      store.applyCandles(Array.from({ length: DEFAULT_DEPTHS[interval] + 10 }, (_, i) => candle('AAPL', interval, i)));
    }
    const s = store.stats();
    expect(s.candles, 'every ring must be full at its default depth').toBe(INTERVALS.reduce((n, i) => n + DEFAULT_DEPTHS[i], 0));
    expect(s.approxBytes, '~5,000 live symbols must fit in 500 MB: one full symbol at default depth must stay within 100 KB').toBeLessThanOrEqual(100_000);
  });
});

describe('LiveStore indicators', () => {
  it('serves single-output values under "value", null during warm-up, upserting by start', () => {
    const store = new LiveStore();
    store.applyIndicators('AAPL', '1m', 'rsi:14', [
      { start: T0, value: null },
      { start: T0 + 60_000, value: 55.5 },
    ]);
    store.applyIndicators('AAPL', '1m', 'rsi:14', [{ start: T0 + 60_000, value: 56 }, { start: T0 + 120_000, value: 57 }]);
    expect(store.indicators('AAPL', '1m', ['rsi:14'])['rsi:14'], 'warm-up null stays null; same start replaces; newer appends').toEqual([
      { start: T0, value: null },
      { start: T0 + 60_000, value: 56 },
      { start: T0 + 120_000, value: 57 },
    ]);
  });

  it('serves multi-output values with one key per output, learning the shape after warm-up nulls', () => {
    const store = new LiveStore();
    store.applyIndicators('AAPL', '1m', 'macd:12:26:9', [
      { start: T0, value: null },
      { start: T0 + 60_000, value: { macd: 1, signal: null, histogram: null } },
      { start: T0 + 120_000, value: { macd: 2, signal: 1.5, histogram: 0.5 } },
    ]);
    const got = store.indicators('AAPL', '1m', ['macd:12:26:9', 'rsi:14'], { limit: 2 });
    expect(got, 'multi-output points carry each output name; specs without a ring are left out; limit keeps the newest').toEqual({
      'macd:12:26:9': [
        { start: T0 + 60_000, macd: 1, signal: null, histogram: null },
        { start: T0 + 120_000, macd: 2, signal: 1.5, histogram: 0.5 },
      ],
    });
    expect(store.hasIndicator('AAPL', '1m', 'macd:12:26:9'), 'hasIndicator reports live rings').toBe(true);
    expect(store.hasIndicator('AAPL', '5m', 'macd:12:26:9'), 'rings are per interval').toBe(false);
  });

  it('learns a multi-output shape after a long warm-up and fills gaps in order', () => {
    const store = new LiveStore();
    const warmup = Array.from({ length: 40 }, (_, i) => ({ start: T0 + i * 60_000, value: null }));
    store.applyIndicators('AAPL', '1m', 'bbands:20:2', warmup);
    store.applyIndicators('AAPL', '1m', 'bbands:20:2', [
      { start: T0 + 42 * 60_000, value: { upper: 3, middle: 2, lower: 1 } },
      { start: T0 + 41 * 60_000, value: { upper: 6, middle: 5, lower: 4 } },
    ]);
    const points = store.indicators('AAPL', '1m', ['bbands:20:2'])['bbands:20:2'] ?? [];
    expect(points.length, 'warm-up points survive the shape change after the ring grew').toBe(42);
    expect(points[0], 'warm-up points read as null for every learned output').toEqual({ start: T0, upper: null, middle: null, lower: null });
    expect(points.slice(-2), 'a gap-filling point lands in start order').toEqual([
      { start: T0 + 41 * 60_000, upper: 6, middle: 5, lower: 4 },
      { start: T0 + 42 * 60_000, upper: 3, middle: 2, lower: 1 },
    ]);
  });

  it('keeps indicator rings bounded by the interval depth', () => {
    const store = new LiveStore({ depths: { '1m': 3 } });
    store.applyIndicators('AAPL', '1m', 'sma:5', Array.from({ length: 40 }, (_, i) => ({ start: T0 + i * 60_000, value: i })));
    expect(store.indicators('AAPL', '1m', ['sma:5'])['sma:5']?.map((p) => p.value), 'only the newest depth points are kept').toEqual([37, 38, 39]);
  });
});

describe('LiveStore ticks, KPIs, instruments and notifications', () => {
  it('keeps the newest trade and quote by event time and ignores bars', () => {
    const store = new LiveStore();
    const t1 = trade({ symbol: 'AAPL', ts: T0 + 2, source: 's', id: '1', price: 10, size: 1 });
    const late = trade({ symbol: 'AAPL', ts: T0 + 1, source: 's', id: '2', price: 9, size: 1 });
    const q = quote({ symbol: 'AAPL', ts: T0, source: 's', id: '3', bid: 9.9, ask: 10.1, bidSize: 1, askSize: 1 });
    const b = bar({ symbol: 'MSFT', ts: T0, source: 's', id: '4', interval: '1m', open: 1, high: 1, low: 1, close: 1, volume: 1 });
    store.applyTicks([t1, late, q, b]);
    expect(store.lastTick('AAPL'), 'a late trade must not move the last trade back').toEqual({ trade: t1, quote: q });
    expect(store.lastTick('MSFT'), 'bars are not ticks').toBeUndefined();
  });

  it('notifies once per applied item with channel names, and not for dropped ones', () => {
    const store = new LiveStore();
    const seen: string[] = [];
    const off = store.onChange((channel, symbol) => seen.push(`${channel}/${symbol}`));
    store.applyCandles([candle('AAPL', '1m', 2), candle('AAPL', '1m', 1), candle('MSFT', '5m', 0)]);
    store.applyTicks([
      trade({ symbol: 'AAPL', ts: T0 + 5, source: 's', id: '1', price: 10, size: 1 }),
      trade({ symbol: 'AAPL', ts: T0 + 1, source: 's', id: '2', price: 9, size: 1 }),
    ]);
    store.applyKpis([kpi('AAPL', 10)]);
    expect(seen, 'the dropped older candle and the late trade must not notify; others once each').toEqual([
      'candles:1m/AAPL',
      'candles:5m/MSFT',
      'ticks/AAPL',
      'kpis/AAPL',
    ]);
    off();
    store.applyKpis([kpi('AAPL', 11)]);
    expect(seen.length, 'a removed listener is not called').toBe(4);
  });

  it('serves KPIs, instruments and symbols known from either', () => {
    const store = new LiveStore();
    store.setInstruments([{ symbol: 'AAPL', name: 'Apple', exchange: 'NASDAQ', currency: 'USD', sector: 'Tech', sharesOutstanding: 1 }]);
    store.applyKpis([kpi('AAPL', 10), kpi('VNM', 70_000)]);
    store.applyKpis([kpi('AAPL', 11)]);
    expect(store.kpis().map((k) => [k.symbol, k.last]), 'one KPI per symbol, the latest').toEqual([
      ['AAPL', 11],
      ['VNM', 70_000],
    ]);
    expect(store.symbols(), 'instruments first, then data-only symbols').toEqual(['AAPL', 'VNM']);
    expect([store.hasSymbol('VNM'), store.hasSymbol('ZZZ')], 'hasSymbol covers instruments and data').toEqual([true, false]);
    expect(store.instrument('AAPL')?.name).toBe('Apple');
  });

  it('refuses a non-positive depth with a message naming the interval', () => {
    expect(() => new LiveStore({ depths: { '5m': 0 } }), 'a zero depth would make every candle vanish').toThrow(/depths\.5m/);
  });
});
