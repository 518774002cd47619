import { INTERVALS, isInterval, type Interval } from '../../domain/index.js';
import { StockStreamError } from '../../shared/errors.js';

/**
 * Hand-written query parsing rather than a JSON schema: every message names the parameter, the
 * value that came and the fix, which generic schema errors ("must be integer") do not.
 */

export type Query = Record<string, unknown>;

/** Upper bound on `limit`; deeper than any ring, so it only catches typos and abuse. */
export const MAX_LIMIT = 100_000;
/** Upper bound on `names` per request, so one request cannot ask for unbounded fallback work. */
export const MAX_INDICATOR_SPECS = 32;

const SYMBOL_RE = /^[A-Z0-9][A-Z0-9.\-:/^=_]{0,31}$/;
const SPEC_RE = /^[a-z][a-z0-9_]*(?::-?[0-9]+(?:\.[0-9]+)?)*$/;

export function badRequest(message: string, context: Record<string, unknown> = {}): StockStreamError {
  return new StockStreamError('SS_API_BAD_REQUEST', message, { context });
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return `${value.length} values (the parameter is repeated)`;
  return String(value);
}

/** Refuses parameters the endpoint does not know, so a typo like `intervall` is not silently ignored. */
export function rejectUnknown(query: Query, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) {
      const accepted = allowed.length === 0 ? 'takes no query parameters' : `accepts ${allowed.join(', ')}`;
      throw badRequest(`${key}: unknown query parameter; this endpoint ${accepted}`, { param: key });
    }
  }
}

function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`${name}: expected one value, got ${show(v)}; pass ${name} once`, { param: name });
  return v;
}

export function requiredSymbol(query: Query): string {
  const v = single(query, 'symbol');
  if (v === undefined || v === '') throw badRequest('symbol: required, got nothing; pass e.g. ?symbol=AAPL', { param: 'symbol' });
  if (!SYMBOL_RE.test(v)) {
    throw badRequest(`symbol: expected 1-32 upper-case letters, digits or . - : / ^ = _, got ${show(v)}; tickers are upper case, e.g. AAPL`, {
      param: 'symbol',
      value: v,
    });
  }
  return v;
}

export function requiredInterval(query: Query): Interval {
  const v = single(query, 'interval');
  if (v === undefined || v === '') throw badRequest(`interval: required, got nothing; pass one of ${INTERVALS.join(',')}`, { param: 'interval' });
  if (!isInterval(v)) throw badRequest(`interval: expected one of ${INTERVALS.join(',')}, got ${show(v)}`, { param: 'interval', value: v });
  return v;
}

/** Optional epoch-ms time (`from`, `to`). */
export function optionalTime(query: Query, name: string): number | undefined {
  const v = single(query, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw badRequest(`${name}: expected epoch milliseconds (a non-negative integer), got ${show(v)}; e.g. ${name}=1700000000000`, {
      param: name,
      value: v,
    });
  }
  return Number(v);
}

export function optionalLimit(query: Query): number | undefined {
  const v = single(query, 'limit');
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[0-9]{1,9}$/.test(v) || n < 1 || n > MAX_LIMIT) {
    throw badRequest(`limit: expected an integer from 1 to ${MAX_LIMIT}, got ${show(v)}`, { param: 'limit', value: v });
  }
  return n;
}

/**
 * Optional integer parameter within [min, max] (`partition`, `offset`, a `limit` with its own
 * bound); `fallback` when absent. The message names the parameter, the value and the range.
 */
export function optionalInt(query: Query, name: string, min: number, max: number, fallback: number): number;
export function optionalInt(query: Query, name: string, min: number, max: number): number | undefined;
export function optionalInt(query: Query, name: string, min: number, max: number, fallback?: number): number | undefined {
  const v = single(query, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^[0-9]{1,16}$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw badRequest(`${name}: expected an integer from ${min} to ${max}, got ${show(v)}; e.g. ${name}=${fallback ?? min}`, { param: name, value: v });
  }
  return n;
}

export function range(query: Query): { from?: number; to?: number; limit?: number } {
  const from = optionalTime(query, 'from');
  const to = optionalTime(query, 'to');
  if (from !== undefined && to !== undefined && from > to) {
    throw badRequest(`from: ${from} is after to ${to}; swap them or widen the range`, { param: 'from', from, to });
  }
  const limit = optionalLimit(query);
  const out: { from?: number; to?: number; limit?: number } = {};
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  if (limit !== undefined) out.limit = limit;
  return out;
}

/**
 * `names=rsi:14,macd:12:26:9` → unique specs in request order. Syntax only; whether the
 * indicator exists is `validateIndicatorSpec`'s call.
 */
export function requiredSpecs(query: Query): string[] {
  const v = single(query, 'names');
  if (v === undefined || v.trim() === '') {
    throw badRequest('names: required, got nothing; pass comma-separated specs, e.g. names=rsi:14,macd:12:26:9', { param: 'names' });
  }
  const specs = [...new Set(v.split(',').map((s) => s.trim()))];
  if (specs.length > MAX_INDICATOR_SPECS) {
    throw badRequest(`names: at most ${MAX_INDICATOR_SPECS} specs per request, got ${specs.length}; split the request`, { param: 'names' });
  }
  for (const spec of specs) {
    if (!SPEC_RE.test(spec)) {
      throw badRequest(`names: expected specs like rsi:14 or macd:12:26:9 (lower-case name, colon-separated numbers), got ${show(spec)}`, {
        param: 'names',
        value: spec,
      });
    }
  }
  return specs;
}
