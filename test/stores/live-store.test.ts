import { describe, expect, it } from 'vitest';
import { INTERVALS, quote, trade, bar, type Candle, type Kpi } from '../../src/domain/index.js';
import { CANDLE_SLOT_BYTES, DEFAULT_DEPTHS, LiveStore, type IndicatorProvider } from '../../src/stores/index.js';
import { T0, candle } from '../fixtures/candles.js';


function kpi(symbol: string, last: number): Kpi {
  return { symbol, last, change: 1, changePct: 0.5, open: 100, high: 110, low: 90, volume: 5000, vwap: 101, prevClose: 99, tradesPerSec: 3, ts: T0 };
}

describe('LiveStore candles', () => {
  it('round-trips every field through the typed-array ring', () => {
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

  it('reads a forming candle handed over as the same changing object live, and keeps each final version', () => {
    // The candle operator's liveOutput: one object per bucket, changed in place and handed over again.
    const store = new LiveStore({ depths: { '1m': 2 } });
    const forming = { ...candle('AAPL', '1m', 1, { final: false }) };
    store.applyCandles([forming]);
    forming.close = 150;
    forming.trades = 9;
    store.applyCandles([forming]);
    forming.high = 151;
    expect(store.latestCandle('AAPL', '1m'), 'reads follow the object the ring holds for its forming slot').toEqual(forming);
    forming.final = true;
    store.applyCandles([forming]);
    const finalVersion = { ...forming };
    forming.close = 1;
    expect(store.candles('AAPL', '1m'), 'the final version is copied: later changes of the object do not reach the ring').toEqual([finalVersion]);

    const next = { ...candle('AAPL', '1m', 2, { final: false }) };
    store.applyCandles([next]);
    next.close = 160;
    store.applyCandles([next]);
    const settled = { ...next };
    const third = { ...candle('AAPL', '1m', 3, { final: false }) };
    store.applyCandles([third]);
    next.close = 2;
    expect(store.candles('AAPL', '1m').map((c) => c.close), 'a newer bucket settles the previous forming values and evicts at depth').toEqual([settled.close, third.close]);
    expect(store.candles('AAPL', '1m')[0], 'the settled slot keeps every field').toEqual(settled);
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

  it('grows capacity by doubling but stops at the depth, not the next power of two', () => {
    const store = new LiveStore({ depths: { '1s': 600 } });
    store.applyCandles(Array.from({ length: 300 }, (_, i) => candle('AAPL', '1s', i)));
    expect(store.stats().approxBytes, 'a half-full ring has doubled to 512 slots').toBe(512 * CANDLE_SLOT_BYTES);
    store.applyCandles(Array.from({ length: 400 }, (_, i) => candle('AAPL', '1s', 300 + i)));
    expect(store.stats().approxBytes, 'a full 600-deep ring holds 600 slots, not 1,024').toBe(600 * CANDLE_SLOT_BYTES);
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

  it('keeps one symbol with every interval full at default depth within its share of the 100 KB budget', () => {
    const store = new LiveStore();
    for (const interval of INTERVALS) {
      store.applyCandles(Array.from({ length: DEFAULT_DEPTHS[interval] + 10 }, (_, i) => candle('AAPL', interval, i)));
    }
    const s = store.stats();
    expect(s.candles, 'every ring must be full at its default depth').toBe(INTERVALS.reduce((n, i) => n + DEFAULT_DEPTHS[i], 0));
    expect(s.approxBytes, '~5,000 live symbols must fit in 500 MB: next to ~47 KB of indicator and operator state per symbol (bench/memory.ts), full rings must stay within 52 KB').toBeLessThanOrEqual(52_000);
  });
});

/** A provider that records what the store hands it and serves each candle's close as `value`. */
function recordingProvider(maintained: readonly string[]): IndicatorProvider & { evictions: Candle[]; calls: string[] } {
  const evictions: Candle[] = [];
  const calls: string[] = [];
  return {
    evictions,
    calls,
    maintains: (spec) => maintained.includes(spec),
    evicted: (c) => evictions.push({ ...c }),
    values: (symbol, interval, specs, candles, first) => {
      calls.push(`${symbol} ${interval} ${specs.join(',')} ${candles.length} from ${first}`);
      return Object.fromEntries(specs.map((spec) => [spec, candles.slice(first).map((c) => ({ start: c.start, value: c.close }))]));
    },
  };
}

describe('LiveStore indicators', () => {
  it('hands every candle a full ring drops to the provider, oldest first and exactly as held, gap-fill evictions included', () => {
    const provider = recordingProvider(['sma:5']);
    const store = new LiveStore({ depths: { '1m': 3 }, indicators: provider });
    store.applyCandles([0, 1, 2].map((i) => candle('AAPL', '1m', i)));
    expect(provider.evictions, 'nothing is evicted until the ring is full').toEqual([]);
    store.applyCandles([candle('AAPL', '1m', 1, { rev: 2, close: 7, final: true }), candle('AAPL', '1m', 3), candle('AAPL', '1m', 5)]);
    store.applyCandles([candle('AAPL', '1m', 4)]);
    expect(provider.evictions, 'appends at depth evict 0 then 1 (as amended), the gap fill of 4 evicts 2').toEqual([
      candle('AAPL', '1m', 0),
      candle('AAPL', '1m', 1, { rev: 2, close: 7, final: true }),
      candle('AAPL', '1m', 2),
    ]);
    expect(store.candles('AAPL', '1m').map((c) => (c.start - T0) / 60_000), 'the ring keeps the newest three').toEqual([3, 4, 5]);
  });

  it('asks the provider for maintained specs with the whole ring and the first index in range; others are left out', () => {
    const provider = recordingProvider(['rsi:14', 'macd:12:26:9']);
    const store = new LiveStore({ indicators: provider });
    store.applyCandles(Array.from({ length: 10 }, (_, i) => candle('AAPL', '1m', i)));
    const got = store.indicators('AAPL', '1m', ['macd:12:26:9', 'sma:5'], { from: T0 + 2 * 60_000, to: T0 + 6 * 60_000, limit: 2 });
    expect(provider.calls, 'the replay starts at the oldest candle held and stops at the newest in range').toEqual(['AAPL 1m macd:12:26:9 7 from 5']);
    expect(got, 'the newest two in [from, to]; the spec not maintained is left out for the fallback').toEqual({
      'macd:12:26:9': [
        { start: T0 + 5 * 60_000, value: 105.5 },
        { start: T0 + 6 * 60_000, value: 106.5 },
      ],
    });
    expect(store.indicators('AAPL', '5m', ['rsi:14']), 'a series without candles has no points').toEqual({ 'rsi:14': [] });
    expect(new LiveStore().indicators('AAPL', '1m', ['rsi:14']), 'without a provider nothing is served live').toEqual({});
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
