import type { FastifyInstance } from 'fastify';
import type { Interval } from '../../domain/index.js';
import { StockStreamError } from '../../shared/errors.js';
import type { IndicatorPoint, LiveStore, RangeQuery } from '../../stores/index.js';
import type { ApiDeps } from '../api-deps.js';
import { range, rejectUnknown, requiredInterval, requiredSpecs, requiredSymbol, type Query } from '../schemas/query-params.js';
import { unknownSymbol } from './candles-route.js';

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Shapes a fallback's `{start, value}` like a live indicator's point: `value` for a single
 * output, one key per output for a record; anything not a finite number becomes null.
 */
export function toIndicatorPoint(start: number, value: unknown): IndicatorPoint {
  const point = { start } as IndicatorPoint;
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (k !== 'start') point[k] = num(v);
  } else {
    point['value'] = num(value);
  }
  return point;
}

function fallbackPoints(
  deps: ApiDeps,
  store: LiveStore,
  symbol: string,
  interval: Interval,
  spec: string,
  r: RangeQuery,
): IndicatorPoint[] {
  if (deps.indicatorFallback === undefined) {
    throw new StockStreamError(
      'SS_API_NOT_FOUND',
      `names: ${JSON.stringify(spec)} is not computed live for ${symbol} ${interval} and this server has no on-demand fallback; ask for a spec the pipeline maintains`,
      { context: { symbol, interval, spec } },
    );
  }
  // The whole ring, not just the range, so the indicator warms up before the first requested start.
  const candles = store.candles(symbol, interval);
  const from = r.from ?? -Infinity;
  const to = r.to ?? Infinity;
  const out: IndicatorPoint[] = [];
  for (const p of deps.indicatorFallback(symbol, interval, spec, candles)) {
    if (p.start >= from && p.start <= to) out.push(toIndicatorPoint(p.start, p.value));
  }
  return r.limit !== undefined && out.length > r.limit ? out.slice(out.length - r.limit) : out;
}

export function registerIndicatorsRoute(app: FastifyInstance, deps: ApiDeps): void {
  const store = deps.store;
  app.get('/api/indicators', async (request) => {
    const query = request.query as Query;
    rejectUnknown(query, ['symbol', 'interval', 'names', 'from', 'to', 'limit']);
    const symbol = requiredSymbol(query);
    const interval = requiredInterval(query);
    const specs = requiredSpecs(query);
    const r = range(query);
    if (deps.validateIndicatorSpec !== undefined) for (const spec of specs) deps.validateIndicatorSpec(spec);
    if (!store.hasSymbol(symbol)) throw unknownSymbol(symbol);
    // Specs maintained live come exact from the series start; the rest warm up from the ring's oldest candle.
    const live = store.indicators(symbol, interval, specs, r);
    const out: Record<string, IndicatorPoint[]> = {};
    for (const spec of specs) out[spec] = live[spec] ?? fallbackPoints(deps, store, symbol, interval, spec, r);
    return out;
  });
}
