/**
 * A recorded-looking stream of final candles with revisions, replays and KPIs for the warehouse
 * writer's tests, and the oracle: the tables a writer must end up with, computed directly (final
 * revision per bucket; indicators run by createIndicator over each series in start order).
 */
import type { Candle, Interval, Kpi } from '../../../../src/domain/index.js';
import { INTERVAL_MS } from '../../../../src/domain/index.js';
import type { Journal, ProducerRecord } from '../../../../src/log/index.js';
import { createIndicator, parseIndicatorSpec } from '../../../../src/processors/indicators/index.js';
import type { PgWarehouse, WarehouseIndicatorSet } from '../../../../src/stores/warehouse/postgres/index.js';
import { mulberry32 } from '../../../fixtures/random.js';

export const SPECS = ['sma:3', 'ema:5', 'rsi:4', 'macd:3:6:2', 'bbands:4:2', 'stoch:3:2:2', 'obv', 'vwap', 'atr:3'];

/** Session = UTC date, so VWAP restarts at midnight (the streams cross one). */
export const sessionOf = (c: Candle): string => new Date(c.start).toISOString().slice(0, 10);

export const INDICATORS: WarehouseIndicatorSet = { specs: SPECS, create: createIndicator, parse: parseIndicatorSpec, sessionOf };

export const CANDLE_TOPICS = [
  { interval: '1m' as const, topic: 'candles.1m' },
  { interval: '5m' as const, topic: 'candles.5m' },
];

export async function ensureTopics(log: Journal): Promise<void> {
  await log.ensureTopic('candles.1m', { partitions: 2 });
  await log.ensureTopic('candles.5m', { partitions: 1 });
  await log.ensureTopic('kpis', { partitions: 1 });
}

export interface StreamRecord {
  topic: string;
  record: ProducerRecord;
}

export interface Stream {
  /** In log order. */
  records: StreamRecord[];
  /** Highest revision per (symbol, interval, start); the last one on equal revisions. */
  finals: Map<string, Candle>;
  /** Newest ts per symbol. */
  kpis: Map<string, Kpi>;
}

/**
 * `n` buckets per (symbol, interval) from `start`, in log order as the pipeline emits them: each
 * new final candle, sometimes a revision of one of the last `lateness` buckets (rev + 1), an older
 * revision replayed after a newer one, or the same revision twice; KPI updates now and then, with
 * an out-of-date one among them.
 */
export function makeStream(seed: number, symbols: readonly string[], intervals: readonly Interval[], n: number, start: number, lateness = 2): Stream {
  const rand = mulberry32(seed);
  const records: StreamRecord[] = [];
  const finals = new Map<string, Candle>();
  const kpis = new Map<string, Kpi>();
  const history = new Map<string, Candle[]>();
  const price = new Map<string, number>(symbols.map((s, k) => [s, 50 + 40 * k]));
  const emit = (c: Candle): void => {
    records.push({ topic: `candles.${c.interval}`, record: { key: c.symbol, value: Buffer.from(JSON.stringify(c)), timestamp: c.start } });
    const key = `${c.symbol}|${c.interval}|${c.start}`;
    const had = finals.get(key);
    if (had === undefined || c.rev >= had.rev) finals.set(key, c);
  };
  const bar = (symbol: string, interval: Interval, s: number, rev: number): Candle => {
    const open = price.get(symbol) as number;
    const close = Math.max(1, open + (rand() - 0.5) * 2);
    price.set(symbol, close);
    const high = Math.max(open, close) + rand();
    const low = Math.min(open, close) - rand();
    const volume = Math.floor(100 + rand() * 1000);
    return { symbol, interval, start: s, end: s + INTERVAL_MS[interval], open, high, low, close, volume, vwap: (high + low + close) / 3, trades: 1 + Math.floor(rand() * 50), final: true, rev };
  };
  for (let i = 0; i < n; i++) {
    for (const interval of intervals) {
      for (const symbol of symbols) {
        const hk = `${symbol}|${interval}`;
        const list = history.get(hk) ?? [];
        history.set(hk, list);
        const c = bar(symbol, interval, start + i * INTERVAL_MS[interval], 0);
        list.push(c);
        emit(c);
        const r = rand();
        if (r < 0.2 && list.length > 1) {
          // A late trade amends one of the last `lateness` buckets.
          const j = list.length - 1 - Math.floor(rand() * Math.min(lateness, list.length));
          const old = finals.get(`${symbol}|${interval}|${(list[j] as Candle).start}`) as Candle;
          const amended = { ...old, close: old.close + (rand() - 0.5), high: old.high + rand(), volume: old.volume + 10, trades: old.trades + 1, rev: old.rev + 1 };
          amended.close = Math.min(amended.close, amended.high);
          emit(amended);
          if (rand() < 0.3) emit({ ...old }); // an older revision replayed after the newer one
        } else if (r < 0.25) {
          emit({ ...(finals.get(`${symbol}|${interval}|${c.start}`) as Candle) }); // the same revision again
        }
      }
    }
    if (i % 7 === 0) {
      for (const symbol of symbols) {
        const last = price.get(symbol) as number;
        const k: Kpi = { symbol, last, change: last - 50, changePct: (last - 50) / 50, open: 50, high: last + 1, low: last - 1, volume: i * 100, vwap: last - 0.1, prevClose: i === 0 ? null : 50, tradesPerSec: rand() * 10, ts: start + i * 60_000 };
        records.push({ topic: 'kpis', record: { key: symbol, value: Buffer.from(JSON.stringify(k)), timestamp: k.ts } });
        kpis.set(symbol, k);
        if (i > 0 && rand() < 0.5) {
          const stale = { ...k, last: -1, ts: k.ts - 30_000 };
          records.push({ topic: 'kpis', record: { key: symbol, value: Buffer.from(JSON.stringify(stale)), timestamp: stale.ts } });
        }
      }
    }
  }
  return { records, finals, kpis };
}

