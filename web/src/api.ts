import type { Candle as DomainCandle } from '../../src/domain/index.js';

/**
 * The HTTP API the dashboard reads (ARCHITECTURE.md §5). Errors arrive as
 * {"error": {"code", "message"}} with a 4xx/5xx status; ApiError carries both so views can show
 * the server's message, which names the field, the value and the fix.
 */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

async function parse<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(err?.message ?? `${what}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status, err?.code ?? `HTTP_${res.status}`);
  }
  return body as T;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(`GET ${path}: the server did not answer (${(err as Error).message}); it may be restarting`, 0, 'NETWORK');
  }
  return parse<T>(res, `GET ${path}`);
}

export async function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(`POST ${path}: the server did not answer (${(err as Error).message}); it may be restarting`, 0, 'NETWORK');
  }
  return parse<T>(res, `POST ${path}`);
}

/** Query string from defined values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s === '' ? '' : `?${s}`;
}

/** A `GET /api/symbols` row, as the route declares it (a type-only import: nothing of the server is bundled). */
export type { SymbolRow } from '../../src/api/routes/symbols-route.js';

/** The API's rows are the domain's types (src/domain is pure: no Node, no I/O), imported for their shape only. */
export type { Kpi, TradeEvent as Trade } from '../../src/domain/index.js';
/** A `GET /api/candles` row: the domain candle without its internal `end`. */
export type Candle = Omit<DomainCandle, 'end'>;

export interface MarketStatus {
  exchange: string;
  timeZone: string;
  phase: 'pre' | 'regular' | 'post' | 'lunch' | 'closed';
  alwaysOpen: boolean;
  localTime: string;
  localDate: string;
  symbols: number;
  nextOpen: number | null;
  nextClose: number | null;
  sessions: { start: number; end: number }[];
}

/** `GET /api/sparklines`: each symbol's newest closes, oldest first. */
export interface SparklinesReply {
  interval: string;
  series: Record<string, { closes: number[]; lastStart: number | null }>;
}

export interface SqlResult {
  columns: string[];
  rows: unknown[][];
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  components: Record<string, { status: 'ok' | 'degraded' | 'down'; lagMs?: number; detail?: string; [k: string]: unknown }>;
}
