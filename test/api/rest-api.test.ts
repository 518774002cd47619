import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/index.js';
import { StockStreamError } from '../../src/shared/errors.js';
import { T0, deps, storeWithData } from './fixtures.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function get(url: string, over: Parameters<typeof deps>[1] = {}, store = storeWithData()) {
  app = buildApi(deps(store, over));
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: String(res.headers['content-type']).includes('json') ? res.json() : res.body, headers: res.headers };
}

describe('REST API', () => {
  it('GET /api/health passes the report through; down answers 503', async () => {
    const ok = await get('/api/health');
    expect(ok, 'a healthy report is served as-is with 200').toMatchObject({ status: 200, body: { status: 'ok', components: { log: { status: 'ok', lagMs: 3 } } } });
    const down = await get('/api/health', { health: () => ({ status: 'down', components: {} }) });
    expect(down.status, 'down must be visible to load balancers as 503').toBe(503);
  });

  it('GET /api/symbols lists instruments with the documented fields', async () => {
    const res = await get('/api/symbols');
    expect(res.body, 'one row per instrument with symbol, name, exchange, currency, sector and shares outstanding (the treemap’s market cap)').toEqual([
      { symbol: 'AAPL', name: 'Apple Inc.', exchange: 'NASDAQ', currency: 'USD', sector: 'Technology', sharesOutstanding: 15e9 },
      { symbol: 'VNM', name: 'Vinamilk', exchange: 'HOSE', currency: 'VND', sector: 'Consumer Staples', sharesOutstanding: 2e9 },
    ]);
  });

  it('GET /api/candles returns the documented fields oldest first, honouring from/to/limit', async () => {
    const res = await get(`/api/candles?symbol=AAPL&interval=1m&from=${T0 + 60_000}&to=${T0 + 300_000}&limit=2`);
    expect(res.status).toBe(200);
    expect(res.body, 'newest two within [from, to], oldest first, exactly the §5 fields').toEqual([
      { symbol: 'AAPL', interval: '1m', start: T0 + 240_000, open: 104, high: 105, low: 103, close: 104.5, volume: 1004, vwap: 104.25, trades: 14, final: true, rev: 0 },
      { symbol: 'AAPL', interval: '1m', start: T0 + 300_000, open: 105, high: 106, low: 104, close: 105.5, volume: 1005, vwap: 105.25, trades: 15, final: true, rev: 0 },
    ]);
    const empty = await get('/api/candles?symbol=VNM&interval=1d');
    expect(empty, 'a known symbol without candles is an empty list, not an error').toMatchObject({ status: 200, body: [] });
  });

  it.each([
    ['/api/candles?interval=1m', 'symbol: required'],
    ['/api/candles?symbol=aapl&interval=1m', 'symbol: expected 1-32 upper-case'],
    ['/api/candles?symbol=AAPL', 'interval: required'],
    ['/api/candles?symbol=AAPL&interval=2m', 'interval: expected one of 1s,1m,5m,15m,1h,1d, got "2m"'],
    ['/api/candles?symbol=AAPL&interval=1m&from=yesterday', 'from: expected epoch milliseconds'],
    ['/api/candles?symbol=AAPL&interval=1m&to=-5', 'to: expected epoch milliseconds'],
    ['/api/candles?symbol=AAPL&interval=1m&from=20&to=10', 'from: 20 is after to 10'],
    ['/api/candles?symbol=AAPL&interval=1m&limit=0', 'limit: expected an integer from 1 to 100000, got "0"'],
    ['/api/candles?symbol=AAPL&interval=1m&limit=2.5', 'limit: expected an integer'],
    ['/api/candles?symbol=AAPL&interval=1m&interval=5m', 'interval: expected one value'],
    ['/api/candles?symbol=AAPL&interval=1m&intervall=5m', 'intervall: unknown query parameter'],
    ['/api/indicators?symbol=AAPL&interval=1m', 'names: required'],
    ['/api/indicators?symbol=AAPL&interval=1m&names=RSI(14)', 'names: expected specs like rsi:14'],
    ['/api/kpis?symbol=AAPL', 'symbol: unknown query parameter; this endpoint takes no query parameters'],
  ])('GET %s → 400 naming the parameter', async (url, message) => {
    const res = await get(url);
    expect(res.status, `${url} must be refused as a client error`).toBe(400);
    expect(res.body.error.code, 'bad query parameters are SS_API_BAD_REQUEST').toBe('SS_API_BAD_REQUEST');
    expect(res.body.error.message, 'the message names the parameter, the value and the fix').toContain(message);
  });

  it('unknown symbols are 404 with a message naming the symbol', async () => {
    const res = await get('/api/candles?symbol=ZZZZ&interval=1m');
    expect(res.status).toBe(404);
    expect(res.body.error, 'the 404 names the symbol and where to find known ones').toMatchObject({ code: 'SS_API_NOT_FOUND', message: expect.stringContaining('"ZZZZ"') });
    expect(res.body.error.message).toContain('/api/symbols');
  });

  it('GET /api/indicators serves maintained specs from the store, falls back for other specs, and shapes outputs', async () => {
    // A provider in warm-up until the ninth candle, then RSI = 60 + index / 4.
    const store = storeWithData({
      maintains: (spec) => spec === 'rsi:14',
      evicted: () => undefined,
      values: (_symbol, _interval, specs, candles, first) =>
        Object.fromEntries(specs.map((spec) => [spec, candles.slice(first).map((c, i) => ({ start: c.start, value: first + i < 9 ? null : 60 + (first + i) / 4 }))])),
    });
    const calls: string[] = [];
    const res = await get(
      '/api/indicators?symbol=AAPL&interval=1m&names=rsi:14,macd:12:26:9&limit=2',
      {
        indicatorFallback: (symbol, interval, spec, candles) => {
          calls.push(`${symbol} ${interval} ${spec} ${candles.length}`);
          return candles.map((c, i) => ({ start: c.start, value: i < 8 ? null : { macd: i, signal: i / 2, histogram: Number.NaN } }));
        },
      },
      store,
    );
    expect(res.status).toBe(200);
    expect(calls, 'only the spec not maintained live goes to the fallback, with the whole candle ring for warm-up').toEqual(['AAPL 1m macd:12:26:9 10']);
    expect(res.body, 'single output under "value", multi-output one key per output, NaN and warm-up as null').toEqual({
      'rsi:14': [
        { start: T0 + 480_000, value: null },
        { start: T0 + 540_000, value: 62.25 },
      ],
      'macd:12:26:9': [
        { start: T0 + 480_000, macd: 8, signal: 4, histogram: null },
        { start: T0 + 540_000, macd: 9, signal: 4.5, histogram: null },
      ],
    });
  });

  it('GET /api/indicators: a bad spec per the validator is 400; a spec neither maintained live nor served by a fallback is 404', async () => {
    const bad = await get('/api/indicators?symbol=AAPL&interval=1m&names=rsi:0', {
      validateIndicatorSpec: (spec) => {
        throw new StockStreamError('SS_INDICATOR_SPEC', `names: ${spec} has period 0; use rsi:N with N >= 2`);
      },
    });
    expect(bad, 'SS_INDICATOR_SPEC from the validator must reach the client as a 400 with its message').toMatchObject({
      status: 400,
      body: { error: { code: 'SS_INDICATOR_SPEC', message: 'names: rsi:0 has period 0; use rsi:N with N >= 2' } },
    });
    const missing = await get('/api/indicators?symbol=AAPL&interval=1m&names=sma:5');
    expect(missing.status, 'a spec that cannot be served is not found').toBe(404);
    expect(missing.body.error.message, 'the 404 names the spec').toContain('"sma:5"');
  });

  it('GET /api/kpis serves the latest KPI per symbol', async () => {
    const res = await get('/api/kpis');
    expect(res.body, 'the KPI fields of §5 must be present').toEqual([
      expect.objectContaining({ symbol: 'AAPL', last: 109.5, change: 1, changePct: 0.5, open: 100, high: 110, low: 90, volume: 5000, vwap: 101, ts: T0 }),
    ]);
  });

  it('GET /metrics serves the Prometheus text with its content type', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type'], 'Prometheus scrapers need the exposition content type').toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toContain('stockstream_up 1');
  });

  it('a plain HTTP GET of the stream endpoint is told to upgrade', async () => {
    const res = await get('/api/stream');
    expect(res, 'a non-WebSocket request to /api/stream gets 426 with the JSON error shape').toMatchObject({
      status: 426,
      body: { error: { code: 'SS_API_BAD_REQUEST', message: expect.stringContaining('WebSocket') } },
    });
  });

  it('unknown routes are 404 JSON; uncaught errors are 500 SS_INTERNAL without a stack', async () => {
    const nf = await get('/api/nope?x=1');
    expect(nf, 'an unknown route answers the JSON error shape').toMatchObject({ status: 404, body: { error: { code: 'SS_API_NOT_FOUND' } } });
    expect(nf.body.error.message, 'the message names the route tried').toContain('GET /api/nope');
    expect(nf.body.error.message, 'without a log, markets or pipeline source those routes are not offered').not.toMatch(/\/api\/topics|\/api\/markets|\/api\/pipeline/);
    const boom = await get('/api/health', {
      health: () => {
        throw new Error('secret internals at /srv/x.ts:12');
      },
    });
    expect(boom.status).toBe(500);
    expect(boom.body.error.code).toBe('SS_INTERNAL');
    expect(JSON.stringify(boom.body), 'internal error details and stacks must not leak to clients').not.toMatch(/secret|\.ts:12|at /);
  });
});
