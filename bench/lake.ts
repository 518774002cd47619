/**
 * Lakehouse benchmarks (issue 3): backfill of simulated ticks from a file to gold against bare
 * DuckDB (COPY to Parquet plus OHLC SQL over the same file) in the same run; the bronze writer's
 * sustained rate; freshness of gold at the default schedule.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { backfillFiles, Platform, createSource, runSource } from '../src/apps/index.js';
import { BronzeWriter } from '../src/lakehouse/index.js';
import { Journal } from '../src/log/index.js';
import { loadConfig } from '../src/shared/config/index.js';
import { createLogger } from '../src/shared/logger.js';
import { DLQ_TOPIC, IngestWriter, TICKS_TOPIC } from '../src/sources/ingest/index.js';
import { Simulator } from '../src/sources/simulator/index.js';
import type { RawRecord } from '../src/sources/source.js';
import { inFreshProcess } from './fixtures.js';

/** A Tuesday at the NYSE open: US symbols trade in regular session for the whole file. */
const START = Date.UTC(2025, 2, 11, 13, 30);

/** The default universe at a flat rate, on a virtual clock from START: the same events every run. */
function simulator(seed: number, ratePerSec: number): Simulator {
  return new Simulator({ seed, clock: 'virtual', startTs: START, ratePerSec, activityCurve: 'flat', source: 'bench' });
}

