import { describe, expect, it } from 'vitest';
import { trade, quote, type Candle, type Kpi } from '../../../src/domain/index.js';
import { LiveFanoutPublisher, MemoryCache, cached, parseLiveMessage, type LiveMessage } from '../../../src/stores/fanout/index.js';
import { candle } from '../../fixtures/candles.js';

function kpi(symbol: string, last: number, ts: number): Kpi {
  return { symbol, last, change: 0, changePct: 0, open: last, high: last, low: last, volume: 1, vwap: last, prevClose: null, tradesPerSec: 0, ts };
}

describe('LiveFanoutPublisher', () => {
  it('coalesces a window: every final candle, the newest forming one per series, the newest trade, quote and KPI per symbol', () => {
    const sent: LiveMessage[] = [];
    const pub = new LiveFanoutPublisher({ publish: (m) => sent.push(m), instance: 'p1', intervalMs: 60_000 });
    const forming = candle('AAA', '1m', 1, { final: false });
    pub.ticks([trade({ symbol: 'AAA', ts: 1, source: 's', id: 'a', price: 1, size: 1 }), trade({ symbol: 'AAA', ts: 2, source: 's', id: 'b', price: 2, size: 1 }), quote({ symbol: 'AAA', ts: 3, source: 's', id: 'q', bid: 1, ask: 2, bidSize: 1, askSize: 1 })]);
    const final0 = candle('AAA', '1m', 0);
    pub.candles([final0, forming]);
    // The operator reuses its objects: the final one is copied when it comes, the forming one is read at publish time.
    final0.close = -1;
    forming.close = 777;
    pub.candles([forming]);
    pub.kpis([kpi('AAA', 1, 1), kpi('AAA', 2, 2), kpi('BBB', 5, 1)]);
    pub.flush();
    expect(sent.length, 'one message per window').toBe(1);
    const m = sent[0] as LiveMessage;
    expect([m.v, m.from, m.seq], 'versioned, from this instance, numbered').toEqual([1, 'p1', 1]);
    expect(m.ticks.map((t) => t.id), 'the newest trade and the newest quote of AAA').toEqual(['b', 'q']);
    expect(m.candles.map((c: Candle) => [c.start, c.final, c.close]), 'the final candle as it was emitted, then the forming one as it is now').toEqual([
      [final0.start, true, candle('AAA', '1m', 0).close],
      [forming.start, false, 777],
    ]);
    expect(m.kpis.map((k) => [k.symbol, k.last]), 'the newest KPI per symbol').toEqual([['AAA', 2], ['BBB', 5]]);
    pub.flush();
    expect(sent.length, 'nothing changed: nothing sent').toBe(1);
    pub.close();
  });

  it('reads back what it sends, and refuses what is not a live message', () => {
    const sent: LiveMessage[] = [];
    const pub = new LiveFanoutPublisher({ publish: (m) => sent.push(m), instance: 'p', intervalMs: 60_000 });
    pub.kpis([kpi('X', 1, 1)]);
    pub.close();
    expect(parseLiveMessage(JSON.stringify(sent[0])), 'a message survives the wire').toEqual(sent[0]);
    expect(parseLiveMessage('{"v":2,"ticks":[],"candles":[],"kpis":[]}'), 'another version is refused').toBeNull();
    expect(parseLiveMessage('not json'), 'garbage is refused').toBeNull();
  });
});

describe('MemoryCache', () => {
  it('answers within the TTL, reloads after it, and stays bounded', async () => {
    let now = 0;
    const cache = new MemoryCache({ maxEntries: 2, now: () => now });
    let loads = 0;
    const load = async (): Promise<number[]> => [++loads];
    expect(await cached(cache, 'k', 100, load), 'first call loads').toEqual([1]);
    now = 99;
    expect(await cached(cache, 'k', 100, load), 'within the TTL: the cached answer').toEqual([1]);
    now = 100;
    expect(await cached(cache, 'k', 100, load), 'expired: loaded again').toEqual([2]);
    await cache.set('a', '1', 1_000);
    await cache.set('b', '2', 1_000);
    expect([await cache.get('k'), await cache.get('a'), await cache.get('b')], 'a third entry pushes the oldest out').toEqual([null, '1', '2']);
  });
});
