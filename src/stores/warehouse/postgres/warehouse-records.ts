/**
 * Decoders of the log records the PostgreSQL warehouse writer consumes.
 *
 * Wire format (written by the tick pipeline, processors/pipeline/tick-task.ts, and the KPI
 * publisher): UTF-8 JSON, one object per record, key = symbol.
 *   candles.<interval>  {"symbol","interval","start","end","open","high","low","close","volume",
 *                        "vwap","trades","final","rev"}   (domain Candle; times epoch ms)
 *   kpis                {"symbol","last","change","changePct","open","high","low","volume","vwap",
 *                        "prevClose"|null,"tradesPerSec","ts"}   (domain Kpi; ts epoch ms)
 * Bad input never stops the pipeline: a record that does not decode is skipped with the reason
 * (field and value), and the writer counts it.
 */
import { copyCandle, isInterval, type Candle, type Kpi } from '../../../domain/index.js';
import { storableTimestamp } from './pg-session.js';

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const CANDLE_NUMBERS = ['open', 'high', 'low', 'close', 'volume', 'vwap'] as const;
const KPI_NUMBERS = ['last', 'change', 'changePct', 'open', 'high', 'low', 'volume', 'vwap', 'tradesPerSec'] as const;

function parse(bytes: Uint8Array): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : `expected a JSON object, got ${JSON.stringify(v)}`;
}

function bad(field: string, expected: string, value: unknown): string {
  return `field "${field}" must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`;
}

export function decodeCandle(bytes: Uint8Array): Decoded<Candle> {
  const o = parse(bytes);
  if (typeof o === 'string') return { ok: false, reason: o };
  if (typeof o.symbol !== 'string' || o.symbol === '') return { ok: false, reason: bad('symbol', 'a non-empty string', o.symbol) };
  if (!isInterval(o.interval)) return { ok: false, reason: bad('interval', 'one of 1s, 1m, 5m, 15m, 1h, 1d', o.interval) };
  for (const f of ['start', 'end'] as const) {
    if (typeof o[f] !== 'number' || !storableTimestamp(o[f])) return { ok: false, reason: bad(f, 'epoch ms between years 1 and 9999', o[f]) };
  }
  for (const f of CANDLE_NUMBERS) if (typeof o[f] !== 'number' || !Number.isFinite(o[f])) return { ok: false, reason: bad(f, 'a finite number', o[f]) };
  if (!Number.isSafeInteger(o.trades) || (o.trades as number) < 0) return { ok: false, reason: bad('trades', 'a non-negative integer', o.trades) };
  if (typeof o.final !== 'boolean') return { ok: false, reason: bad('final', 'a boolean', o.final) };
  if (!Number.isInteger(o.rev) || (o.rev as number) < 0 || (o.rev as number) > 2_147_483_647) return { ok: false, reason: bad('rev', 'a non-negative 32-bit integer', o.rev) };
  // Every field checked above: the plain copy keeps exactly the Candle fields.
  return { ok: true, value: copyCandle(o as unknown as Candle) };
}

export function decodeKpi(bytes: Uint8Array): Decoded<Kpi> {
  const o = parse(bytes);
  if (typeof o === 'string') return { ok: false, reason: o };
  if (typeof o.symbol !== 'string' || o.symbol === '') return { ok: false, reason: bad('symbol', 'a non-empty string', o.symbol) };
  for (const f of KPI_NUMBERS) if (typeof o[f] !== 'number' || !Number.isFinite(o[f])) return { ok: false, reason: bad(f, 'a finite number', o[f]) };
  if (o.prevClose !== null && (typeof o.prevClose !== 'number' || !Number.isFinite(o.prevClose))) return { ok: false, reason: bad('prevClose', 'a finite number or null', o.prevClose) };
  if (typeof o.ts !== 'number' || !storableTimestamp(o.ts)) return { ok: false, reason: bad('ts', 'epoch ms between years 1 and 9999', o.ts) };
  return {
    ok: true,
    value: {
      symbol: o.symbol,
      last: o.last as number,
      change: o.change as number,
      changePct: o.changePct as number,
      open: o.open as number,
      high: o.high as number,
      low: o.low as number,
      volume: o.volume as number,
      vwap: o.vwap as number,
      prevClose: o.prevClose,
      tradesPerSec: o.tradesPerSec as number,
      ts: o.ts,
    },
  };
}
