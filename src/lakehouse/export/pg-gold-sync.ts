import { JSDuckDBValueConverter, type DuckDBConnection } from '@duckdb/node-api';
import type pg from 'pg';
import { StockStreamError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { sqlString } from '../../shared/sql.js';
import { queryRows, type LakeDatabase } from '../catalog/lake-database.js';
import type { Model, ModelProject } from '../models/model-project.js';

export interface PgGoldSyncOptions {
  lake: LakeDatabase;
  /** The lake's models: the gold tables to mirror, their materialization and unique keys. */
  project: ModelProject;
  pool: pg.Pool;
  /** The PostgreSQL schema of the mirror (it must exist: the warehouse's migrations create `gold`). Default 'gold'. */
  schema?: string;
  /** Rows per INSERT statement. Default 5,000. */
  batchRows?: number;
  /**
   * Which BIGINT columns hold epoch milliseconds; they become `timestamptz` in PostgreSQL so
   * Grafana's `$__timeFilter` and time series work on them. Default: `start`, `end`, `ts` and
   * names ending in `_start`, `_end` or `_ts` (the lake's naming of event times).
   */
  isEpochMs?: (table: string, column: string) => boolean;
  logger?: Logger;
}

/** What one sync did to one table. */
export interface GoldTableSync {
  /** `gold.<name>`. */
  readonly table: string;
  /**
   * unchanged: nothing new since the last sync; upsert: the rows of the runs since then, merged
   * by key; replace: every row, swapped in one transaction; rebuild: the table was (re)created
   * from the lake's column types and loaded whole; missing: the lake has no such table yet.
   */
  readonly mode: 'unchanged' | 'upsert' | 'replace' | 'rebuild' | 'missing';
  /** Rows written. */
  readonly rows: number;
  /** Rows the table holds after the sync. */
  readonly total: number;
  /** Why a table was replaced rather than upserted (first sync, full refresh, rows deleted in the lake, ...). */
  readonly reason?: string;
}

export interface GoldSyncResult {
  readonly tables: readonly GoldTableSync[];
  /** Rows written over all tables. */
  readonly rows: number;
  readonly durationMs: number;
}

/** One column as mirrored: its PostgreSQL type and how a value travels there. */
interface ColumnPlan {
  readonly name: string;
  /** The lake's type, as `duckdb_columns()` spells it. */
  readonly duckType: string;
  /** The PostgreSQL column type. */
  readonly pgType: string;
  /** The select-list expression that reads it from DuckDB as a value whose text form PostgreSQL parses. */
  readonly read: string;
  /** The element type of the array parameter it is sent in. */
  readonly param: string;
  /** The PostgreSQL expression turning the unnested parameter `u` into the column's value. */
  readonly write: (u: string) => string;
}

interface TablePlan {
  readonly model: Model;
  /** `name` of `gold.name`. */
  readonly name: string;
  readonly columns: readonly ColumnPlan[];
  /** The model's unique key when every column of it is mirrored; null: no key (replaced whole each time). */
  readonly key: readonly string[] | null;
  /** Incremental: rows carry `_run_id`, so the rows a run wrote can be found. */
  readonly runIds: boolean;
  /** The column Grafana filters on by time, if any (it gets an index). */
  readonly timeColumn: string | null;
  /** Columns, types and key: a change means the PostgreSQL table is created again. */
  readonly signature: string;
  /** The model's newest run and the run that last rebuilt it whole (meta.model_state), in the sync's snapshot. */
  readonly lastRunId: number;
  readonly rebuiltRunId: number;
  /** Rows in the lake, in the sync's snapshot. */
  readonly rows: number;
}

interface SyncState {
  runId: number;
  rows: number;
  signature: string;
}

/** Rows per INSERT by default: big enough to amortize round trips, small enough for one parameter per column. */
const BATCH_ROWS = 5000;

const DEFAULT_EPOCH_MS = /^(start|end|ts)$|_(start|end|ts)$/;

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The PostgreSQL column for a lake (DuckDB) column type. Scalars map to their PostgreSQL twins;
 * nested types (LIST, STRUCT, MAP, UNION) and JSON become jsonb. Values travel as the text forms
 * both databases share (dates, timestamps, decimals) or as JavaScript numbers, bigints and
 * booleans, whose text forms PostgreSQL reads back exactly (doubles print their shortest
 * round-trip form).
 */
function columnPlan(name: string, duckType: string, epochMs: boolean): ColumnPlan {
  const col = ident(name);
  const same = (pgType: string, read = col): ColumnPlan => ({ name, duckType, pgType, read, param: pgType, write: (u) => u });
  const asText = (pgType: string): ColumnPlan => same(pgType, `CAST(${col} AS VARCHAR)`);
  const t = duckType.toUpperCase();
  if (epochMs && t === 'BIGINT') {
    // Exact: an epoch-ms count times one millisecond is an integral number of microseconds, PostgreSQL's resolution.
    return { name, duckType, pgType: 'timestamptz', read: col, param: 'int8', write: (u) => `timestamptz 'epoch' + ${u} * interval '1 millisecond'` };
  }
  if (/(\[\d*\]$|^STRUCT|^MAP|^UNION)/.test(t)) return { ...same('jsonb', `CAST(to_json(${col}) AS VARCHAR)`) };
  if (t === 'JSON') return asText('jsonb');
  if (/^DECIMAL\(\d+,\s*\d+\)$/.test(t)) return asText(t.replace('DECIMAL', 'numeric').replace(/\s+/g, ''));
  switch (t) {
    case 'BOOLEAN':
      return same('boolean');
    case 'TINYINT':
    case 'UTINYINT':
    case 'SMALLINT':
      return same('int2');
    case 'USMALLINT':
    case 'INTEGER':
      return same('int4');
    case 'UINTEGER':
    case 'BIGINT':
      return same('int8');
    case 'UBIGINT':
    case 'HUGEINT':
    case 'UHUGEINT':
      return asText('numeric');
    case 'FLOAT':
      return same('float4');
    case 'DOUBLE':
      return same('float8');
    case 'DATE':
      return asText('date');
    case 'TIME':
      return asText('time');
    case 'TIMESTAMP':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS':
      return asText('timestamp');
    case 'TIMESTAMP WITH TIME ZONE':
      return asText('timestamptz');
    case 'INTERVAL':
      return asText('interval');
    case 'UUID':
      return asText('uuid');
    case 'BLOB':
      return { name, duckType, pgType: 'bytea', read: `hex(${col})`, param: 'text', write: (u) => `decode(${u}, 'hex')` };
    default:
      return asText('text');
  }
}

function pgError(what: string, err: unknown, context: Record<string, unknown> = {}): StockStreamError {
  if (err instanceof StockStreamError) return err;
  const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new StockStreamError('SS_WAREHOUSE_IO', `Expected to ${what}, but it failed: ${reason}. The mirror is unchanged (the sync is one transaction); the next sync retries.`, {
    cause: err,
    context,
  });
}

/**
 * Mirrors the lake's gold tables into PostgreSQL (issue 4, "Grafana"), so dashboards and SQL
 * users read gold from the serving database: `gold.<table>` in the lake's DuckDB database →
 * `<schema>.<table>` in PostgreSQL, created from the lake's column types (epoch-ms times become
 * timestamptz).
 *
 * Call `sync()` after each lake run (the lake.incremental job, a backfill); it works out what
 * changed since the last sync by itself, so a missed call is caught up by the next one:
 * - an incremental model with a unique key (ohlc_1m, ohlc_daily, indicators_daily,
 *   data_quality): the rows stamped with a run id newer than the last synced one — exactly the
 *   rows the runs since then rewrote — are upserted by the key;
 * - a table model (rebuilt whole by every run that touches it), an incremental model rebuilt whole
 *   since (full refresh), a first sync, or a table whose row count no longer matches the lake's
 *   (rows deleted in the lake): every row is replaced;
 * - changed columns: the PostgreSQL table is created again and loaded whole.
 *
 * One PostgreSQL transaction covers the whole sync and its bookkeeping (`<schema>._lake_sync`),
 * and it reads one DuckDB snapshot, so readers (Grafana) see the previous gold layer until the
 * commit and then the new one — never a half-loaded table nor tables of different runs. Rows go in
 * batches of multi-row `INSERT … SELECT FROM unnest($1::type[], …)`: one statement and one array
 * parameter per column for thousands of rows.
 */
export class PgGoldSync {
  readonly #lake: LakeDatabase;
  readonly #project: ModelProject;
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #batchRows: number;
  readonly #isEpochMs: (table: string, column: string) => boolean;
  readonly #logger: Logger | undefined;
  #running: Promise<GoldSyncResult> | null = null;

  constructor(o: PgGoldSyncOptions) {
    this.#lake = o.lake;
    this.#project = o.project;
    this.#pool = o.pool;
    this.#schema = o.schema ?? 'gold';
    this.#batchRows = o.batchRows ?? BATCH_ROWS;
    if (!(Number.isInteger(this.#batchRows) && this.#batchRows >= 1)) throw new RangeError(`batchRows: expected an integer >= 1, got ${this.#batchRows}`);
    this.#isEpochMs = o.isEpochMs ?? ((_t, c) => DEFAULT_EPOCH_MS.test(c));
    this.#logger = o.logger;
  }

  /** The gold models mirrored: every gold model the lake materializes (views are left out). */
  get tables(): readonly string[] {
    return this.#models().map((m) => m.id);
  }

  /** Brings the mirror up to the lake's current gold tables. Concurrent calls wait for the one in progress, then run. */
  async sync(): Promise<GoldSyncResult> {
    while (this.#running !== null) await this.#running.catch(() => undefined);
    const p = this.#sync();
    this.#running = p;
    try {
      return await p;
    } finally {
      this.#running = null;
    }
  }

  #models(): Model[] {
    return this.#project.models.filter((m) => m.layer === 'gold' && m.config.materialized !== 'view');
  }

  async #sync(): Promise<GoldSyncResult> {
    const started = performance.now();
    const duck = await this.#lake.connect();
    let client: pg.PoolClient | null = null;
    // A checked-out client has no 'error' listener of its own: a connection the server ends
    // mid-sync would otherwise crash the process. After a failure the connection is destroyed
    // (release(err)), not pooled, which also ends its transaction and advisory lock server-side.
    let failure: Error | undefined;
    const onError = (err: Error): void => {
      failure = err;
    };
    try {
      // One snapshot of the lake for the whole sync: runs that commit meanwhile are the next sync's.
      await duck.run('BEGIN TRANSACTION');
      const plans = await this.#plan(duck);
      try {
        client = await this.#pool.connect();
        client.on('error', onError);
      } catch (err) {
        throw pgError('connect to PostgreSQL for the gold mirror', err);
      }
      const results: GoldTableSync[] = [];
      try {
        await client.query('BEGIN');
        // Two syncing processes would interleave upserts against stale bookkeeping: one at a time.
        await client.query(`SELECT pg_advisory_xact_lock(hashtext(${sqlString(`stockstream.lake_sync.${this.#schema}`)}))`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${ident(this.#schema)}._lake_sync (tbl text PRIMARY KEY, run_id bigint NOT NULL, rows bigint NOT NULL, signature text NOT NULL, synced_at timestamptz NOT NULL)`);
        const version = Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]?.v ?? 0);
        const states = new Map(
          (await client.query<{ tbl: string; run_id: string; rows: string; signature: string }>(`SELECT tbl, run_id, rows, signature FROM ${ident(this.#schema)}._lake_sync`)).rows.map((r) => [
            r.tbl,
            { runId: Number(r.run_id), rows: Number(r.rows), signature: r.signature } satisfies SyncState,
          ]),
        );
        for (const plan of plans) {
          if (plan === null) continue;
          results.push(await this.#syncTable(duck, client, plan, states.get(plan.name) ?? null, version));
        }
        for (const m of this.#models()) if (!plans.some((p) => p?.model === m)) results.push({ table: m.id, mode: 'missing', rows: 0, total: 0 });
        await client.query('COMMIT');
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
        throw pgError(`mirror the lake's gold tables into PostgreSQL schema ${this.#schema}`, err, { schema: this.#schema });
      }
      const rows = results.reduce((n, r) => n + r.rows, 0);
      const durationMs = performance.now() - started;
      this.#logger?.debug({ rows, durationMs, tables: results.filter((r) => r.mode !== 'unchanged').map((r) => `${r.table}:${r.mode}`) }, 'gold mirrored to PostgreSQL');
      return { tables: results, rows, durationMs };
    } finally {
      if (client !== null) {
        client.removeListener('error', onError);
        client.release(failure);
      }
      await duck.run('COMMIT').catch(() => undefined);
      duck.closeSync();
    }
  }

  /** Per gold model: its columns, key and run state in the lake snapshot; null when the lake has no table for it yet. */
  async #plan(duck: DuckDBConnection): Promise<(TablePlan | null)[]> {
    const models = this.#models();
    const names = models.map((m) => sqlString(m.name)).join(', ');
    const cols = await queryRows(duck, `SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'gold' AND table_name IN (${names}) ORDER BY table_name, column_index`);
    const state = new Map((await queryRows(duck, 'SELECT model, last_run_id, coalesce(rebuilt_run_id, 0) AS rebuilt FROM meta.model_state')).map((r) => [String(r.model), { last: Number(r.last_run_id), rebuilt: Number(r.rebuilt) }]));
    const plans: (TablePlan | null)[] = [];
    for (const model of models) {
      const own = cols.filter((c) => c.table_name === model.name);
      if (own.length === 0) {
        plans.push(null);
        continue;
      }
      const runIds = own.some((c) => c.column_name === '_run_id');
      const columns = own.filter((c) => c.column_name !== '_run_id').map((c) => columnPlan(String(c.column_name), String(c.data_type), this.#isEpochMs(model.name, String(c.column_name))));
      const names = new Set(columns.map((c) => c.name));
      const uk = model.config.unique_key;
      const key = uk !== undefined && uk.every((k) => names.has(k)) ? uk : null;
      const timeColumn = ['start', 'ts', 'date'].find((c) => names.has(c)) ?? null;
      const rows = Number((await queryRows(duck, `SELECT count(*) AS n FROM gold.${ident(model.name)}`))[0]?.n ?? 0);
      const s = state.get(model.id) ?? { last: 0, rebuilt: 0 };
      plans.push({
        model,
        name: model.name,
        columns,
        key,
        runIds: runIds && model.config.materialized === 'incremental' && key !== null,
        timeColumn,
        signature: JSON.stringify({ columns: columns.map((c) => [c.name, c.pgType]), key }),
        lastRunId: s.last,
        rebuiltRunId: s.rebuilt,
        rows,
      });
    }
    return plans;
  }

  async #syncTable(duck: DuckDBConnection, client: pg.PoolClient, plan: TablePlan, state: SyncState | null, version: number): Promise<GoldTableSync> {
    const id = `gold.${plan.name}`;
    const target = `${ident(this.#schema)}.${ident(plan.name)}`;
    const exists = (await client.query<{ t: string | null }>(`SELECT to_regclass(${sqlString(target)}) AS t`)).rows[0]?.t != null;
    let mode: GoldTableSync['mode'];
    let reason: string | undefined;
    let rows = 0;
    if (!exists || state === null || state.signature !== plan.signature) {
      mode = 'rebuild';
      reason = !exists ? 'no table in PostgreSQL' : state === null ? 'never synced' : 'the lake table’s columns changed';
      await this.#create(client, plan, target, version);
      rows = await this.#load(duck, client, plan, target, null);
    } else if (plan.lastRunId <= state.runId && plan.rows === state.rows) {
      return { table: id, mode: 'unchanged', rows: 0, total: plan.rows };
    } else if (!plan.runIds || plan.rebuiltRunId > state.runId) {
      mode = 'replace';
      reason = plan.runIds ? 'rebuilt whole in the lake since the last sync' : 'a table model: rebuilt whole by each run';
      rows = await this.#replace(duck, client, plan, target);
    } else {
      mode = 'upsert';
      const since = state.runId;
      const { written, inserted } = await this.#upsert(duck, client, plan, target, `_run_id > ${since}`);
      rows = written;
      // Upserts only add or overwrite keys: if the lake now holds fewer rows than that accounts
      // for, rows were deleted there (retention, a manual fix), which only a replace can mirror.
      if (state.rows + inserted !== plan.rows) {
        mode = 'replace';
        reason = `row count drifted (${state.rows} + ${inserted} new in PostgreSQL, ${plan.rows} in the lake)`;
        rows = await this.#replace(duck, client, plan, target);
      }
    }
    await client.query(
      `INSERT INTO ${ident(this.#schema)}._lake_sync VALUES ($1, $2, $3, $4, now()) ON CONFLICT (tbl) DO UPDATE SET run_id = excluded.run_id, rows = excluded.rows, signature = excluded.signature, synced_at = excluded.synced_at`,
      [plan.name, plan.lastRunId, plan.rows, plan.signature],
    );
    if (reason !== undefined) this.#logger?.info({ table: id, mode, rows, reason }, 'gold table mirrored whole');
    return { table: id, mode, rows, total: plan.rows, ...(reason === undefined ? {} : { reason }) };
  }

  /** (Re)creates the table from the lake's column types, with its key and an index on its time column. */
  async #create(client: pg.PoolClient, plan: TablePlan, target: string, version: number): Promise<void> {
    const defs = plan.columns.map((c) => `${ident(c.name)} ${c.pgType}`);
    // DuckDB matches keys with IS NOT DISTINCT FROM; PostgreSQL 15+ can say the same of a unique constraint.
    if (plan.key !== null) defs.push(`UNIQUE ${version >= 150000 ? 'NULLS NOT DISTINCT ' : ''}(${plan.key.map(ident).join(', ')})`);
    await client.query(`DROP TABLE IF EXISTS ${target}`);
    await client.query(`CREATE TABLE ${target} (${defs.join(', ')})`);
    await client.query(`COMMENT ON TABLE ${target} IS ${sqlString(`Mirror of the lake's ${plan.model.id} (${plan.model.config.description ?? 'gold model'}); written by StockStream's gold sync, do not edit.`)}`);
    if (plan.timeColumn !== null && plan.key?.[0] !== plan.timeColumn) {
      const lead = plan.columns.some((c) => c.name === 'symbol') && plan.timeColumn !== 'symbol' ? `${ident('symbol')}, ` : '';
      await client.query(`CREATE INDEX ON ${target} (${lead}${ident(plan.timeColumn)})`);
    }
  }

  /** Every row again: deleted and loaded in the sync's transaction, so readers see old rows until the commit. */
  async #replace(duck: DuckDBConnection, client: pg.PoolClient, plan: TablePlan, target: string): Promise<number> {
    await client.query(`DELETE FROM ${target}`);
    return this.#load(duck, client, plan, target, null);
  }

  async #load(duck: DuckDBConnection, client: pg.PoolClient, plan: TablePlan, target: string, where: string | null): Promise<number> {
    return (await this.#upsert(duck, client, plan, target, where)).written;
  }

  /**
   * Streams `gold.<table>` rows (those matching `where`) from DuckDB and writes them in batches,
   * merged by the key when there is one. Returns the rows written and how many of them were new keys.
   */
  async #upsert(duck: DuckDBConnection, client: pg.PoolClient, plan: TablePlan, target: string, where: string | null): Promise<{ written: number; inserted: number }> {
    const cols = plan.columns;
    const result = await duck.stream(`SELECT ${cols.map((c) => c.read).join(', ')} FROM gold.${ident(plan.name)}${where === null ? '' : ` WHERE ${where}`}`);
    const u = cols.map((_, i) => `u.c${i}`);
    const conflict =
      plan.key === null
        ? ''
        : cols.every((c) => plan.key?.includes(c.name))
          ? ` ON CONFLICT (${plan.key.map(ident).join(', ')}) DO NOTHING`
          : ` ON CONFLICT (${plan.key.map(ident).join(', ')}) DO UPDATE SET ${cols
              .filter((c) => !plan.key?.includes(c.name))
              .map((c) => `${ident(c.name)} = excluded.${ident(c.name)}`)
              .join(', ')}`;
    // xmax = 0 on a returned row means the INSERT created it rather than updating an existing row.
    const sql =
      `WITH w AS (INSERT INTO ${target} (${cols.map((c) => ident(c.name)).join(', ')}) ` +
      `SELECT ${cols.map((c, i) => c.write(u[i] as string)).join(', ')} FROM unnest(${cols.map((c, i) => `$${i + 1}::${c.param}[]`).join(', ')}) AS u(${cols.map((_, i) => `c${i}`).join(', ')})` +
      `${conflict} RETURNING (xmax = 0) AS inserted) SELECT count(*) AS written, count(*) FILTER (WHERE inserted) AS inserted FROM w`;
    let batch: unknown[][] = cols.map(() => []);
    let pending = 0;
    let written = 0;
    let inserted = 0;
    const flush = async (): Promise<void> => {
      if (pending === 0) return;
      const r = (await client.query<{ written: string; inserted: string }>(sql, batch)).rows[0];
      written += Number(r?.written ?? 0);
      inserted += Number(r?.inserted ?? 0);
      batch = cols.map(() => []);
      pending = 0;
    };
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const values = chunk.convertColumns(JSDuckDBValueConverter);
      for (let i = 0; i < cols.length; i++) for (const v of values[i] ?? []) (batch[i] as unknown[]).push(v);
      pending += chunk.rowCount;
      if (pending >= this.#batchRows) await flush();
    }
    await flush();
    return { written, inserted };
  }
}
