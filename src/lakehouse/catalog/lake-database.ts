import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StockStreamError } from '../../shared/errors.js';
import { sqlString } from '../../shared/sql.js';

export interface LakeDatabaseOptions {
  /** The lake root (bronze Parquet lives under `<lakeDir>/bronze`). The only directory SQL may read. */
  lakeDir: string;
  /** The DuckDB database file holding silver, gold and the lake's metadata; ':memory:' for tests. */
  file: string;
  /** DuckDB worker threads. Default 2. */
  threads?: number;
  /** DuckDB memory limit, e.g. '2GB'. Default '2GB'. */
  memoryLimit?: string;
}

/** One Parquet file the lake committed: what the catalog records so jobs find new data without listing directories. */
export interface LakeFile {
  readonly layer: 'bronze' | 'silver' | 'gold';
  readonly table: string;
  /** Path relative to the lake root, '/'-separated. */
  readonly path: string;
  /** UTC date partition 'YYYY-MM-DD'. */
  readonly date: string;
  readonly symbol: string;
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly rows: number;
  readonly minTs: number;
  readonly maxTs: number;
}

/** Lake files that were committed (written and recorded) or removed, as paths relative to the lake root. */
export interface LakeFilesChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** The lake's schemas: one per layer, plus `meta` for the catalog, watermarks and run history. */
export const LAKE_SCHEMAS = ['bronze', 'silver', 'gold', 'meta'] as const;

const FILES_DDL = `CREATE TABLE IF NOT EXISTS meta.lake_files (
  seq BIGINT NOT NULL,
  layer VARCHAR NOT NULL,
  tbl VARCHAR NOT NULL,
  path VARCHAR PRIMARY KEY,
  date DATE NOT NULL,
  symbol VARCHAR NOT NULL,
  topic VARCHAR NOT NULL,
  log_partition INTEGER NOT NULL,
  first_offset BIGINT NOT NULL,
  last_offset BIGINT NOT NULL,
  rows BIGINT NOT NULL,
  min_ts BIGINT NOT NULL,
  max_ts BIGINT NOT NULL,
  added_at BIGINT NOT NULL
)`;


/** Rows of a query as JS values (BIGINT as bigint). */
export async function queryRows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

function lakeDbError(what: string, err: unknown, context: Record<string, unknown> = {}): StockStreamError {
  const reason = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
  return new StockStreamError('SS_LAKE_IO', `Expected to ${what}, but it failed: ${reason}`, { cause: err, context });
}

/**
 * The lake's embedded DuckDB database (ARCHITECTURE.md §1, "lake"): bronze is Parquet on disk,
 * read through the view models `bronze.<table>`; silver and gold are tables the SQL models
 * materialize in this database file; `meta` holds the file catalog (`meta.lake_files`),
 * reference data, watermarks, cursors and run history.
 *
 * The instance is opened with external access off and the lake directory as the only allowed
 * one: no SQL run through it, ours or a user's, can read or write files outside the lake.
 */
export class LakeDatabase {
  readonly lakeDir: string;
  readonly file: string;
  readonly #db: DuckDBInstance;
  readonly #conn: DuckDBConnection;
  #closed = false;
  /** Readers-writer lock over the lake's files: queries and runs share it; swapping files needs it alone. */
  #readers = 0;
  #writer: Promise<void> | null = null;
  #drained: (() => void) | null = null;
  readonly #fileListeners = new Set<(change: LakeFilesChange) => void>();

  private constructor(lakeDir: string, file: string, db: DuckDBInstance, conn: DuckDBConnection) {
    this.lakeDir = lakeDir;
    this.file = file;
    this.#db = db;
    this.#conn = conn;
  }

  static async open(options: LakeDatabaseOptions): Promise<LakeDatabase> {
    const lakeDir = path.resolve(options.lakeDir);
    const file = options.file === ':memory:' ? ':memory:' : path.resolve(options.file);
    const threads = options.threads ?? 2;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`lake.threads: expected an integer >= 1, got ${threads}`);
    try {
      await fs.mkdir(lakeDir, { recursive: true });
      if (file !== ':memory:') await fs.mkdir(path.dirname(file), { recursive: true });
    } catch (err) {
      throw lakeDbError(`create the lake directory ${lakeDir}`, err);
    }
    let db: DuckDBInstance;
    try {
      db = await DuckDBInstance.create(file, { threads: String(threads), memory_limit: options.memoryLimit ?? '2GB' });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const hint = /lock/i.test(msg) ? ' Another process holds it: stop it, or run the command against its API (stockstream sql talks to a running `up` by itself).' : '';
      throw new StockStreamError('SS_LAKE_IO', `Expected to open the lake database ${file}, but it failed: ${msg.split('\n')[0]}.${hint}`, { cause: err });
    }
    const conn = await db.connect();
    // Order matters: the allowed list must be set before external access is switched off for good.
    await conn.run(`SET allowed_directories = [${sqlString(`${lakeDir}${path.sep}`)}]`);
    await conn.run('SET enable_external_access = false');
    for (const s of LAKE_SCHEMAS) await conn.run(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await conn.run(FILES_DDL);
    const lake = new LakeDatabase(lakeDir, file, db, conn);
    // A persistent sequence, never max(seq) + 1: compaction and retention delete the newest rows,
    // and a number handed out again would sit at or below the models' cursors and never be read.
    const [start] = await lake.all('SELECT coalesce(max(seq), 0) + 1 AS s FROM meta.lake_files');
    await conn.run(`CREATE SEQUENCE IF NOT EXISTS meta.lake_file_seq START ${Number(start?.s ?? 1)}`);
    return lake;
  }

