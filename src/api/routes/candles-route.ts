import type { FastifyInstance } from 'fastify';
import type { Candle, Interval } from '../../domain/index.js';
import { StockStreamError } from '../../shared/errors.js';
import type { LiveStore } from '../../stores/index.js';
import { range, rejectUnknown, requiredInterval, requiredSymbol, type Query } from '../schemas/query-params.js';

/** `GET /api/candles` row (ARCHITECTURE.md §5); `end` stays internal to keep the contract exact. */
export type CandleRow = Omit<Candle, 'end'>;

export function toCandleRow(c: Candle): CandleRow {
  return {
    symbol: c.symbol,
    interval: c.interval,
    start: c.start,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
    vwap: c.vwap,
    trades: c.trades,
    final: c.final,
    rev: c.rev,
  };
}

export function unknownSymbol(symbol: string): StockStreamError {
  return new StockStreamError(
    'SS_API_NOT_FOUND',
    `symbol: ${JSON.stringify(symbol)} is not a configured instrument and has no live data; GET /api/symbols lists the known ones`,
    { context: { symbol } },
  );
}

/** Candles older than the live ring holds (the warehouse); oldest first, the newest `limit` within [from, to]. */
export type CandleHistory = (symbol: string, interval: Interval, query: { from?: number; to?: number; limit?: number }) => Promise<Candle[]>;

/**
 * `GET /api/candles`: the live ring first; when the request reaches before the ring's oldest
 * candle (an earlier `from`, or a `limit` the ring cannot fill), the rest comes from history.
 */
export function registerCandlesRoute(app: FastifyInstance, store: LiveStore, history?: CandleHistory): void {
  app.get('/api/candles', async (request) => {
    const query = request.query as Query;
    rejectUnknown(query, ['symbol', 'interval', 'from', 'to', 'limit']);
    const symbol = requiredSymbol(query);
    const interval = requiredInterval(query);
    const r = range(query);
    if (!store.hasSymbol(symbol)) throw unknownSymbol(symbol);
    const live = store.candles(symbol, interval, r);
    if (history === undefined) return live.map(toCandleRow);
    const oldest = store.candles(symbol, interval, { limit: Number.MAX_SAFE_INTEGER })[0]?.start ?? Number.POSITIVE_INFINITY;
    const wantsOlder = (r.from === undefined || r.from < oldest) && (r.limit === undefined || live.length < r.limit);
    if (!wantsOlder) return live.map(toCandleRow);
    const to = Math.min(r.to ?? Number.POSITIVE_INFINITY, oldest - 1);
    const older = await history(symbol, interval, {
      ...(r.from === undefined ? {} : { from: r.from }),
      ...(Number.isFinite(to) ? { to } : {}),
      ...(r.limit === undefined ? {} : { limit: r.limit - live.length }),
    });
    return [...older, ...live].map(toCandleRow);
  });
}
