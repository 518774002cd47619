import type { FastifyInstance } from 'fastify';
import type { LiveStore } from '../../stores/index.js';
import { optionalInt, rejectUnknown, requiredInterval, type Query } from '../schemas/query-params.js';

/** Most closes per symbol: a sparkline is a small picture, and the answer covers every symbol. */
export const MAX_SPARKLINE_POINTS = 500;

/** `GET /api/sparklines` body: each symbol's newest closes, oldest first, and the start of the newest. */
export interface SparklinesReply {
  interval: string;
  series: Record<string, { closes: number[]; lastStart: number | null }>;
}

/**
 * `GET /api/sparklines?interval=1m&points=60`: the newest `points` closes of every symbol from the
 * live rings, in one answer, so a watchlist of thousands of symbols draws its sparklines with one
 * request instead of one `/api/candles` per row.
 */
export function registerSparklinesRoute(app: FastifyInstance, store: LiveStore): void {
  app.get('/api/sparklines', async (request): Promise<SparklinesReply> => {
    const query = request.query as Query;
    rejectUnknown(query, ['interval', 'points']);
    const interval = requiredInterval(query);
    const points = optionalInt(query, 'points', 1, MAX_SPARKLINE_POINTS, 60);
    const series: SparklinesReply['series'] = {};
    for (const symbol of store.symbols()) {
      const candles = store.candles(symbol, interval, { limit: points });
      series[symbol] = { closes: candles.map((c) => c.close), lastStart: candles[candles.length - 1]?.start ?? null };
    }
    return { interval, series };
  });
}
