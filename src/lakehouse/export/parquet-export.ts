import type { DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs/promises';
import path from 'node:path';
import { syncDir, syncPath } from '../../log/journal/fs-io.js';
import { queryRows, type LakeDatabase } from '../catalog/lake-database.js';
import { sqlString } from '../../shared/sql.js';

export interface ExportResult {
  files: number;
  rows: number;
}

/** A table this size or larger is written per date partition; smaller ones as one file. */
export const PARTITION_ROWS = 1_000_000;

const EXPORTS_DDL = `CREATE TABLE IF NOT EXISTS meta.exports (tbl VARCHAR NOT NULL, date DATE, run_id BIGINT NOT NULL, rows BIGINT NOT NULL, path VARCHAR NOT NULL, exported_at BIGINT NOT NULL, PRIMARY KEY (tbl, path))`;



/**
 * Writes silver and gold tables to the lake as Parquet (ARCHITECTURE.md §1: the lake holds every
 * layer in Parquet, for engines other than ours), beside bronze:
 * `<lake>/<schema>/<table>/<table>.parquet`, or `<lake>/<schema>/<table>/date=<D>/<table>.parquet`
 * for tables of PARTITION_ROWS rows or more. Each file is written to `_export/`, fsynced and
 * renamed over the previous one, so a reader sees the old file or the new one, never a part.
 * `meta.exports` records what each file holds (the newest run id in it).
 */
export class ParquetExporter {
  readonly #lake: LakeDatabase;
  readonly #partitionRows: number;

  constructor(lake: LakeDatabase, options: { partitionRows?: number } = {}) {
    this.#lake = lake;
    this.#partitionRows = options.partitionRows ?? PARTITION_ROWS;
  }

  /**
   * Exports `tables` (e.g. 'gold.ohlc_1m'): a small table whole; a partitioned one only the dates
   * holding rows newer than their exported file, and with `before` only dates before it (closed
   * days). Returns what was written.
   */
  async export(tables: readonly string[], o: { before?: string; now?: number } = {}): Promise<ExportResult> {
    const conn = await this.#lake.connect();
    const result: ExportResult = { files: 0, rows: 0 };
    try {
      await conn.run(EXPORTS_DDL);
      for (const t of tables) {
        const [schema, name] = t.split('.') as [string, string];
        const cols = new Set((await queryRows(conn, `SELECT column_name FROM duckdb_columns() WHERE schema_name = ${sqlString(schema)} AND table_name = ${sqlString(name)}`)).map((r) => String(r.column_name)));
        if (cols.size === 0) continue;
        const runCol = cols.has('_run_id');
        const select = runCol ? `SELECT * EXCLUDE (_run_id) FROM ${t}` : `SELECT * FROM ${t}`;
        const maxRun = runCol ? `max(_run_id)` : '0';
        const [{ n, run } = { n: 0, run: 0 }] = (await queryRows(conn, `SELECT count(*) AS n, coalesce(${maxRun}, 0) AS run FROM ${t}`)) as { n: bigint; run: bigint }[];
        const dir = path.join(this.#lake.lakeDir, schema, name);
        if (!(cols.has('date') && runCol && Number(n) >= this.#partitionRows)) {
          await this.#write(conn, `${select}`, dir, `${name}.parquet`);
          await this.#record(conn, t, null, Number(run), Number(n), `${schema}/${name}/${name}.parquet`, o.now ?? Date.now());
          result.files++;
          result.rows += Number(n);
          continue;
        }
        // Dates whose rows are newer than their exported file.
        const dates = await queryRows(
          conn,
          `SELECT CAST(t.date AS VARCHAR) AS date, max(t._run_id) AS run, count(*) AS n FROM ${t} t ` +
            `LEFT JOIN meta.exports e ON e.tbl = ${sqlString(t)} AND e.date = t.date ` +
            `${o.before === undefined ? '' : `WHERE t.date < DATE ${sqlString(o.before)} `}` +
            `GROUP BY t.date HAVING max(t._run_id) > coalesce(any_value(e.run_id), 0) ORDER BY t.date`,
        );
        for (const d of dates) {
          const date = String(d.date);
          const rel = `${schema}/${name}/date=${date}/${name}.parquet`;
          await this.#write(conn, `${select} WHERE date = DATE ${sqlString(date)}`, path.join(dir, `date=${date}`), `${name}.parquet`);
          await this.#record(conn, t, date, Number(d.run), Number(d.n), rel, o.now ?? Date.now());
          result.files++;
          result.rows += Number(d.n);
        }
      }
    } finally {
      conn.closeSync();
    }
    return result;
  }

  async #write(conn: DuckDBConnection, select: string, dir: string, file: string): Promise<void> {
    const staging = path.join(this.#lake.lakeDir, '_export');
    await fs.mkdir(staging, { recursive: true });
    await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(staging, `${path.basename(dir)}-${file}`);
    await conn.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    await syncPath(tmp);
    await fs.rename(tmp, path.join(dir, file));
    await syncDir(dir);
  }

  async #record(conn: DuckDBConnection, t: string, date: string | null, run: number, rows: number, rel: string, now: number): Promise<void> {
    await conn.run(
      `INSERT INTO meta.exports VALUES (${sqlString(t)}, ${date === null ? 'NULL' : `DATE ${sqlString(date)}`}, ${run}, ${rows}, ${sqlString(rel)}, ${now}) ON CONFLICT (tbl, path) DO UPDATE SET run_id = excluded.run_id, rows = excluded.rows, exported_at = excluded.exported_at`,
    );
    this.#lake.filesChanged({ added: [rel], removed: [] });
  }
}
