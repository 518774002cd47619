import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BronzeWriter, REJECTS_TABLE, TICKS_TABLE, type BronzeTable, type LakeFile } from '../../../src/lakehouse/index.js';
import { StockStreamError } from '../../../src/shared/errors.js';
import type { Log, LogConsumer } from '../../../src/log/log.js';
import { Journal } from '../../../src/log/index.js';
import { DLQ_TOPIC, IngestWriter, TICKS_TOPIC } from '../../../src/sources/ingest/index.js';
import { mulberry32, testSeed } from '../../fixtures/random.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.parse('2025-03-10T14:00:00Z');
const SYMBOLS = ['AAPL', 'MSFT', 'BTC/USD', 'ES=F', '1301'];

async function setup(): Promise<{ dir: string; log: Journal; ingest: IngestWriter }> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-bronze-'));
  dirs.push(dir);
  const log = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
  await log.ensureTopic(TICKS_TOPIC, { partitions: 4 });
  await log.ensureTopic(DLQ_TOPIC, { partitions: 1 });
  const ingest = new IngestWriter({ log, source: 'test', now: () => T0, policy: (now) => ({ now, maxFutureMs: 86_400_000, maxPastMs: Number.POSITIVE_INFINITY, knownSymbols: null }) });
  return { dir, log, ingest };
}

/** `n` seeded trades and quotes over SYMBOLS across two UTC dates, plus two bad inputs. */
function input(seed: number, n: number, idPrefix: string): unknown[] {
  const rand = mulberry32(seed);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = SYMBOLS[Math.floor(rand() * SYMBOLS.length)] as string;
    // Spread over 14:00Z on the 10th to ~14:00Z on the 11th, so two date partitions.
    const ts = T0 + Math.floor(rand() * 86_400_000);
    out.push(
      rand() < 0.8
        ? { kind: 'trade', symbol, ts, source: 'test', id: `${idPrefix}${i}`, price: Math.round(100 + rand() * 1000) / 100, size: 1 + Math.floor(rand() * 500) }
        : { kind: 'quote', symbol, ts, source: 'test', id: `${idPrefix}${i}`, bid: 99.5, ask: 100.5, bidSize: 3, askSize: 4 },
    );
  }
  out.push({ kind: 'trade', symbol: 'AAPL', ts: T0, source: 'test', id: `${idPrefix}bad1`, price: -1, size: 1 });
  out.push('{"kind":"trade",');
  return out;
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return (await (await c.run(sql)).getRowObjectsJS()) as Record<string, unknown>[];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const ticksGlob = (dir: string): string => `read_parquet('${join(dir, 'lake/bronze/ticks/**/*.parquet')}', hive_partitioning = true, hive_types = {'date': DATE, 'symbol': VARCHAR})`;
const rejectsGlob = (dir: string): string => `read_parquet('${join(dir, 'lake/bronze/rejects/**/*.parquet')}', hive_partitioning = true, hive_types = {'date': DATE, 'symbol': VARCHAR})`;

function files(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')).map((f) => relative(root, join(root, f))).sort();
}

