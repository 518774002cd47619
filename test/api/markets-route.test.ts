import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi, type MarketRow } from '../../src/api/index.js';
import { calendarFor } from '../../src/domain/calendar/index.js';
import type { ExchangeCode } from '../../src/domain/index.js';
import { LiveStore } from '../../src/stores/index.js';
import { deps } from './fixtures.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const utc = (iso: string): number => Date.parse(iso);

function universe(): LiveStore {
  const store = new LiveStore();
  const i = (symbol: string, exchange: ExchangeCode) => ({ symbol, name: symbol, exchange, currency: 'USD', sector: 'Technology', sharesOutstanding: 1e9 });
  store.setInstruments([i('AAPL', 'NASDAQ'), i('MSFT', 'NASDAQ'), i('IBM', 'NYSE'), i('VNM', 'HOSE'), i('FPT', 'HOSE'), i('HPG', 'HOSE')]);
  return store;
}

async function markets(now: number, alwaysOpen: boolean): Promise<MarketRow[]> {
  app = buildApi(deps(universe(), { markets: { calendarOf: (ex) => calendarFor(ex, { alwaysOpen }), now: () => now } }));
  const res = await app.inject({ url: '/api/markets' });
  expect(res.statusCode, 'the markets route answers').toBe(200);
  return res.json() as MarketRow[];
}

describe('GET /api/markets', () => {
  it('one row per exchange of the universe, with the documented fields in order, at a pinned instant', async () => {
    // Monday 2025-03-10 12:00 in Ho Chi Minh City (05:00 UTC) is HOSE's lunch break and 01:00 in New York.
    const rows = await markets(utc('2025-03-10T05:00:00Z'), false);
    expect(rows.map((r) => Object.keys(r)), 'the §5-style field list, in order').toEqual(
      rows.map(() => ['exchange', 'timeZone', 'phase', 'alwaysOpen', 'localTime', 'localDate', 'symbols', 'nextOpen', 'nextClose', 'sessions']),
    );
    expect(rows.map((r) => [r.exchange, r.symbols, r.phase, r.localTime]), 'exchanges by code with their instrument counts and phase').toEqual([
      ['HOSE', 3, 'lunch', '12:00'],
      ['NASDAQ', 2, 'closed', '01:00'],
      ['NYSE', 1, 'closed', '01:00'],
    ]);
    expect(rows[0], 'HOSE at lunch: re-opens at 13:00, both windows of the day').toMatchObject({
      nextOpen: utc('2025-03-10T06:00:00Z'),
      nextClose: null,
      sessions: [
        { start: utc('2025-03-10T02:00:00Z'), end: utc('2025-03-10T04:30:00Z') },
        { start: utc('2025-03-10T06:00:00Z'), end: utc('2025-03-10T07:45:00Z') },
      ],
    });
  });

  it('with the simulator’s always-open switch every exchange trades at any hour and says so', async () => {
    const rows = await markets(utc('2025-03-08T17:00:00Z'), true);
    expect(rows.map((r) => [r.exchange, r.phase, r.alwaysOpen, r.nextOpen, r.nextClose]), 'a Saturday in demo mode').toEqual([
      ['HOSE', 'regular', true, null, null],
      ['NASDAQ', 'regular', true, null, null],
      ['NYSE', 'regular', true, null, null],
    ]);
  });

  it('takes no query parameters', async () => {
    app = buildApi(deps(universe(), { markets: { calendarOf: (ex) => calendarFor(ex), now: () => 0 } }));
    const res = await app.inject({ url: '/api/markets?exchange=NYSE' });
    expect(res.statusCode, 'an unknown parameter is refused, not ignored').toBe(400);
  });
});
