import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INTERVALS, decodeEvent, type Candle } from '../../src/domain/index.js';
import { Journal } from '../../src/log/index.js';
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
    const topics = await log.topics();
    const tickIds = new Map<string, number>();
    const candles = new Map<string, Candle>();
    let dlq = 0;
    for (const t of topics) {
      for (const p of t.partitions) {
        let offset = p.startOffset;
        while (offset < p.endOffset) {
          const records = await log.read({ topic: t.name, partition: p.partition }, offset, 20_000);
          if (records.length === 0) break;
          for (const r of records) {
            if (t.name === 'ticks') {
              const e = decodeEvent(r.value);
              const key = `${e.symbol}|${e.id}`;
              tickIds.set(key, (tickIds.get(key) ?? 0) + 1);
            } else if (t.name === 'ticks.dlq') {
              dlq++;
            } else if (INTERVALS.some((iv) => t.name === `candles.${iv}`)) {
              const c = JSON.parse(Buffer.from(r.value).toString('utf8')) as Candle;
              const key = `${c.symbol}|${c.interval}|${c.start}`;
              const prev = candles.get(key);
              if (prev === undefined || c.rev >= prev.rev) candles.set(key, c);
            }
          }
          offset = (records[records.length - 1] as { offset: number }).offset + 1;
        }
      }
    }
    return { tickIds, candles, dlq };
  } finally {
    await log.close();
  }
}

/** Per partition of `topic` in a journal, each record's key|value-id in log order (ticks) or a count (others). */
export async function readTopicOrder(dataDir: string, topic: string): Promise<Map<number, string[]>> {
  const log = await Journal.open({ dir: join(dataDir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
  try {
    const out = new Map<number, string[]>();
    const t = (await log.topics()).find((x) => x.name === topic);
    for (const p of t?.partitions ?? []) {
      const list: string[] = [];
      for (let at = p.startOffset; at < p.endOffset; ) {
        const records = await log.read({ topic, partition: p.partition }, at, 20_000);
        if (records.length === 0) break;
        for (const r of records) list.push(recordLabel(topic, r.value));
        at = (records[records.length - 1] as { offset: number }).offset + 1;
      }
      out.set(p.partition, list);
    }
    return out;
  } finally {
    await log.close();
  }
}

/** A tick as symbol|id; any other record by its first 80 bytes. */
export function recordLabel(topic: string, value: Uint8Array): string {
  if (topic === 'ticks') {
    const e = decodeEvent(value);
    return `${e.symbol}|${e.id}`;
  }
  return Buffer.from(value).toString('utf8').slice(0, 80);
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