describe('BronzeWriter', () => {
  it('lands every tick and reject once, Hive-partitioned by date and symbol, files named by log offsets', async () => {
    const seed = testSeed(7);
    const { dir, log, ingest } = await setup();
    await ingest.write(input(seed, 2000, 'a'));
    const w = await BronzeWriter.open({ log, lakeDir: join(dir, 'lake') });
    expect(await w.drain(), `seed ${seed}: the writer reads every record of ticks and ticks.dlq`).toBe(2002);
    const written = await w.flush();
    const layout = files(join(dir, 'lake/bronze'));
    expect(layout.length, `seed ${seed}: one file per (table, partition, date, symbol) touched`).toBe(written);
    for (const f of layout) {
      expect(f, 'layout: <table>/date=YYYY-MM-DD/symbol=<encoded>/<topic>-p<P>-<first>-<last>.parquet').toMatch(/^(ticks|rejects)\/date=\d{4}-\d{2}-\d{2}\/symbol=[A-Za-z0-9._^%-]+\/(ticks|ticks\.dlq)-p\d+-\d+-\d+\.parquet$/);
    }
    expect(layout.some((f) => f.includes('symbol=BTC%2FUSD/')) && layout.some((f) => f.includes('symbol=ES%3DF/')), '/ and = in a symbol are percent-encoded in the directory name').toBe(true);
    const rows = await query(`SELECT symbol, count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, min(date)::VARCHAR AS d0, max(date)::VARCHAR AS d1 FROM ${ticksGlob(dir)} GROUP BY symbol ORDER BY symbol`);
    const expected = new Map<string, number>();
    for (const e of input(seed, 2000, 'a').slice(0, 2000) as { symbol: string }[]) expected.set(e.symbol, (expected.get(e.symbol) ?? 0) + 1);
    expect(
      rows.map((r) => [r['symbol'], r['n'], r['ids']]),
      `seed ${seed}: per symbol, every accepted event exactly once, with its true symbol read from the file`,
    ).toEqual([...expected].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([s, n]) => [s, n, n]));
    expect([rows[0]?.['d0'], rows[0]?.['d1']], 'the date partition is the UTC date of event time').toEqual(['2025-03-10', '2025-03-11']);
    const offsets = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT (log_partition, log_offset))::INTEGER AS u FROM ${ticksGlob(dir)}`);
    expect(offsets[0], 'every row keeps its distinct log position').toEqual({ n: 2000, u: 2000 });
    const rejects = await query(`SELECT rule, field, message FROM ${rejectsGlob(dir)} ORDER BY rule`);
    expect(rejects.map((r) => [r['rule'], r['field']]), 'both bad inputs land in bronze.rejects with the rule and field').toEqual([
      ['malformed', '(json)'],
      ['non_positive', 'price'],
    ]);
    expect(String(rejects[1]?.['message']), 'the reject keeps the message that names the fix').toMatch(/price/);
    await w.stop();
    await log.close();
  });

  it('writes each file in log offset order without sorting, and keeps every id byte for byte, from memory and from disk', async () => {
    const seed = testSeed(11);
    const { dir, log, ingest } = await setup();
    // Several DuckDB chunks (2,048 rows) per partition, so order across chunks is checked too; ids of
    // 1 to 3 UTF-8 bytes per character, some longer than DuckDB's 12-byte inline strings.
    const events = (input(seed, 12_000, 'i').slice(0, 12_000) as { id: string }[]).map((e, i) => ({ ...e, id: i % 3 === 0 ? `giá-${i}` : i % 3 === 1 ? `€${i}-long-enough-to-spill` : e.id }));
    await ingest.write(events);
    const check = async (l: Log, group: string, lake: string): Promise<void> => {
      const w = await BronzeWriter.open({ log: l, lakeDir: join(dir, lake), group });
      await w.drain();
      await w.flush();
      await w.stop();
      const glob = `read_parquet('${join(dir, lake, 'bronze/ticks/**/*.parquet')}', hive_partitioning = false, filename = true, file_row_number = true)`;
      const disorder = await query(
        `SELECT count(*)::INTEGER AS n FROM (SELECT log_offset, lag(log_offset) OVER (PARTITION BY filename ORDER BY file_row_number) AS prev FROM ${glob}) WHERE prev >= log_offset`,
      );
      expect(disorder[0]?.['n'], `seed ${seed} (${lake}): within every file, rows follow the log offsets (consumers read files in order)`).toBe(0);
      const ids = await query(`SELECT id FROM ${glob} ORDER BY id`);
      expect(
        ids.map((r) => r['id']),
        `seed ${seed} (${lake}): every id lands exactly as ingested, multi-byte characters included`,
      ).toEqual(events.map((e) => e.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    };
    await check(log, 'lake.bronze', 'lake-a');
    await log.close();
    const reopened = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
    await check(reopened, 'lake.bronze.disk', 'lake-b');
    await reopened.close();
  });

  it('lands a batch of 1,000 symbols (2-byte enums) with every row under its own symbol', async () => {
    const { dir, log, ingest } = await setup();
    // Over 255 distinct symbols in each lane's batch (~500 each): DuckDB's enum of them stores 2-byte codes.
    const events = Array.from({ length: 5000 }, (_, i) => ({ kind: 'trade', symbol: `S${i % 1000}`, ts: T0 + i, source: 'test', id: `e${i}`, price: 1 + (i % 1000), size: 1 }));
    await ingest.write(events);
    const w = await BronzeWriter.open({ log, lakeDir: join(dir, 'lake') });
    await w.drain();
    await w.flush();
    await w.stop();
    const rows = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT symbol)::INTEGER AS syms, count(*) FILTER (WHERE symbol <> 'S' || CAST(price - 1 AS INTEGER))::INTEGER AS wrong FROM ${ticksGlob(dir)}`);
    expect(rows[0], 'every row lands once under the symbol it was ingested with').toEqual({ n: 5000, syms: 1000, wrong: 0 });
    await log.close();
  });

  it('keeps every field of every kind exactly, whether the record comes with its event in memory or as bytes from disk', async () => {
    const { dir, log, ingest } = await setup();
    const events = [
      { kind: 'trade', symbol: 'AAPL', ts: T0 + 1, source: 'finnhub', id: 't1', price: 190.12, size: 100, conditions: ['@', 'T'] },
      { kind: 'trade', symbol: 'BTC/USD', ts: T0 + 2, source: 'test', id: 't2', price: 0.1 + 0.2, size: 0.5 },
      { kind: 'quote', symbol: 'MSFT', ts: T0 + 3, source: 'test', id: 'q1', bid: 412.1, ask: 412.15, bidSize: 3, askSize: 0 },
      { kind: 'bar', symbol: 'ES=F', ts: T0 + 60_000, source: 'replay', id: 'b1', interval: '1m', open: 1.1, high: 1.3, low: 1, close: 1.2, volume: 7 },
    ];
    await ingest.write(events);
    const expected = [
      { kind: 'trade', symbol: 'AAPL', ts: T0 + 1, source: 'finnhub', id: 't1', price: 190.12, size: 100, conditions: '@,T', bid: null, ask: null, bid_size: null, ask_size: null, bar_interval: null, open: null, high: null, low: null, close: null, volume: null },
      { kind: 'trade', symbol: 'BTC/USD', ts: T0 + 2, source: 'test', id: 't2', price: 0.1 + 0.2, size: 0.5, conditions: null, bid: null, ask: null, bid_size: null, ask_size: null, bar_interval: null, open: null, high: null, low: null, close: null, volume: null },
      { kind: 'quote', symbol: 'MSFT', ts: T0 + 3, source: 'test', id: 'q1', price: null, size: null, conditions: null, bid: 412.1, ask: 412.15, bid_size: 3, ask_size: 0, bar_interval: null, open: null, high: null, low: null, close: null, volume: null },
      { kind: 'bar', symbol: 'ES=F', ts: T0 + 60_000, source: 'replay', id: 'b1', price: null, size: null, conditions: null, bid: null, ask: null, bid_size: null, ask_size: null, bar_interval: '1m', open: 1.1, high: 1.3, low: 1, close: 1.2, volume: 7 },
    ];
    const land = async (l: Log, group: string, lake: string): Promise<{ rows: Record<string, unknown>[]; catalog: LakeFile[] }> => {
      const catalog: LakeFile[] = [];
      const w = await BronzeWriter.open({ log: l, lakeDir: join(dir, lake), group, onCommit: async (f) => void catalog.push(...f) });
      await w.drain();
      await w.flush();
      await w.stop();
      const glob = `read_parquet('${join(dir, lake, 'bronze/ticks/**/*.parquet')}', hive_partitioning = false)`;
      const rows = await query(`SELECT * EXCLUDE (log_partition, log_offset, log_ts, date) REPLACE (CAST(ts AS DOUBLE) AS ts) FROM ${glob} ORDER BY ts`);
      return { rows, catalog };
    };
    // The first reader of a fresh record gets the producer's event object; a reopened log has only bytes.
    const inMemory = await land(log, 'lake.bronze', 'lake-a');
    await log.close();
    const reopened = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
    const fromDisk = await land(reopened, 'lake.bronze.disk', 'lake-b');
    await reopened.close();
    expect(inMemory.rows, 'from the event object: every column of every kind, NULL where the kind has no such field').toEqual(expected);
    expect(fromDisk.rows, 'from the record bytes: the same rows, floats bit-exact').toEqual(expected);
    // Coded columns are staged as ENUMs; the files must still hold plain UTF-8 strings, so every
    // reader (and files landed before) sees VARCHAR.
    const schema = await query(
      `SELECT name, type, converted_type FROM parquet_schema('${join(dir, 'lake-a', inMemory.catalog.find((f) => f.table === 'ticks')?.path ?? 'missing')}') WHERE name IN ('kind', 'symbol', 'source', 'bar_interval') ORDER BY name`,
    );
    expect(schema, 'coded columns are UTF-8 byte arrays in Parquet, as any string column').toEqual(
      ['bar_interval', 'kind', 'source', 'symbol'].map((name) => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8' })),
    );
    const ticks = inMemory.catalog.filter((f) => f.table === 'ticks').sort((a, b) => a.minTs - b.minTs);
    expect(
      ticks.map((f) => [f.symbol, f.rows, f.minTs, f.maxTs]),
      'the catalog records each file with its symbol, row count and event-time range',
    ).toEqual(expected.map((e) => [e.symbol, 1, e.ts, e.ts]));
  });

  it('after a crash between writing files and committing, reopening redoes the same files: nothing doubled, nothing lost', async () => {
    const seed = testSeed(11);
    const { dir, log, ingest } = await setup();
    await ingest.write(input(seed, 1500, 'a'));
    // The commit fails as if the process died right after the files were renamed into place.
    let failCommit = true;
    const crashing: Log = {
      ...log,
      ensureTopic: (n, c) => log.ensureTopic(n, c),
      topics: () => log.topics(),
      append: (t, r) => log.append(t, r),
      appendItems: (t, items, codec) => log.appendItems(t, items, codec),
      read: (tp, o, m) => log.read(tp, o, m),
      close: () => log.close(),
      consumer: async (opts) => {
        const c = await log.consumer(opts);
        return new Proxy(c, {
          get(target, prop, receiver) {
            if (prop === 'commit' && failCommit) return async () => Promise.reject(new Error('simulated crash before commit'));
            const v = Reflect.get(target, prop, receiver) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }) as LogConsumer;
      },
    };
    const first = await BronzeWriter.open({ log: crashing, lakeDir: join(dir, 'lake') });
    await first.drain();
    await expect(first.flush(), 'the injected failure surfaces').rejects.toThrow(/simulated crash/);
    const before = files(join(dir, 'lake/bronze'));
    expect(before.length, 'the files were already in place when the "crash" hit').toBeGreaterThan(0);
    failCommit = false;
    await ingest.write(input(seed + 1, 500, 'b'));
    const second = await BronzeWriter.open({ log, lakeDir: join(dir, 'lake') });
    const after = files(join(dir, 'lake/bronze'));
    expect(after, 'recovery rewrote exactly the interrupted flush’s files, under the same names').toEqual(before);
    expect(await second.drain(), 'then only the records after the redone range are read').toBe(502);
    await second.flush();
    const rows = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM ${ticksGlob(dir)}`);
    expect(rows[0], `seed ${seed}: 2,000 accepted events in the lake, each once`).toEqual({ n: 2000, ids: 2000 });
    const rejects = await query(`SELECT count(*)::INTEGER AS n FROM ${rejectsGlob(dir)}`);
    expect(rejects[0], 'both batches’ two rejects, each once').toEqual({ n: 4 });
    await second.stop();
    await log.close();
  });

  it('flushes by row count and by age in the background, and stop() flushes the rest', async () => {
    const { dir, log, ingest } = await setup();
    let now = T0;
    const w = await BronzeWriter.open({ log, lakeDir: join(dir, 'lake'), flushRows: 300, flushIntervalMs: 60_000, now: () => now });
    w.start();
    await ingest.write(input(3, 400, 'a'));
    await expect.poll(() => w.stats().flushes, { timeout: 5000, message: '402 buffered rows ≥ flushRows 300 trigger a flush' }).toBeGreaterThanOrEqual(1);
    await ingest.write(input(4, 10, 'b'));
    await expect.poll(() => w.stats().buffered, { timeout: 5000, message: 'the next 12 rows wait: under flushRows and younger than flushIntervalMs' }).toBe(12);
    now += 60_000;
    await expect.poll(() => w.stats().buffered, { timeout: 5000, message: 'once the oldest buffered row is flushIntervalMs old, it is flushed' }).toBe(0);
    await ingest.write(input(5, 5, 'c'));
    await expect.poll(() => w.stats().buffered, { timeout: 5000 }).toBe(7);
    await w.stop();
    const rows = await query(`SELECT count(*)::INTEGER AS n FROM ${ticksGlob(dir)}`);
    expect(rows[0], 'stop() flushed the last rows: 415 accepted events').toEqual({ n: 415 });
    await log.close();
  });

  it('requestFlush lands everything the log holds now, even under the row and age thresholds', async () => {
    const { dir, log, ingest } = await setup();
    const w = await BronzeWriter.open({ log, lakeDir: join(dir, 'lake'), flushRows: 1_000_000, flushIntervalMs: 3_600_000 });
    w.start();
    await ingest.write(input(8, 50, 'a'));
    await w.requestFlush();
    expect(w.stats().buffered).toBe(0);
    const rows = await query(`SELECT count(*)::INTEGER AS n FROM ${ticksGlob(dir)}`);
    expect(rows[0], 'the 50 accepted events are in the lake when requestFlush resolves').toEqual({ n: 50 });
    await w.stop();
    await log.close();
  });

  it('a failing write (the staging directory cannot be made) is a clear error; nothing is committed and the next flush lands the same rows', async () => {
    const { dir, log, ingest } = await setup();
    const lake = join(dir, 'lake');
    const w = await BronzeWriter.open({ log, lakeDir: lake });
    await ingest.write(input(9, 300, 'a'));
    await w.drain();
    // A file where the staging directory must go: every write under it fails, as on a full or broken disk.
    writeFileSync(join(lake, '_staging'), 'in the way');
    const err = await w.flush().catch((e: unknown) => e as StockStreamError);
    expect(err).toBeInstanceOf(StockStreamError);
    expect((err as StockStreamError).code).toBe('SS_LAKE_IO');
    expect((err as StockStreamError).message).toMatch(/^Expected to write Parquet for bronze\.ticks under .*_staging.*Check the disk \(space, permissions\)/);
    expect(w.stats().buffered, 'the failed batch is dropped from memory: it is redone from the log, exactly').toBe(0);
    rmSync(join(lake, '_staging'));
    // More input arrives meanwhile; the retry writes the failed batch under the same names first.
    await ingest.write(input(10, 100, 'b'));
    await w.drain();
    await w.flush();
    const rows = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM ${ticksGlob(dir)}`);
    expect(rows[0], 'after the disk recovers, every row lands once').toEqual({ n: 400, ids: 400 });
    expect(files(join(lake, '_staging')), 'no staged file is left once flushes succeed again').toEqual([]);
    await w.stop();
    await log.close();
  });

  it('keeps the staging directories between flushes of the same date, never a file, and removes them once a date is no longer written', async () => {
    const { dir, log, ingest } = await setup();
    const lake = join(dir, 'lake');
    const staging = join(lake, '_staging');
    const w = await BronzeWriter.open({ log, lakeDir: lake });
    const trades = (date: string, n: number, idPrefix: string): unknown[] =>
      Array.from({ length: n }, (_, i) => ({ kind: 'trade', symbol: SYMBOLS[i % SYMBOLS.length], ts: Date.parse(`${date}T12:00:00Z`) + i, source: 'test', id: `${idPrefix}${i}`, price: 10 + i, size: 1 }));
    const stagedDates = (): string[] => [...new Set((readdirSync(staging, { recursive: true }) as string[]).flatMap((p) => p.split(/[\\/]/).filter((s) => s.startsWith('date='))))].sort();

    await ingest.write(trades('2025-03-10', 50, 'a'));
    await w.drain();
    await w.flush();
    expect(stagedDates(), 'after a flush the staging tree keeps the directories DuckDB made for its date').toEqual(['date=2025-03-10']);
    expect(files(staging), 'but no staged file: every one was moved into bronze').toEqual([]);

    await ingest.write(trades('2025-03-10', 50, 'b'));
    await w.drain();
    await w.flush();
    expect(stagedDates(), 'a second flush of the same date reuses them').toEqual(['date=2025-03-10']);

    await ingest.write(trades('2025-03-11', 50, 'c'));
    await w.drain();
    await w.flush();
    expect(existsSync(staging), 'a flush without the 10th any more removes the tree (at most a day of empty directories is kept)').toBe(false);

    const rows = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM ${ticksGlob(dir)}`);
    expect(rows[0], 'every trade landed once').toEqual({ n: 150, ids: 150 });

    // What a failed flush leaves in the tree goes with it after the next flush that succeeds.
    await ingest.write(trades('2025-03-11', 50, 'd'));
    await w.drain();
    await w.flush();
    writeFileSync(join(staging, 'ticks', '0', 'stray.parquet'), 'left by a failed attempt');
    rmSync(join(staging, 'ticks', '1'), { recursive: true, force: true });
    writeFileSync(join(staging, 'ticks', '1'), 'in the way of lane 1');
    await ingest.write(trades('2025-03-11', 50, 'e'));
    await w.drain();
    await expect(w.flush(), 'lane 1 cannot stage').rejects.toThrow(/Expected to write Parquet/);
    rmSync(join(staging, 'ticks', '1'));
    await w.flush();
    expect(existsSync(join(staging, 'ticks', '0', 'stray.parquet')), 'the stray file went with the tree after the retry succeeded').toBe(false);
    const after = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM ${ticksGlob(dir)}`);
    expect(after[0], 'and the failed batch landed once on the retry').toEqual({ n: 250, ids: 250 });
    await w.stop();
    await log.close();
  });

  it('when one lane of a flush fails and the other succeeds, nothing of either is placed; the retry lands both exactly once', async () => {
    const { dir, log, ingest } = await setup();
    const lake = join(dir, 'lake');
    // Log partition 1 (lane 1) gets a log_partition no INTEGER holds while `poison` is set, so only
    // that lane's COPY fails; lane 0 (partitions 0 and 2) stages its files all the same.
    let poison = true;
    const logPartitionColumn = TICKS_TABLE.columns.findIndex((c) => c.name === 'log_partition');
    const ticks: BronzeTable = {
      ...TICKS_TABLE,
      addRow(r, b) {
        TICKS_TABLE.addRow(r, b);
        if (poison && r.partition === 1) b.num(logPartitionColumn, 1e12);
      },
    };
    const w = await BronzeWriter.open({ log, lakeDir: lake, tables: [ticks, REJECTS_TABLE] });
    await ingest.write(input(41, 3000, 'a'));
    await w.drain();
    const err = await w.flush().catch((e: unknown) => e as StockStreamError);
    expect((err as StockStreamError).code, 'the failing lane fails the flush').toBe('SS_LAKE_IO');
    expect(existsSync(join(lake, 'bronze')), 'nothing of the flush is in place, not even the lane that worked').toBe(false);
    poison = false;
    await w.drain();
    await w.flush();
    const rows = await query(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, (count(*) FILTER (WHERE log_partition % 2 = 1) > 0) AS lane1, (count(*) FILTER (WHERE log_partition % 2 = 0) > 0) AS lane0 FROM ${ticksGlob(dir)}`,
    );
    expect(rows[0], 'after the retry, every event of both lanes lands once').toEqual({ n: 3000, ids: 3000, lane1: true, lane0: true });
    await w.stop();
    await log.close();
  });

  it('in the background loop, a flush failing once after its files are in place (offsets not committed) loses and doubles nothing', async () => {
    const { dir, log, ingest } = await setup();
    const lake = join(dir, 'lake');
    // The catalog fails once, on the second flush: after its files are in place and before its
    // offsets are committed, while the loop reads the next batch. The retry must rewrite exactly
    // those files.
    let calls = 0;
    let failed = 0;
    const catalog = new Map<string, number>();
    const onCommit = async (files: readonly LakeFile[]): Promise<void> => {
      await new Promise((r) => setTimeout(r, 20));
      if (++calls === 2) {
        failed++;
        throw new Error('catalog unavailable');
      }
      for (const f of files) if (f.table === 'ticks') catalog.set(f.path, f.rows);
    };
    const w = await BronzeWriter.open({ log, lakeDir: lake, flushRows: 200, flushIntervalMs: 3_600_000, onCommit });
    // A backlog of several polls (10,000 records each), so the next batch is read while one lands.
    await ingest.write(input(21, 40_000, 'a'));
    w.start();
    await expect.poll(() => w.stats().lastError, { timeout: 5000, message: 'a landing fails while the catalog is down' }).toMatch(/catalog unavailable/);
    await w.requestFlush();
    await w.stop();
    expect(failed, 'exactly one landing failed').toBe(1);
    expect([...catalog.values()].reduce((a, b) => a + b, 0), 'the catalog is told of every file, those of the failed flush included (its retry redoes them)').toBe(40_000);
    const rows = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM ${ticksGlob(dir)}`);
    expect(rows[0], 'every accepted event lands exactly once').toEqual({ n: 40_000, ids: 40_000 });
    const rejects = await query(`SELECT count(*)::INTEGER AS n FROM ${rejectsGlob(dir)}`);
    expect(rejects[0], 'and every dead letter').toEqual({ n: 2 });
    await log.close();
  }, 30_000);

  it('in the background loop, a flush failing while the next batch is read loses and doubles nothing once writes work again', async () => {
    const { dir, log, ingest } = await setup();
    const lake = join(dir, 'lake');
    const w = await BronzeWriter.open({ log, lakeDir: lake, flushRows: 200, flushIntervalMs: 3_600_000 });
    await ingest.write(input(21, 500, 'a'));
    w.start();
    await expect.poll(() => w.stats().rowsWritten, { timeout: 5000, message: 'the first batches land' }).toBeGreaterThan(0);
    // The staging tree stays between flushes (its empty directories): a file takes its place.
    rmSync(join(lake, '_staging'), { recursive: true, force: true });
    writeFileSync(join(lake, '_staging'), 'in the way');
    // More input in several appends, so batches are read while a failing flush is in flight.
    for (let i = 0; i < 5; i++) await ingest.write(input(30 + i, 300, `b${i}-`));
    await expect.poll(() => w.stats().lastError, { timeout: 5000, message: 'a flush fails while the staging path is blocked' }).toMatch(/Expected to write Parquet/);
    rmSync(join(lake, '_staging'));
    await w.requestFlush();
    await w.stop();
    const rows = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM ${ticksGlob(dir)}`);
    expect(rows[0], 'every accepted event lands exactly once').toEqual({ n: 2000, ids: 2000 });
    const rejects = await query(`SELECT count(*)::INTEGER AS n FROM ${rejectsGlob(dir)}`);
    expect(rejects[0], 'and every dead letter').toEqual({ n: 12 });
    await log.close();
  }, 30_000);
});
