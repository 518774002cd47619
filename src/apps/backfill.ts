import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { BronzeWriter, type ModelRunResult } from '../lakehouse/index.js';
import { Journal } from '../log/index.js';
import type { Config } from '../shared/config/index.js';
import { StockStreamError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { DLQ_TOPIC, TICKS_TOPIC } from '../sources/ingest/index.js';
import { ReplaySource } from '../sources/replay/index.js';
import { openLocalLakehouse } from './lake-client.js';
import { Platform, runningServer } from './platform.js';
import { runSource } from './source-runner.js';
import { sqlString } from '../shared/sql.js';

export interface BackfillProgress {
  file: string;
  /** Records of this file handed to ingest so far (including those a resumed run skipped). */
  done: number;
  /** Records in the file (data rows). */
  total: number;
}

export interface BackfillResult {
  files: { file: string; records: number; resumedAt: number }[];
  accepted: number;
  rejected: number;
  models: ModelRunResult | null;
}

/** Data records in a file: lines of NDJSON, lines after the header of CSV, rows of Parquet. */
export async function countRecords(file: string): Promise<number> {
  const path = resolve(file);
  if (path.toLowerCase().endsWith('.parquet')) {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const r = await c.runAndReadAll(`SELECT sum(num_rows) FROM parquet_file_metadata(${sqlString(path)})`);
      return Number(r.getRows()[0]?.[0] ?? 0);
    } catch (err) {
      throw new StockStreamError('SS_CLI_FILE', `${path}: not a readable Parquet file (${(err as Error).message.split('\n')[0]})`, { cause: err });
    } finally {
      c.closeSync();
      db.closeSync();
    }
  }
  let lines = 0;
  let last = 10;
  try {
    for await (const chunk of createReadStream(path)) {
      const buf = chunk as Buffer;
      for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
      if (buf.length > 0) last = buf[buf.length - 1] as number;
    }
  } catch (err) {
    throw new StockStreamError('SS_CLI_FILE', `${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path`, { cause: err });
  }
  if (last !== 10) lines++;
  return path.toLowerCase().endsWith('.csv') ? Math.max(0, lines - 1) : lines;
}

/**
 * `stockstream backfill <files…>` (issue 3, "Backfill"): each file goes through the real pipeline
 * at full speed — ingest (validation, dead letters), the journal, the live processors (candles and
 * indicators by the same operators) and the bronze writer — then the models run once, bronze to
 * gold. Each file resumes exactly where an interrupted backfill left it (a resume record per
 * file), so running the same command again finishes the work without doubling anything.
 */
export async function backfillFiles(
  config: Readonly<Config>,
  files: readonly string[],
  o: { logger: Logger; onProgress?: (p: BackfillProgress) => void; signal?: AbortSignal; runModels?: boolean; progressEveryMs?: number },
): Promise<BackfillResult> {
  if (files.length === 0) throw new StockStreamError('SS_CLI_USAGE', 'backfill: name at least one file (CSV, NDJSON or Parquet of ticks or bars)');
  const totals = new Map<string, number>();
  for (const f of files) totals.set(f, await countRecords(f));
  const platform = await Platform.start({
    config: { ...config, lake: { ...config.lake, jobs: { ...config.lake.jobs, enabled: false } } },
    logger: o.logger,
    serve: false,
    acceptHistory: true,
    idleWatermarks: false,
  });
  const result: BackfillResult = { files: [], accepted: 0, rejected: 0, models: null };
  try {
    for (const file of files) {
      if (o.signal?.aborted) break;
      const total = totals.get(file) ?? 0;
      const source = new ReplaySource({ file, speed: 'max', ...(o.signal ? { signal: o.signal } : {}) });
      const key = createHash('sha256').update(resolve(file)).digest('hex').slice(0, 16);
      const run = await runSource(platform, source, { resumeInput: file, resumeKey: `backfill-${key}` });
      const tick = setInterval(() => o.onProgress?.({ file, done: Math.min(total, source.delivered), total }), o.progressEveryMs ?? 200);
      try {
        const done = await run.done;
        result.files.push({ file, records: done.records, resumedAt: done.resumedAt });
        o.onProgress?.({ file, done: o.signal?.aborted ? Math.min(total, source.delivered) : total, total });
      } finally {
        clearInterval(tick);
      }
    }
    const s = platform.ingest.stats();
    result.accepted = s.accepted;
    result.rejected = s.rejected;
    await platform.runner.waitFor(await platform.ticksEnd());
    await platform.runner.checkpoint();
    if (!o.signal?.aborted && platform.bronze !== null) {
      // Stopping the bronze writer lands everything the log holds: then the models see it all.
      await platform.bronze.stop();
      if (o.runModels !== false && platform.lakehouse !== null) {
        result.models = await platform.lakehouse.runner.run();
        if (result.models.status === 'failed') throw result.models.error ?? new StockStreamError('SS_MODEL_FAILED', 'the model run failed');
        await platform.lakehouse.exportGold(result.models);
      }
    }
  } finally {
    await platform.close();
  }
  return result;
}

