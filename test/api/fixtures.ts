import type { ApiDeps } from '../../src/api/index.js';
import type { Kpi } from '../../src/domain/index.js';
import { LiveStore, type IndicatorProvider } from '../../src/stores/index.js';
import { T0, candle } from '../fixtures/candles.js';

export { T0, candle };

export function kpi(symbol: string, last: number, over: Partial<Kpi> = {}): Kpi {
  return { symbol, last, change: 1, changePct: 0.5, open: 100, high: 110, low: 90, volume: 5000, vwap: 101, prevClose: 99, tradesPerSec: 3, ts: T0, ...over };
}

export function storeWithData(indicators?: IndicatorProvider): LiveStore {
  const store = new LiveStore(indicators === undefined ? {} : { indicators });
  store.setInstruments([
    { symbol: 'AAPL', name: 'Apple Inc.', exchange: 'NASDAQ', currency: 'USD', sector: 'Technology', sharesOutstanding: 15e9 },
    { symbol: 'VNM', name: 'Vinamilk', exchange: 'HOSE', currency: 'VND', sector: 'Consumer Staples', sharesOutstanding: 2e9 },
  ]);
  store.applyCandles(Array.from({ length: 10 }, (_, i) => candle('AAPL', '1m', i)));
  store.applyKpis([kpi('AAPL', 109.5)]);
  return store;
}

export function deps(store: LiveStore, over: Partial<ApiDeps> = {}): ApiDeps {
  return {
    store,
    health: () => ({ status: 'ok', components: { log: { status: 'ok', lagMs: 3 } } }),
    metrics: async () => '# HELP stockstream_up 1\nstockstream_up 1\n',
    metricsContentType: 'text/plain; version=0.0.4; charset=utf-8',
    ...over,
  };
}
