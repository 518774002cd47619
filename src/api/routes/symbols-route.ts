import type { FastifyInstance } from 'fastify';
import type { LiveStore } from '../../stores/index.js';
import { rejectUnknown, type Query } from '../schemas/query-params.js';

export interface SymbolRow {
  symbol: string;
  name: string;
  exchange: string | null;
  currency: string | null;
  sector: string | null;
  /** For market cap (the dashboard's treemap); null for symbols seen only in data. */
  sharesOutstanding: number | null;
}

/** Configured instruments, then symbols seen only in data (with null reference fields). */
export function registerSymbolsRoute(app: FastifyInstance, store: LiveStore): void {
  app.get('/api/symbols', async (request) => {
    rejectUnknown(request.query as Query, []);
    return store.symbols().map((symbol): SymbolRow => {
      const i = store.instrument(symbol);
      return i === undefined
        ? { symbol, name: symbol, exchange: null, currency: null, sector: null, sharesOutstanding: null }
        : { symbol, name: i.name, exchange: i.exchange, currency: i.currency, sector: i.sector, sharesOutstanding: i.sharesOutstanding };
    });
  });
}