/** `ticks` simulated events (default universe, 30 % quotes) as NDJSON; returns the file size. */
export async function writeSimulatedNdjson(file: string, ticks: number, ratePerSec: number): Promise<number> {
  const sim = simulator(42, ratePerSec);
  const out = createWriteStream(file);
  const batch: RawRecord[] = [];
  let left = ticks;
  while (left > 0) {
    batch.length = 0;
    const n = sim.generate(batch, Math.min(50_000, left));
    if (n === 0) break;
    left -= n;
    if (!out.write(`${batch.map((e) => JSON.stringify(e)).join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return statSync(file).size;
}

export interface BackfillBench {
  ticks: number;
  fileMb: number;
  /** Bare DuckDB: COPY the NDJSON to Parquet, then one-minute OHLC per symbol from it. */
  duckdbSeconds: number;
  duckdbPerSec: number;
  /** The peer's two steps: the COPY, then the OHLC query. */
  duckdbCopySeconds: number;
  duckdbOhlcSeconds: number;
  /** Trades in the file (the rest are quotes). */
  trades: number;
  /**
   * CPU seconds DuckDB takes, on one thread (no scheduler overhead), to write the same events,
   * already parsed into a table with symbol, kind and source as ENUMs (as bronze stages them), to
   * snappy Parquet partitioned by date and symbol: landing the events with nothing read or checked.
   * Bronze lands every event and silver every kept event again (see run.ts, the bounds).
   */
  parquetWriteCpuSeconds: number;
  /** `stockstream backfill`: ingest (validate, journal, live operators, bronze), then every model. */
  oursSeconds: number;
  oursPerSec: number;
  modelsSeconds: number;
  ratio: number;
}

export async function benchBackfill(options: { ticks: number }): Promise<BackfillBench> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-lake-'));
  try {
    const file = join(dir, 'ticks.ndjson');
    const bytes = await writeSimulatedNdjson(file, options.ticks, 2_000);

    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const c = await db.connect();
    const t0 = performance.now();
    await c.run(`COPY (SELECT * FROM read_json('${file}', format = 'newline_delimited')) TO '${join(dir, 'peer.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);
    const tCopy = performance.now();
    await c.run(
      `CREATE TABLE ohlc AS SELECT symbol, (ts // 60000) * 60000 AS start, arg_min(price, ts) AS open, max(price) AS high, min(price) AS low, arg_max(price, ts) AS close, sum(size) AS volume, count(*) AS trades FROM '${join(dir, 'peer.parquet')}' WHERE kind = 'trade' GROUP BY ALL`,
    );
    const duckdbSeconds = (performance.now() - t0) / 1000;
    c.closeSync();
    db.closeSync();

    // Not part of the peer: what landing the events costs DuckDB alone (the table is loaded untimed).
    const one = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c1 = await one.connect();
    const peerFile = `'${join(dir, 'peer.parquet')}'`;
    for (const col of ['symbol', 'kind', 'source']) await c1.run(`CREATE TYPE ${col}_enum AS ENUM (SELECT DISTINCT ${col} FROM ${peerFile} WHERE ${col} IS NOT NULL)`);
    await c1.run(`CREATE TABLE events AS SELECT * REPLACE (symbol::symbol_enum AS symbol, kind::kind_enum AS kind, source::source_enum AS source) FROM ${peerFile}`);
    const trades = Number((await c1.runAndReadAll(`SELECT count(*) FROM events WHERE kind = 'trade'`)).getRows()[0]?.[0] ?? 0);
    const cpu0 = process.cpuUsage();
    await c1.run(
      `COPY (SELECT *, CAST(make_timestamp(CAST(ts AS BIGINT) * 1000) AS DATE) AS date FROM events) TO '${join(dir, 'floor')}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (date, symbol))`,
    );
    const cpu = process.cpuUsage(cpu0);
    c1.closeSync();
    one.closeSync();

    const config = loadConfig({ env: {}, overrides: { dataDir: join(dir, 'data'), source: 'replay', 'ingest.unknownSymbols': 'accept', 'log.fsync': 'batch' } });
    const t1 = performance.now();
    const r = await backfillFiles(config, [file], { logger: createLogger('silent') });
    const oursSeconds = (performance.now() - t1) / 1000;
    if (r.models?.status !== 'success') throw new Error(`backfill models: ${r.models?.status} ${r.models?.error?.message ?? ''}`);
    return {
      ticks: options.ticks,
      fileMb: bytes / 2 ** 20,
      duckdbSeconds,
      duckdbPerSec: options.ticks / duckdbSeconds,
      duckdbCopySeconds: (tCopy - t0) / 1000,
      duckdbOhlcSeconds: duckdbSeconds - (tCopy - t0) / 1000,
      trades,
      parquetWriteCpuSeconds: (cpu.user + cpu.system) / 1e6,
      oursSeconds,
      oursPerSec: options.ticks / oursSeconds,
      modelsSeconds: r.models.durationMs / 1000,
      ratio: duckdbSeconds / oursSeconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface BronzeBench {
  rows: number;
  rowsPerSec: number;
  files: number;
}

/**
 * The bronze writer alone: a journal pre-filled with `rows` simulated events, landed by its
 * background loop. In a fresh process, as the latency bench: after the backfill the same process
 * holds a large old generation whose collections land in this window (235k rows/s there against
 * 280k alone at d2b2aa2), which would measure the benchmarks before it, not the writer.
 */
export function benchBronze(options: { rows: number }): BronzeBench {
  return inFreshProcess<BronzeBench>('bronze', [import.meta.filename, 'bronze', JSON.stringify(options)]);
}

async function measureBronze(options: { rows: number }): Promise<BronzeBench> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-bronze-'));
  try {
    const log = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
    await log.ensureTopic(TICKS_TOPIC, { partitions: 4 });
    await log.ensureTopic(DLQ_TOPIC, { partitions: 1 });
    const ingest = new IngestWriter({ log, source: 'bench', policy: (now) => ({ now, maxFutureMs: Number.POSITIVE_INFINITY, maxPastMs: Number.POSITIVE_INFINITY, knownSymbols: null }) });
    const sim = simulator(7, 2_000);
    for (let left = options.rows; left > 0; ) {
      const batch: RawRecord[] = [];
      const n = sim.generate(batch, Math.min(20_000, left));
      left -= n;
      await ingest.write(batch);
    }
    // The writer as it runs in `up`: its background loop, flushing every 100,000 rows, reading the
    // next batch while DuckDB writes the last; the remainder is landed by requestFlush.
    const w = await BronzeWriter.open({ log, lakeDir: join(dir, 'lake'), flushRows: 100_000, flushIntervalMs: 3_600_000 });
    const t0 = performance.now();
    w.start();
    while (w.stats().rowsWritten + 100_000 < options.rows) await new Promise((r) => setTimeout(r, 2));
    await w.requestFlush();
    const seconds = (performance.now() - t0) / 1000;
    const files = w.stats().filesWritten;
    await w.stop();
    await log.close();
    return { rows: options.rows, rowsPerSec: options.rows / seconds, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FreshnessBench {
  /** A tick ingested right after an incremental run, until a query sees it in gold.ohlc_1m. */
  visibleAfterMs: number;
  /** That incremental run's own duration. */
  runMs: number;
}

/**
 * Freshness at the default schedule (every minute), near its worst case: the platform runs the
 * simulator at its default rate; right after an incremental run ends, a marker trade is ingested,
 * and gold.ohlc_1m is polled until it shows it.
 */
export async function benchFreshness(): Promise<FreshnessBench> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-fresh-'));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, 'ingest.unknownSymbols': 'accept', 'lake.jobs.catchUp': 'none' } });
  const platform = await Platform.start({ config, logger: createLogger('silent') });
  const lake = platform.lakehouse;
  if (lake === null) throw new Error('the lake is off');
  const run = await runSource(platform, createSource(config, platform));
  try {
    const runsDone = async (): Promise<number> => (await lake.jobs.runs({ job: 'lake.incremental', limit: 1000 })).filter((r) => r.status !== 'skipped' || r.detail === 'no new data').length;
    const before = await runsDone();
    while ((await runsDone()) === before) await new Promise((r) => setTimeout(r, 200));
    const [last] = await lake.jobs.runs({ job: 'lake.incremental', limit: 1 });
    const t0 = performance.now();
    await platform.ingest.write([{ kind: 'trade', symbol: 'FRESH', ts: Date.now(), source: 'bench', id: `fresh-${Date.now()}`, price: 1, size: 1 }]);
    for (;;) {
      const r = await lake.sql.query("SELECT count(*) FROM gold.ohlc_1m WHERE symbol = 'FRESH'");
      if (Number(r.rows[0]?.[0]) > 0) break;
      if (performance.now() - t0 > 180_000) throw new Error('freshness: the marker trade was not in gold.ohlc_1m after 180 s');
      await new Promise((res) => setTimeout(res, 250));
    }
    return { visibleAfterMs: performance.now() - t0, runMs: last?.durationMs ?? 0 };
  } finally {
    await run.stop();
    await run.done.catch(() => undefined);
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === 'bronze') {
  process.stdout.write(`${JSON.stringify(await measureBronze(JSON.parse(process.argv[3] ?? '{}') as { rows: number }))}\n`);
}