export interface LogBackfillResult {
  /** Records read from the log (ticks and dead letters). */
  scanned: number;
  /** Bronze files written for the dates in range. */
  files: number;
  /** The dates that got files (the log held records for them). */
  datesRebuilt: string[];
  models: ModelRunResult | null;
}

/**
 * `stockstream backfill --from-log --from D1 --to D2` (issue 3, "Backfill … from the log over a
 * time range"): the bronze dates D1..D2 (UTC) are deleted and landed again from every record the
 * journal still holds for them, then every model is rebuilt (full refresh). Idempotent: an
 * interrupted run is simply run again. Refused while `up` runs on the same data directory.
 */
export async function backfillFromLog(
  config: Readonly<Config>,
  range: { from: string; to: string },
  o: { logger: Logger; onProgress?: (p: BackfillProgress) => void; runModels?: boolean },
): Promise<LogBackfillResult> {
  for (const [k, v] of Object.entries(range)) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
      throw new StockStreamError('SS_CLI_USAGE', `--${k}: expected a UTC date YYYY-MM-DD, got ${JSON.stringify(v)}`);
    }
  }
  if (range.from > range.to) throw new StockStreamError('SS_CLI_USAGE', `--from ${range.from} is after --to ${range.to}; swap them`);
  const server = await runningServer(config);
  if (server !== null) throw new StockStreamError('SS_CLI_USAGE', `backfill --from-log rewrites bronze, but StockStream is running on this data directory (${server.url}, pid ${server.pid}); stop it first`);
  const dataDir = resolve(config.dataDir);
  const lakeDir = join(dataDir, 'lake');
  const log = await Journal.open({ dir: join(dataDir, 'journal'), fsync: config.log.fsync, retentionCheckMs: 0 });
  const lake = await openLocalLakehouse(config);
  const result: LogBackfillResult = { scanned: 0, files: 0, datesRebuilt: [], models: null };
  try {
    const lo = Date.parse(`${range.from}T00:00:00Z`);
    const hi = Date.parse(`${range.to}T00:00:00Z`) + 86_400_000;
    for (const table of ['ticks', 'rejects']) {
      const dir = join(lakeDir, 'bronze', table);
      const dates = await readdir(dir).catch(() => [] as string[]);
      for (const d of dates) {
        const date = d.replace(/^date=/, '');
        if (date < range.from || date > range.to) continue;
        await lake.db.exclusive(() => rm(join(dir, d), { recursive: true, force: true }));
      }
      const where = `layer = 'bronze' AND tbl = '${table}' AND date BETWEEN DATE '${range.from}' AND DATE '${range.to}'`;
      const removed = (await lake.db.all(`SELECT path FROM meta.lake_files WHERE ${where}`)).map((r) => String(r['path']));
      await lake.db.run(`DELETE FROM meta.lake_files WHERE ${where}`);
      // A mirror of the lake (S3) drops them too, so a restore never sees a date twice.
      lake.db.filesChanged({ added: [], removed });
    }
    const topics = await log.topics();
    const total = topics.filter((t) => t.name === TICKS_TOPIC || t.name === DLQ_TOPIC).reduce((s, t) => s + t.partitions.reduce((a, p) => a + (p.endOffset - p.startOffset), 0), 0);
    const group = `lake.backfill.${Date.now().toString(36)}`;
    const writer = await BronzeWriter.open({
      log,
      lakeDir,
      group,
      flushRows: 200_000,
      accept: (r) => r.timestamp >= lo && r.timestamp < hi,
      onCommit: async (files) => {
        for (const f of files) if (!result.datesRebuilt.includes(f.date)) result.datesRebuilt.push(f.date);
        await lake.registerFiles(files);
      },
    });
    try {
      for (;;) {
        // Bounded reads: the accepted rows of a large log must not all sit in memory before one flush.
        const n = await writer.drain(200_000);
        if (n === 0) break;
        result.scanned += n;
        o.onProgress?.({ file: `log ${range.from}..${range.to}`, done: result.scanned, total });
        if (writer.stats().buffered >= 200_000) result.files += await writer.flush();
      }
      result.files += await writer.flush();
    } finally {
      await writer.stop();
    }
    o.onProgress?.({ file: `log ${range.from}..${range.to}`, done: total, total });
    result.datesRebuilt.sort();
    if (o.runModels !== false) {
      result.models = await lake.runner.run({ fullRefresh: true });
      if (result.models.status === 'failed') throw result.models.error ?? new StockStreamError('SS_MODEL_FAILED', 'the model run failed');
      await lake.exportGold(result.models);
    }
  } finally {
    await lake.close();
    await log.close();
  }
  return result;
}
