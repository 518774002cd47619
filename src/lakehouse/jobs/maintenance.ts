import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { syncPath } from '../../log/journal/fs-io.js';
import { queryRows, type LakeDatabase } from '../catalog/lake-database.js';
import { sqlString } from '../../shared/sql.js';

export interface MaintenanceOptions {
  /** Compact only dates strictly before this UTC date 'YYYY-MM-DD' (closed days). */
  before: string;
  /** Delete bronze dates older than this many days (0: keep forever). */
  bronzeRetentionDays: number;
  /** Delete silver rows whose date is older than this many days (0: keep forever). */
  silverRetentionDays: number;
  now: number;
}

export interface MaintenanceResult {
  /** (table, date, symbol) partitions merged into one file. */
  compacted: number;
  /** Small files replaced by those merges. */
  filesRemoved: number;
  bronzeDatesDropped: number;
  silverRowsDropped: number;
}

const INTENT_DDL = `CREATE TABLE IF NOT EXISTS meta.compactions (new_path VARCHAR PRIMARY KEY, old_paths VARCHAR[] NOT NULL, created_at BIGINT NOT NULL)`;


async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Nightly lake maintenance (issue 3, "Scheduler and jobs"): merge each closed (table, date,
 * symbol) partition's small bronze files into one, then apply retention.
 *
 * Only files every model has already read are merged (their catalog sequence is at or below
 * every model's cursor): the merged file is catalogued with sequence 0, "not new", so no
 * incremental run reads its rows twice. Order, crash-safe: record the intent (new path, old
 * paths) in meta.compactions; write the merged file to `_compact/` and fsync it; under the lake's
 * exclusive lock rename it into the partition and delete the old files (queries never see both);
 * update the catalog and drop the intent in one transaction. A crash before the rename leaves
 * the old files; after it, the next run finishes the deletes and the catalog update.
 */
export async function maintainLake(lake: LakeDatabase, o: MaintenanceOptions): Promise<MaintenanceResult> {
  // Its own connection: its transactions must not take in the catalog writes of the bronze writer.
  const conn = await lake.connect();
  try {
    return await maintain(lake, new Db(conn), o);
  } finally {
    conn.closeSync();
  }
}

class Db {
  readonly #conn: DuckDBConnection;
  constructor(conn: DuckDBConnection) {
    this.#conn = conn;
  }
  async run(sql: string): Promise<void> {
    await this.#conn.run(sql);
  }
  all(sql: string): Promise<Record<string, unknown>[]> {
    return queryRows(this.#conn, sql);
  }
}

async function maintain(lake: LakeDatabase, db: Db, o: MaintenanceOptions): Promise<MaintenanceResult> {
  await db.run(INTENT_DDL);
  await recover(lake, db);
  const result: MaintenanceResult = { compacted: 0, filesRemoved: 0, bronzeDatesDropped: 0, silverRowsDropped: 0 };
  const [cur] = await db.all("SELECT min(position) AS p FROM meta.model_cursors WHERE input LIKE 'source:%' OR model = 'meta.watermarks'");
  const readUpTo = cur?.p === null || cur?.p === undefined ? 0 : Number(cur.p);
  const groups = await db.all(
    `SELECT tbl, CAST(date AS VARCHAR) AS date, symbol, list(path ORDER BY first_offset, path) AS paths, min(first_offset) AS lo, max(last_offset) AS hi,
       min(log_partition) AS part, any_value(topic) AS topic, sum(rows) AS rows, min(min_ts) AS min_ts, max(max_ts) AS max_ts
     FROM meta.lake_files
     WHERE layer = 'bronze' AND date < DATE ${sqlString(o.before)} AND seq <= ${readUpTo}
     GROUP BY tbl, date, symbol HAVING count(*) > 1 ORDER BY date, tbl, symbol`,
  );
  const work = path.join(lake.lakeDir, '_compact');
  await fs.mkdir(work, { recursive: true });
  for (const g of groups) {
    const old = (g.paths as string[]).map(String);
    const dirRel = old[0]?.split('/').slice(0, -1).join('/') as string;
    const newRel = `${dirRel}/${String(g.topic)}-p${Number(g.part)}-${Number(g.lo)}-${Number(g.hi)}.compacted.parquet`;
    const staged = path.join(work, `${Number(g.part)}-${Number(g.lo)}-${Number(g.hi)}-${String(g.tbl)}.parquet`);
    await db.run(`INSERT OR REPLACE INTO meta.compactions VALUES (${sqlString(newRel)}, [${old.map((v) => sqlString(v)).join(', ')}], ${o.now})`);
    await db.run(
      `COPY (SELECT * FROM read_parquet([${old.map((p) => sqlString(lake.resolve(p))).join(', ')}], hive_partitioning = false, union_by_name = true) ORDER BY log_partition, log_offset) TO ${sqlString(staged)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    await syncPath(staged);
    await finish(lake, newRel, old, staged);
    await db.run('BEGIN TRANSACTION');
    await db.run(`DELETE FROM meta.lake_files WHERE path IN (${old.map((v) => sqlString(v)).join(', ')})`);
    await db.run(
      `INSERT INTO meta.lake_files VALUES (0, 'bronze', ${sqlString(String(g.tbl))}, ${sqlString(newRel)}, DATE ${sqlString(String(g.date))}, ${sqlString(String(g.symbol))}, ${sqlString(String(g.topic))}, ${Number(g.part)}, ${Number(g.lo)}, ${Number(g.hi)}, ${Number(g.rows)}, ${Number(g.min_ts)}, ${Number(g.max_ts)}, ${o.now})`,
    );
    await db.run(`DELETE FROM meta.compactions WHERE new_path = ${sqlString(newRel)}`);
    await db.run('COMMIT');
    lake.filesChanged({ added: [newRel], removed: old });
    result.compacted++;
    result.filesRemoved += old.length;
  }
  await fs.rm(work, { recursive: true, force: true });

  if (o.bronzeRetentionDays > 0) {
    const cutoff = new Date(o.now - o.bronzeRetentionDays * 86_400_000).toISOString().slice(0, 10);
    for (const table of ['ticks', 'rejects']) {
      const dir = path.join(lake.lakeDir, 'bronze', table);
      let dates: string[] = [];
      try {
        dates = await fs.readdir(dir);
      } catch {
        continue;
      }
      for (const d of dates) {
        const date = d.replace(/^date=/, '');
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || date >= cutoff) continue;
        const where = `layer = 'bronze' AND tbl = ${sqlString(table)} AND date = DATE ${sqlString(date)}`;
        const dropped = (await db.all(`SELECT path FROM meta.lake_files WHERE ${where}`)).map((r) => String(r.path));
        await lake.exclusive(() => fs.rm(path.join(dir, d), { recursive: true, force: true }));
        await db.run(`DELETE FROM meta.lake_files WHERE ${where}`);
        lake.filesChanged({ added: [], removed: dropped });
        result.bronzeDatesDropped++;
      }
    }
  }
  if (o.silverRetentionDays > 0) {
    const cutoff = new Date(o.now - o.silverRetentionDays * 86_400_000).toISOString().slice(0, 10);
    const [has] = await db.all("SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'silver' AND table_name = 'ticks'");
    if (Number(has?.n) > 0) {
      const [n] = await db.all(`SELECT count(*) AS n FROM silver.ticks WHERE date < DATE ${sqlString(cutoff)}`);
      await db.run(`DELETE FROM silver.ticks WHERE date < DATE ${sqlString(cutoff)}`);
      result.silverRowsDropped = Number(n?.n ?? 0);
    }
  }
  return result;
}

/** Puts the merged file in place and deletes the small ones, under the lake's exclusive lock. */
async function finish(lake: LakeDatabase, newRel: string, old: readonly string[], staged: string | null): Promise<void> {
  const target = lake.resolve(newRel);
  await lake.exclusive(async () => {
    if (staged !== null) await fs.rename(staged, target);
    for (const p of old) await fs.rm(lake.resolve(p), { force: true });
  });
  await syncPath(path.dirname(target));
}

/** Completes or abandons compactions a crash interrupted. */
async function recover(lake: LakeDatabase, db: Db): Promise<void> {
  for (const r of await db.all('SELECT new_path, old_paths FROM meta.compactions')) {
    const newRel = String(r.new_path);
    const old = (r.old_paths as string[]).map(String);
    if (await exists(lake.resolve(newRel))) {
      await finish(lake, newRel, old, null);
      const [meta] = await db.all(`SELECT tbl, CAST(date AS VARCHAR) AS date, symbol, topic, log_partition FROM meta.lake_files WHERE path IN (${old.map((v) => sqlString(v)).join(', ')}) LIMIT 1`);
      await db.run('BEGIN TRANSACTION');
      await db.run(`DELETE FROM meta.lake_files WHERE path IN (${old.map((v) => sqlString(v)).join(', ')})`);
      if (meta !== undefined) {
        // The merged file's own rows give its offsets and event-time range.
        const col = meta.tbl === 'rejects' ? 'received_at' : 'ts';
        const [st] = await db.all(`SELECT min(log_offset) AS lo, max(log_offset) AS hi, count(*) AS n, min(${col}) AS mn, max(${col}) AS mx FROM read_parquet(${sqlString(lake.resolve(newRel))})`);
        await db.run(
          `INSERT OR REPLACE INTO meta.lake_files VALUES (0, 'bronze', ${sqlString(String(meta.tbl))}, ${sqlString(newRel)}, DATE ${sqlString(String(meta.date))}, ${sqlString(String(meta.symbol))}, ${sqlString(String(meta.topic))}, ${Number(meta.log_partition)}, ${Number(st?.lo)}, ${Number(st?.hi)}, ${Number(st?.n)}, ${Number(st?.mn)}, ${Number(st?.mx)}, ${Date.now()})`,
        );
      }
      await db.run(`DELETE FROM meta.compactions WHERE new_path = ${sqlString(newRel)}`);
      await db.run('COMMIT');
      lake.filesChanged({ added: [newRel], removed: old });
    } else {
      await db.run(`DELETE FROM meta.compactions WHERE new_path = ${sqlString(newRel)}`);
    }
  }
}
