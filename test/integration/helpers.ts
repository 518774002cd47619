import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INTERVALS, decodeEvent, type Candle } from '../../src/domain/index.js';
import { Journal, readRange, type LogReader, type LogRecord } from '../../src/log/index.js';
import { mulberry32 } from '../fixtures/random.js';
export { mulberry32 };

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'stockstream.js');

/** The CLI runs from dist/: `npm test` builds first; a bare `vitest run` needs `npm run build`. */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does) before the integration tests');
  }
}

/** Everything a journal holds that a run is judged by: ticks (with multiplicity) and final candles. */
export interface JournalContents {
  /** `symbol|id` of each logged tick with how often it is there (ids repeat across symbols). */
  tickIds: Map<string, number>;
  candles: Map<string, Candle>;
  dlq: number;
}

export async function readJournal(dataDir: string): Promise<JournalContents> {
  const log = await Journal.open({ dir: join(dataDir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
  try {
    const tickIds = new Map<string, number>();
    for (const labels of (await topicOrder(log, 'ticks')).values()) for (const key of labels) tickIds.set(key, (tickIds.get(key) ?? 0) + 1);
    let dlq = 0;
    for (const records of (await topicRecords(log, 'ticks.dlq')).values()) dlq += records.length;
    return { tickIds, candles: await finalCandles(log), dlq };
  } finally {
    await log.close();
  }
}

/** Every record of `topic`, partition by partition, each in log order. */
export async function topicRecords(log: LogReader, topic: string): Promise<Map<number, LogRecord[]>> {
  const out = new Map<number, LogRecord[]>();
  for (const p of (await log.topics()).find((t) => t.name === topic)?.partitions ?? []) {
    out.set(p.partition, await readRange(log, topic, p.partition, p.startOffset, p.endOffset, Number.POSITIVE_INFINITY));
  }
  return out;
}

/** Final candles in the candle topics, the newest revision per (symbol, interval, start). */
export async function finalCandles(log: LogReader): Promise<Map<string, Candle>> {
  const out = new Map<string, Candle>();
  for (const iv of INTERVALS) {
    for (const records of (await topicRecords(log, `candles.${iv}`)).values()) {
      for (const r of records) {
        const c = JSON.parse(Buffer.from(r.value).toString('utf8')) as Candle;
        const key = `${c.symbol}|${c.interval}|${c.start}`;
        const prev = out.get(key);
        if (prev === undefined || c.rev >= prev.rev) out.set(key, c);
      }
    }
  }
  return out;
}

/** Per partition of `topic`, each record in log order as a label: a tick as symbol|id, any other record by its first 80 bytes. */
export async function topicOrder(log: LogReader, topic: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const [p, records] of await topicRecords(log, topic)) {
    out.set(
      p,
      records.map((r) => {
        if (topic !== 'ticks') return Buffer.from(r.value).toString('utf8').slice(0, 80);
        const e = decodeEvent(r.value);
        return `${e.symbol}|${e.id}`;
      }),
    );
  }
  return out;
}

/** topicOrder of a stopped run's journal. */
export async function readTopicOrder(dataDir: string, topic: string): Promise<Map<number, string[]>> {
  const log = await Journal.open({ dir: join(dataDir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
  try {
    return await topicOrder(log, topic);
  } finally {
    await log.close();
  }
}

/**
 * Writes a recorded session of `lines` NDJSON lines: 40 symbols (T00..T39), trades with
 * event-time jitter (some beyond the allowed lateness), repeated ids, and a few malformed lines.
 * Returns the valid events' `symbol|id` with how often each appears (a repeated id comes with
 * the next line's symbol, so some ids belong to two symbols).
 */
export function writeSession(file: string, seed: number, lines: number): { validIds: Map<string, number> } {
  const rand = mulberry32(seed);
  const out: string[] = [];
  const validIds = new Map<string, number>();
  let ts = Date.UTC(2026, 2, 2, 14, 30);
  for (let i = 0; i < lines; i++) {
    if (rand() < 0.001) {
      out.push(i % 2 === 0 ? '{"kind":"trade","symbol":' : JSON.stringify({ kind: 'trade', symbol: 'T01', ts, source: 'rec', id: `bad${i}`, price: -1, size: 1 }));
      continue;
    }
    ts += Math.floor(rand() * 6);
    const jitter = rand() < 0.01 ? Math.floor(rand() * 3_000) : 0;
    const id = rand() < 0.005 && i > 0 ? `r${i - 1}` : `r${i}`;
    const e = { kind: 'trade', symbol: `T${String(i % 40).padStart(2, '0')}`, ts: ts - jitter, source: 'rec', id, price: 50 + Math.round(rand() * 5_000) / 100, size: 100 * (1 + Math.floor(rand() * 5)) };
    const key = `${e.symbol}|${id}`;
    validIds.set(key, (validIds.get(key) ?? 0) + 1);
    out.push(JSON.stringify(e));
  }
  writeFileSync(file, `${out.join('\n')}\n`);
  return { validIds };
}
