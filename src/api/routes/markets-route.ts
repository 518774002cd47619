import type { FastifyInstance } from 'fastify';
import type { ExchangeCode } from '../../domain/index.js';
import { marketStatus, type MarketCalendar, type MarketStatus } from '../../domain/calendar/index.js';
import type { LiveStore } from '../../stores/index.js';
import { rejectUnknown, type Query } from '../schemas/query-params.js';

/** The calendars the pipeline uses and its clock; the composition root passes both. */
export interface MarketsSource {
  /** The calendar of an exchange as configured (the simulator's always-open demo switch included). */
  calendarOf: (exchange: ExchangeCode) => MarketCalendar;
  now: () => number;
}

/** `GET /api/markets` row: the exchange's status now and how many of the universe's instruments list there. */
export type MarketRow = Omit<MarketStatus, 'sessions'> & { symbols: number; sessions: { start: number; end: number }[] };

/**
 * `GET /api/markets`: one row per exchange that has instruments in the universe, by exchange
 * code. The phase comes from the same calendars the candle operator uses, so "closed" here means
 * a trade now would not make a regular-session candle.
 */
export function registerMarketsRoute(app: FastifyInstance, store: LiveStore, source: MarketsSource): void {
  app.get('/api/markets', async (request) => {
    rejectUnknown(request.query as Query, []);
    const counts = new Map<ExchangeCode, number>();
    for (const i of store.instruments()) counts.set(i.exchange, (counts.get(i.exchange) ?? 0) + 1);
    const now = source.now();
    return [...counts.keys()].sort().map((exchange): MarketRow => {
      const s = marketStatus(source.calendarOf(exchange), now);
      return {
        exchange: s.exchange,
        timeZone: s.timeZone,
        phase: s.phase,
        alwaysOpen: s.alwaysOpen,
        localTime: s.localTime,
        localDate: s.localDate,
        symbols: counts.get(exchange) ?? 0,
        nextOpen: s.nextOpen,
        nextClose: s.nextClose,
        sessions: s.sessions.map((w) => ({ start: w.start, end: w.end })),
      };
    });
  });
}
