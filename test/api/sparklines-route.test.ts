import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi, type ErrorBody, type SparklinesReply } from '../../src/api/index.js';
import { T0, deps, storeWithData } from './fixtures.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function get(url: string): Promise<{ status: number; body: unknown }> {
  app = buildApi(deps(storeWithData()));
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() };
}

describe('GET /api/sparklines', () => {
  it('answers every symbol’s newest closes, oldest first, in one reply', async () => {
    const res = await get('/api/sparklines?interval=1m&points=3');
    expect(res.status).toBe(200);
    const body = res.body as SparklinesReply;
    expect(body.interval).toBe('1m');
    expect(Object.keys(body.series).sort(), 'every symbol the store knows, with or without candles').toEqual(['AAPL', 'VNM']);
    // The fixture's AAPL 1m candle i closes at 100 + i + 0.5 and starts at T0 + i minutes (i = 0..9).
    expect(body.series['AAPL'], 'the newest three closes and the newest start').toEqual({ closes: [107.5, 108.5, 109.5], lastStart: T0 + 9 * 60_000 });
    expect(body.series['VNM'], 'a symbol without candles has an empty line').toEqual({ closes: [], lastStart: null });
  });

  it('refuses a bad interval or point count, naming the parameter and the fix', async () => {
    const bad = await get('/api/sparklines?interval=2m');
    expect(bad.status).toBe(400);
    expect((bad.body as ErrorBody).error.message).toMatch(/^interval: expected one of 1s,1m,5m,15m,1h,1d/);
    const many = await get('/api/sparklines?interval=1m&points=5000');
    expect((many.body as ErrorBody).error.message).toMatch(/^points: expected an integer from 1 to 500/);
  });
});