  /** A new connection to the database (each runs its own transactions). Close it when done. */
  async connect(): Promise<DuckDBConnection> {
    this.#check();
    return this.#db.connect();
  }

  /** Runs statements on the database's own connection (DDL, catalog writes). */
  async run(sql: string): Promise<void> {
    this.#check();
    await this.#conn.run(sql);
  }

  /** Rows of a query on the database's own connection, as JS values (BIGINT as bigint). */
  async all(sql: string): Promise<Record<string, unknown>[]> {
    this.#check();
    return queryRows(this.#conn, sql);
  }

  /** True when bronze table `table` has at least one Parquet file on disk (catalogued or not). */
  async hasBronzeFiles(table: string): Promise<boolean> {
    return hasParquet(path.join(this.lakeDir, 'bronze', table));
  }

  /**
   * Records committed files in `meta.lake_files`. A file already recorded keeps its first
   * sequence number: a redone flush rewrites the same file, and jobs must not see it as new.
   */
  async registerFiles(files: readonly LakeFile[]): Promise<void> {
    if (files.length === 0) return;
    this.#check();
    const now = Date.now();
    const values = files
      .map((f) => `(${sqlString(f.layer)}, ${sqlString(f.table)}, ${sqlString(f.path)}, DATE ${sqlString(f.date)}, ${sqlString(f.symbol)}, ${sqlString(f.topic)}, ${f.partition}, ${f.firstOffset}, ${f.lastOffset}, ${f.rows}, ${f.minTs}, ${f.maxTs}, ${now})`)
      .join(',\n');
    try {
      // Only paths not recorded yet take a number: a redone flush's files keep theirs.
      await this.#conn.run(
        `INSERT INTO meta.lake_files SELECT nextval('meta.lake_file_seq'), v.* FROM (VALUES ${values}) v(layer, tbl, path, date, symbol, topic, log_partition, first_offset, last_offset, rows, min_ts, max_ts, added_at) ` +
          `WHERE v.path NOT IN (SELECT path FROM meta.lake_files)`,
      );
    } catch (err) {
      throw lakeDbError(`record ${files.length} lake files in meta.lake_files`, err);
    }
    this.filesChanged({ added: files.map((f) => f.path), removed: [] });
  }

  /**
   * Calls `listener` after every committed change to the lake's files (the object-store mirror
   * follows the lake this way). It must not block or throw. Returns the unsubscribe function.
   */
  onFilesChanged(listener: (change: LakeFilesChange) => void): () => void {
    this.#fileListeners.add(listener);
    return () => this.#fileListeners.delete(listener);
  }

  /**
   * Tells the listeners of files committed or removed, once the change is durable on disk and in
   * the catalog (registerFiles does it itself; compaction, retention and exports call it).
   */
  filesChanged(change: LakeFilesChange): void {
    if (change.added.length === 0 && change.removed.length === 0) return;
    for (const l of this.#fileListeners) l(change);
  }

  /** Runs `fn` while no file swap happens (queries, model runs). */
  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#writer !== null) await this.#writer;
    this.#readers++;
    try {
      return await fn();
    } finally {
      this.#readers--;
      if (this.#readers === 0) this.#drained?.();
    }
  }

  /** Runs `fn` alone: waits for shared holders to finish, and holds new ones back meanwhile (compaction's file swap). */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#writer !== null) await this.#writer;
    let release: () => void = () => undefined;
    this.#writer = new Promise((r) => (release = r));
    try {
      while (this.#readers > 0) await new Promise<void>((r) => (this.#drained = r));
      return await fn();
    } finally {
      this.#drained = null;
      this.#writer = null;
      release();
    }
  }

  /** Absolute path of a catalog path (relative to the lake root). */
  resolve(relative: string): string {
    return path.join(this.lakeDir, ...relative.split('/'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.closeSync();
    this.#db.closeSync();
  }

  #check(): void {
    if (this.#closed) throw new StockStreamError('SS_LAKE_IO', 'The lake database is closed; open it again.');
  }
}

/** True when `dir/<date>/<symbol>/` holds at least one Parquet file. */
async function hasParquet(dir: string): Promise<boolean> {
  let dates: string[];
  try {
    dates = await fs.readdir(dir);
  } catch {
    return false;
  }
  for (const d of dates) {
    let syms: string[];
    try {
      syms = await fs.readdir(path.join(dir, d));
    } catch {
      continue;
    }
    for (const s of syms) {
      try {
        if ((await fs.readdir(path.join(dir, d, s))).some((f) => f.endsWith('.parquet'))) return true;
      } catch {
        continue;
      }
    }
  }
  return false;
}