/** Appends records in log order, one append per run of the same topic. */
export async function appendAll(log: Journal, records: readonly StreamRecord[]): Promise<void> {
  let i = 0;
  while (i < records.length) {
    const topic = (records[i] as StreamRecord).topic;
    const batch: ProducerRecord[] = [];
    while (i < records.length && (records[i] as StreamRecord).topic === topic) batch.push((records[i++] as StreamRecord).record);
    await log.append(topic, batch);
  }
}

/** Indicator rows keyed `symbol|interval|start|spec|output`, computed directly from the final candles. */
export function expectedIndicators(finals: Map<string, Candle>): Map<string, number | null> {
  const series = new Map<string, Candle[]>();
  for (const c of finals.values()) {
    const k = `${c.symbol}|${c.interval}`;
    const list = series.get(k) ?? [];
    series.set(k, list);
    list.push(c);
  }
  const out = new Map<string, number | null>();
  for (const list of series.values()) {
    list.sort((a, b) => a.start - b.start);
    for (const spec of SPECS) {
      const ind = createIndicator(spec);
      for (const c of list) {
        const v = ind.update({ open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, session: sessionOf(c) });
        for (const output of ind.outputs) {
          const x = ind.outputs.length === 1 ? v : v === null ? null : (v as Record<string, number>)[output];
          out.set(`${c.symbol}|${c.interval}|${c.start}|${spec}|${output}`, typeof x === 'number' && !Number.isNaN(x) ? x : null);
        }
      }
    }
  }
  return out;
}

export async function storedIndicators(w: PgWarehouse): Promise<Map<string, number | null>> {
  const r = await w.pool.query<{ k: string; value: number | null }>(
    `SELECT symbol || '|' || interval || '|' || (extract(epoch from start) * 1000)::bigint || '|' || spec || '|' || output AS k, value FROM serving.indicators`,
  );
  return new Map(r.rows.map((x) => [x.k, x.value]));
}

export async function storedCandles(w: PgWarehouse): Promise<Map<string, Candle>> {
  const out = new Map<string, Candle>();
  const keys = await w.pool.query<{ symbol: string; interval: Interval }>('SELECT DISTINCT symbol, interval FROM serving.candles');
  for (const { symbol, interval } of keys.rows) for (const c of await w.candles(symbol, interval)) out.set(`${c.symbol}|${c.interval}|${c.start}`, c);
  return out;
}

/** Sorted entries, so a failing comparison shows the first differing key. */
export function sorted<V>(m: Map<string, V>): [string, V][] {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The group's committed offset per partition of every topic (a second member of the group only reads them). */
export async function committedOffsets(log: Journal, group: string): Promise<Record<string, number | null>> {
  const topics = ['candles.1m', 'candles.5m', 'kpis'];
  const c = await log.consumer({ group, topics });
  try {
    const out: Record<string, number | null> = {};
    for (const tp of c.assignment()) out[`${tp.topic}/${tp.partition}`] = await c.committed(tp);
    return out;
  } finally {
    await c.close();
  }
}

export async function endOffsets(log: Journal): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const t of await log.topics()) for (const p of t.partitions) out[`${t.name}/${p.partition}`] = p.endOffset === 0 ? null : p.endOffset;
  return out;
}
