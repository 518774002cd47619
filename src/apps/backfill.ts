import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ModelRunResult } from '../lakehouse/index.js';
import type { Config } from '../shared/config/index.js';
import { StockStreamError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ReplaySource } from '../sources/replay/index.js';
import { Platform } from './platform.js';
import { runSource } from './source-runner.js';

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
      const r = await c.runAndReadAll(`SELECT sum(num_rows) FROM parquet_file_metadata('${path.replaceAll("'", "''")}')`);
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
      }
    }
  } finally {
    await platform.close();
  }
  return result;
}
