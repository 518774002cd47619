import type { DuckDBConnection } from '@duckdb/node-api';
import { StockStreamError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { BRONZE_TABLES, type BronzeTable } from '../bronze/bronze-tables.js';
import { queryRows, type LakeDatabase } from '../catalog/lake-database.js';
import type { Model, ModelProject } from './model-project.js';
import { REFERENCE_DDL, writeInstruments, writeSessions, type LakeReferenceData } from './reference-data.js';
import { renderTemplate, type TemplateContext } from './template.js';
import { sqlString } from '../../shared/sql.js';

/** A model computed in TypeScript (engine: typescript), e.g. gold indicators from the live operators. */
export interface TsModelOperator {
  /** Materializes `run.target`; returns the rows it wrote. Runs inside the run's transaction. */
  run(run: TsModelRun): Promise<number>;
}

export interface TsModelRun {
  readonly conn: DuckDBConnection;
  /** The table to write, e.g. `gold.indicators_daily`. */
  readonly target: string;
  /** Whether the table exists and this is not a full refresh: only `increment` rows are new. */
  readonly incremental: boolean;
  /** The input model's relation (all rows). */
  readonly input: string;
  /** A relation of the input's rows new since this model last ran (all rows when not incremental). */
  readonly increment: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly runId: number;
}

export interface ModelRunnerOptions {
  lake: LakeDatabase;
  project: ModelProject;
  reference: LakeReferenceData;
  /** Values for {{ var('name') }}. */
  vars?: Readonly<Record<string, string | number | boolean>>;
  operators?: Readonly<Record<string, TsModelOperator>>;
  bronzeTables?: readonly BronzeTable[];
  logger?: Logger;
  now?: () => number;
}

export interface ModelRunRecord {
  readonly model: string;
  readonly status: 'success' | 'skipped' | 'failed' | 'rolled back';
  readonly rows: number;
  readonly durationMs: number;
  readonly error?: string;
}

export interface ModelRunResult {
  readonly runId: number;
  /** success: committed; skipped: no new data for any selected model; failed: rolled back whole. */
  readonly status: 'success' | 'skipped' | 'failed';
  readonly fullRefresh: boolean;
  readonly models: readonly ModelRunRecord[];
  /** Bronze files new in this run (ticks and rejects). */
  readonly newFiles: number;
  /** Symbols with new ticks in this run. */
  readonly symbols: readonly string[];
  readonly rows: number;
  readonly durationMs: number;
  readonly error?: StockStreamError;
}

export interface RunOptions {
  /** Model selection (see selectModels); default every model. */
  models?: readonly Model[];
  /** Rebuild the selected models from all their input, ignoring what earlier runs did. */
  fullRefresh?: boolean;
}

const META_DDL = [
  `CREATE TABLE IF NOT EXISTS meta.model_runs (run_id BIGINT NOT NULL, model VARCHAR NOT NULL, status VARCHAR NOT NULL, rows BIGINT NOT NULL,
    duration_ms DOUBLE NOT NULL, error VARCHAR, started_at BIGINT NOT NULL, full_refresh BOOLEAN NOT NULL)`,
  /** Per model: the newest run that changed its table. */
  `CREATE TABLE IF NOT EXISTS meta.model_state (model VARCHAR PRIMARY KEY, last_run_id BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
  /** The run that last rebuilt the model whole: consumers that read it incrementally before must rebuild too. */
  'ALTER TABLE meta.model_state ADD COLUMN IF NOT EXISTS rebuilt_run_id BIGINT DEFAULT 0',
  /** Per (model, input): how far the model has read the input (a catalog seq for 'source:<table>', else a run id). */
  `CREATE TABLE IF NOT EXISTS meta.model_cursors (model VARCHAR NOT NULL, input VARCHAR NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (model, input))`,
  /** Per symbol: the newest event time in the lake and the rows landed (issue 3: the watermark table). */
  `CREATE TABLE IF NOT EXISTS meta.watermarks (symbol VARCHAR PRIMARY KEY, last_event_ts BIGINT NOT NULL, last_seq BIGINT NOT NULL, rows BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
];

const BIG = 9_007_199_254_740_991;

/** Defaults of the variables the shipped models use (lake.models.vars overrides them). */
export const DEFAULT_MODEL_VARS: Readonly<Record<string, number>> = {
  /** The live candles' allowed lateness: silver flags events later than this as late. */
  allowed_lateness_ms: 2000,
  /** How far back silver looks for an id already kept. */
  dedup_window_ms: 3_600_000,
  /** Silver's outlier rule: the one-minute bars it averages the true range over. */
  atr_window_ms: 900_000,
  /** A trade further than this many mean true ranges from the previous trade is an outlier. */
  outlier_atr_multiple: 10,
};


function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.trim();
}

/**
 * Runs the SQL models (issue 3, "SQL models"): renders each template, materializes it in the lake
 * database, in dependency order, all in ONE transaction: a failing model rolls back every model
 * of the run and the cursors with them, so nothing is half-committed and the next run redoes the
 * same input plus whatever came since.
 *
 * Incremental: bronze files are found through the catalog (meta.lake_files, by sequence number),
 * and each model keeps a cursor per input (meta.model_cursors); `increment('x')` is x's rows past
 * the cursor. A model whose inputs have nothing new is skipped; a run where no model has anything
 * new is `skipped` as a whole.
 */
type ResolvedRunnerOptions = Required<Omit<ModelRunnerOptions, 'logger' | 'vars' | 'operators'>> &
  Pick<ModelRunnerOptions, 'logger'> & { vars: Readonly<Record<string, string | number | boolean>>; operators: Readonly<Record<string, TsModelOperator>> };

export class ModelRunner {
  readonly #o: ResolvedRunnerOptions;
  /** The run or view refresh in progress: they never overlap (each re-creates views). */
  #running: Promise<unknown> | null = null;
  /**
   * Bronze tables that had no file when a view over them was last rendered: such a view is an
   * empty typed relation (read_parquet refuses a glob that matches nothing) until it is re-created.
   */
  readonly #emptyBronze = new Set<string>();

  private constructor(o: ResolvedRunnerOptions) {
    this.#o = o;
  }

  /** Creates the metadata tables and deploys the view models, so every layer is queryable at once. */
  static async open(options: ModelRunnerOptions): Promise<ModelRunner> {
    const r = new ModelRunner({
      lake: options.lake,
      project: options.project,
      reference: options.reference,
      vars: { ...DEFAULT_MODEL_VARS, ...options.vars },
      operators: options.operators ?? {},
      bronzeTables: options.bronzeTables ?? BRONZE_TABLES,
      logger: options.logger,
      now: options.now ?? Date.now,
    });
    for (const ddl of [...META_DDL, ...REFERENCE_DDL]) await options.lake.run(ddl);
    const conn = await options.lake.connect();
    try {
      await writeInstruments(conn, r.#o.reference);
      for (const m of r.#o.project.models) if (m.config.materialized === 'view') await r.#deployView(conn, m);
    } finally {
      conn.closeSync();
    }
    return r;
  }

  get project(): ModelProject {
    return this.#o.project;
  }

  /** Runs the selected models; concurrent calls wait for the one in progress (a run never overlaps itself). */
  run(options: RunOptions = {}): Promise<ModelRunResult> {
    return this.#exclusive(() => this.#run(options));
  }

  /**
   * Re-creates the view models rendered while a bronze table they read had no file, once one of
   * `landed` (bronze tables that just got files) is such a table. The bronze writer's commits call
   * it with their files' tables, so `bronze.*` shows the first files as they land instead of after
   * the next model run (up to a minute at the default schedule); a commit to a table whose views
   * already read files costs a set lookup, no I/O. It never holds up the commit
   * behind a model run (it goes on after the run in the background) and never fails it: a view
   * that cannot be re-created is logged and tried again at the next commit, and the next run
   * re-creates every view anyway.
   */
  async refreshViews(landed: Iterable<string>): Promise<void> {
    let stale = false;
    for (const t of landed) if (this.#emptyBronze.has(t)) stale = true;
    if (!stale) return;
    const running = this.#running;
    if (running !== null) {
      void running.catch(() => undefined).then(() => this.refreshViews(landed));
      return;
    }
    const empty = [...this.#emptyBronze];
    try {
      await this.#exclusive(async () => {
        // Rendering adds back the tables that are still empty.
        this.#emptyBronze.clear();
        const conn = await this.#o.lake.connect();
        try {
          for (const m of this.#o.project.models) if (m.config.materialized === 'view') await this.#deployView(conn, m);
        } finally {
          conn.closeSync();
        }
      });
    } catch (err) {
      for (const t of empty) this.#emptyBronze.add(t);
      this.#o.logger?.warn({ err }, 'bronze views: re-creating them over the first files failed; the next bronze commit or model run tries again');
    }
  }

  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#running !== null) await this.#running.catch(() => undefined);
    const p = this.#o.lake.shared(fn);
    this.#running = p;
    try {
      return await p;
    } finally {
      if (this.#running === p) this.#running = null;
    }
  }

  async #run(options: RunOptions): Promise<ModelRunResult> {
    const started = performance.now();
    const startedAt = this.#o.now();
    const fullRefresh = options.fullRefresh === true;
    const selected = options.models ?? this.#o.project.models;
    const lake = this.#o.lake;
    const conn = await lake.connect();
    const records: ModelRunRecord[] = [];
    let runId = 0;
    try {
      // Past every id in the history and every id stamped on rows: a reused id would hide rows behind cursors.
      runId = Number((await queryRows(conn, 'SELECT greatest((SELECT coalesce(max(run_id), 0) FROM meta.model_runs), (SELECT coalesce(max(last_run_id), 0) FROM meta.model_state)) + 1 AS id'))[0]?.id ?? 1);
      const maxSeq = Number((await queryRows(conn, 'SELECT coalesce(max(seq), 0) AS s FROM meta.lake_files'))[0]?.s ?? 0);
      const stateRows = await queryRows(conn, 'SELECT model, last_run_id, coalesce(rebuilt_run_id, 0) AS rebuilt FROM meta.model_state');
      const state = new Map<string, number>(stateRows.map((r) => [String(r.model), Number(r.last_run_id)]));
      const rebuilt = new Map<string, number>(stateRows.map((r) => [String(r.model), Number(r.rebuilt)]));
      const cursors = new Map<string, number>((await queryRows(conn, 'SELECT model, input, position FROM meta.model_cursors')).map((r) => [`${String(r.model)}|${String(r.input)}`, Number(r.position)]));
      const existing = new Set((await queryRows(conn, "SELECT schema_name || '.' || table_name AS id FROM duckdb_tables()")).map((r) => String(r.id)));
      const wmCursor = cursors.get('meta.watermarks|source:ticks') ?? 0;
      const newTicks = await queryRows(conn, `SELECT symbol, max(max_ts) AS ts, sum(rows) AS n FROM meta.lake_files WHERE layer = 'bronze' AND tbl = 'ticks' AND seq > ${wmCursor} AND seq <= ${maxSeq} GROUP BY symbol ORDER BY symbol`);
      const newFiles = Number((await queryRows(conn, `SELECT count(*) AS n FROM meta.lake_files WHERE layer = 'bronze' AND seq > ${wmCursor} AND seq <= ${maxSeq}`))[0]?.n ?? 0);

      // Sessions must cover every date the run may read.
      const span = (await queryRows(conn, `SELECT CAST(min(date) AS VARCHAR) AS lo, CAST(max(date) AS VARCHAR) AS hi FROM meta.lake_files WHERE layer = 'bronze' ${fullRefresh ? '' : `AND seq > ${wmCursor}`}`))[0];
      const globSpan = fullRefresh ? await this.#bronzeDateSpan(conn) : null;
      const lo = [span?.lo, globSpan?.lo].filter((x): x is string => typeof x === 'string').sort()[0];
      const hi = [span?.hi, globSpan?.hi].filter((x): x is string => typeof x === 'string').sort().at(-1);

      const plan = new RunPlan(this, selected, { fullRefresh, runId, maxSeq, state, rebuilt, cursors, existing });
      if (!plan.anyToRun()) {
        return { runId, status: 'skipped', fullRefresh, models: selected.map((m) => ({ model: m.id, status: 'skipped', rows: 0, durationMs: 0 })), newFiles, symbols: [], rows: 0, durationMs: performance.now() - started };
      }

      await conn.run('BEGIN TRANSACTION');
      let failed: { model: string; err: unknown } | null = null;
      let total = 0;
      try {
        await writeInstruments(conn, this.#o.reference);
        if (lo !== undefined && hi !== undefined) await writeSessions(conn, this.#o.reference, lo, hi);
        for (const m of selected) {
          if (!plan.shouldRun(m)) {
            records.push({ model: m.id, status: 'skipped', rows: 0, durationMs: 0 });
            continue;
          }
          const t0 = performance.now();
          try {
            const incremental = plan.isIncremental(m.id);
            const rows = await this.#materialize(conn, m, plan);
            total += rows;
            plan.ran(m, incremental);
            records.push({ model: m.id, status: 'success', rows, durationMs: performance.now() - t0 });
          } catch (err) {
            failed = { model: m.id, err };
            records.push({ model: m.id, status: 'failed', rows: 0, durationMs: performance.now() - t0, error: firstLine(err) });
            break;
          }
        }
        if (failed === null) {
          await plan.saveCursors(conn, this.#o.now());
          // Watermarks move only once every model reading bronze ticks has read them: silver's
          // lateness rule compares new events with the newest event time before them.
          const caughtUp = plan.caughtUp('source:ticks');
          if (caughtUp && newTicks.length > 0) {
            const values = newTicks.map((r) => `(${sqlString(String(r.symbol))}, ${Number(r.ts)}, ${maxSeq}, ${Number(r.n)}, ${this.#o.now()})`).join(', ');
            await conn.run(
              `INSERT INTO meta.watermarks VALUES ${values} ON CONFLICT (symbol) DO UPDATE SET last_event_ts = greatest(meta.watermarks.last_event_ts, excluded.last_event_ts), last_seq = excluded.last_seq, rows = meta.watermarks.rows + excluded.rows, updated_at = excluded.updated_at`,
            );
          }
          if (caughtUp) await conn.run(`INSERT INTO meta.model_cursors VALUES ('meta.watermarks', 'source:ticks', ${maxSeq}) ON CONFLICT (model, input) DO UPDATE SET position = excluded.position`);
          // The history commits with the run: its id is then never handed out again.
          await this.#history(conn, runId, records, startedAt, fullRefresh);
          await conn.run('COMMIT');
        }
      } catch (err) {
        failed ??= { model: '(commit)', err };
      }
      if (failed !== null) {
        await conn.run('ROLLBACK').catch(() => undefined);
        for (const m of selected) if (!records.some((r) => r.model === m.id)) records.push({ model: m.id, status: 'skipped', rows: 0, durationMs: 0 });
        const final = records.map((r) => (r.status === 'success' ? { ...r, status: 'rolled back' as const } : r));
        await this.#history(conn, runId, final, startedAt, fullRefresh);
        const error = new StockStreamError('SS_MODEL_FAILED', `Model ${failed.model} failed: ${firstLine(failed.err)}. The whole run (${final.length} models) was rolled back; fix the model and run again (the same input is redone).`, {
          cause: failed.err,
          context: { model: failed.model, runId },
        });
        this.#o.logger?.error({ err: error, model: failed.model, runId }, 'model run failed and was rolled back');
        return { runId, status: 'failed', fullRefresh, models: final, newFiles, symbols: newTicks.map((r) => String(r.symbol)), rows: 0, durationMs: performance.now() - started, error };
      }
      return { runId, status: 'success', fullRefresh, models: records, newFiles, symbols: newTicks.map((r) => String(r.symbol)), rows: total, durationMs: performance.now() - started };
    } finally {
      conn.closeSync();
    }
  }

  async #bronzeDateSpan(conn: DuckDBConnection): Promise<{ lo: string | null; hi: string | null }> {
    const r = (await queryRows(conn, `SELECT CAST(min(date) AS VARCHAR) AS lo, CAST(max(date) AS VARCHAR) AS hi FROM (${await this.#bronzeSql('ticks', null)})`))[0];
    return { lo: (r?.lo as string | null) ?? null, hi: (r?.hi as string | null) ?? null };
  }

  async #history(conn: DuckDBConnection, runId: number, records: readonly ModelRunRecord[], startedAt: number, fullRefresh: boolean): Promise<void> {
    if (records.length === 0) return;
    const values = records.map((r) => `(${runId}, ${sqlString(r.model)}, ${sqlString(r.status)}, ${r.rows}, ${r.durationMs}, ${r.error === undefined ? 'NULL' : sqlString(r.error.slice(0, 2000))}, ${startedAt}, ${fullRefresh})`).join(', ');
    await conn.run(`INSERT INTO meta.model_runs VALUES ${values}`);
  }

  /** The SQL of a bronze source: the given files, or every file of the table (null), or an empty typed relation. */
  /**
   * `files`: exactly these; null: every file of the table on disk, except (with `upToSeq`) files the
   * catalog numbered after the run's snapshot — they landed during the run, and the run's cursors
   * will say they were read.
   */
  async #bronzeSql(table: string, files: readonly string[] | null, upToSeq = BIG): Promise<string> {
    const t = this.#o.bronzeTables.find((x) => x.name === table);
    if (t === undefined) throw new StockStreamError('SS_MODEL_INVALID', `source('${table}') names no bronze table; bronze tables are ${this.#o.bronzeTables.map((x) => x.name).join(', ')}`);
    const empty = `SELECT ${t.columns.map((c) => `CAST(NULL AS ${c.type}) AS "${c.name}"`).join(', ')}, CAST(NULL AS DATE) AS date WHERE false`;
    const opts = "hive_partitioning = true, hive_types = {'date': DATE, 'symbol': VARCHAR}, union_by_name = true";
    if (files === null) {
      if (!(await this.#o.lake.hasBronzeFiles(table))) {
        this.#emptyBronze.add(table);
        return empty;
      }
      const all = `read_parquet(${sqlString(this.#o.lake.resolve(`bronze/${table}/*/*/*.parquet`))}, ${opts}`;
      if (upToSeq >= BIG) return `SELECT * FROM ${all})`;
      const later = `SELECT ${sqlString(`${this.#o.lake.lakeDir}/`)} || path FROM meta.lake_files WHERE layer = 'bronze' AND tbl = ${sqlString(table)} AND seq > ${upToSeq}`;
      return `SELECT * EXCLUDE (filename) FROM ${all}, filename = true) WHERE filename NOT IN (${later})`;
    }
    if (files.length === 0) return empty;
    return `SELECT * FROM read_parquet([${files.map((f) => sqlString(this.#o.lake.resolve(f))).join(', ')}], ${opts})`;
  }

  /** The SQL of source(name) for `consumer`: bronze tables (all, or new past the consumer's cursor), or reference tables. */
  async sourceSql(conn: DuckDBConnection, name: string, plan: RunPlan, consumer: string | null): Promise<string> {
    switch (name) {
      case 'instruments':
        return 'meta.instruments';
      case 'sessions':
        return 'meta.sessions';
      case 'watermarks':
        return 'meta.watermarks';
      default: {
        if (consumer === null || !plan.isIncremental(consumer)) return `(${await this.#bronzeSql(name, null, plan.maxSeq)})`;
        const from = plan.cursor(consumer, `source:${name}`);
        const files = (await queryRows(conn, `SELECT path FROM meta.lake_files WHERE layer = 'bronze' AND tbl = ${sqlString(name)} AND seq > ${from} AND seq <= ${plan.maxSeq} ORDER BY seq, path`)).map((r) => String(r.path));
        return `(${await this.#bronzeSql(name, files)})`;
      }
    }
  }

  /** Renders `m` for materialization, or (with `consumer`) inlined as the consumer's increment of it. */
  async render(conn: DuckDBConnection, m: Model, plan: RunPlan, consumer: string | null): Promise<string> {
    const project = this.#o.project;
    const parts = new Map<string, string>();
    // Sources and increments are resolved before rendering (they need the database); the template callbacks are synchronous.
    const asIncrement = consumer ?? m.id;
    for (const s of m.sources) parts.set(`source:${s}`, await this.sourceSql(conn, s, plan, consumer ?? (m.config.materialized === 'view' ? null : m.id)));
    for (const id of m.increments) {
      const x = project.get(id);
      let sql: string;
      if (!plan.isIncremental(asIncrement)) sql = x.config.materialized === 'view' ? `(${await this.render(conn, x, plan, null)})` : x.id;
      else if (x.config.materialized === 'view') sql = `(${await this.render(conn, x, plan, asIncrement)})`;
      else sql = `(SELECT * FROM ${x.id} WHERE _run_id > ${plan.cursor(asIncrement, x.id)})`;
      parts.set(`increment:${id}`, sql);
    }
    const vars: Record<string, string | number | boolean> = { ...this.#o.vars, increment_min_ts: -BIG };
    if (consumer === null && plan.isIncremental(m.id) && m.increments.length > 0) vars.increment_min_ts = await this.#incrementMinTs(conn, m, plan, parts);
    const ctx: TemplateContext = {
      this: m.id,
      isIncremental: consumer === null ? plan.isIncremental(m.id) : plan.isIncremental(asIncrement),
      ref: (name) => project.get(name).id,
      increment: (name) => parts.get(`increment:${project.get(name).id}`) as string,
      source: (name) => parts.get(`source:${name}`) as string,
      variable: (name) => {
        const v = vars[name];
        if (v === undefined) throw new StockStreamError('SS_MODEL_INVALID', `${m.id}: var('${name}') has no value; set it under lake.models.vars`);
        return typeof v === 'string' ? sqlString(v) : String(v);
      },
    };
    return renderTemplate(m.files.find((f) => f.endsWith('.sql')) ?? m.id, m.sql, ctx);
  }

  /**
   * The earliest event time among `m`'s increments (+∞ as BIG when they are empty). Bronze
   * increments are answered by the catalog (each file's min_ts), without reading the files.
   */
  async #incrementMinTs(conn: DuckDBConnection, m: Model, plan: RunPlan, parts: ReadonlyMap<string, string>): Promise<number> {
    let lo = BIG;
    const relations: string[] = [];
    for (const id of m.increments) {
      const x = this.#o.project.get(id);
      const bronze = x.config.materialized === 'view' && x.dependsOn.length === 0 ? x.sources.filter((src) => this.#o.bronzeTables.some((t) => t.name === src)) : [];
      if (bronze.length > 0) {
        for (const table of bronze) {
          const [row] = await queryRows(conn, `SELECT min(min_ts) AS v FROM meta.lake_files WHERE layer = 'bronze' AND tbl = ${sqlString(table)} AND seq > ${plan.cursor(m.id, `source:${table}`)} AND seq <= ${plan.maxSeq}`);
          if (row?.v !== null && row?.v !== undefined) lo = Math.min(lo, Number(row.v));
        }
      } else relations.push(parts.get(`increment:${id}`) as string);
    }
    return Math.min(lo, await this.#minTs(conn, relations));
  }

  /** The earliest event time (`ts`, else `start`) among the relations; +∞ (as BIG) when they are empty. */
  async #minTs(conn: DuckDBConnection, relations: readonly string[]): Promise<number> {
    let lo = BIG;
    for (const rel of relations) {
      // DESCRIBE, not a probing query: a failed statement would abort the run's transaction.
      const names = new Set((await queryRows(conn, `DESCRIBE SELECT * FROM ${rel} AS x`)).map((r) => String(r.column_name)));
      const col = names.has('ts') ? 'ts' : names.has('start') ? 'start' : null;
      if (col === null) continue;
      const v = (await queryRows(conn, `SELECT min("${col}") AS v FROM ${rel} AS x`))[0]?.v;
      if (v !== null && v !== undefined) lo = Math.min(lo, Number(v));
    }
    return lo;
  }

  async #deployView(conn: DuckDBConnection, m: Model): Promise<void> {
    const plan = RunPlan.deployOnly(this);
    await conn.run(`CREATE OR REPLACE VIEW ${m.id} AS ${await this.render(conn, m, plan, null)}`);
  }

  async #materialize(conn: DuckDBConnection, m: Model, plan: RunPlan): Promise<number> {
    const kind = m.config.materialized;
    if (kind === 'view') {
      await this.#deployView(conn, m);
      return 0;
    }
    if (m.config.engine === 'typescript') return this.#runTypescript(conn, m, plan);
    const sql = await this.render(conn, m, plan, null);
    if (kind === 'table' || !plan.isIncremental(m.id)) {
      const body = kind === 'incremental' ? `SELECT *, CAST(${plan.runId} AS BIGINT) AS _run_id FROM (${sql})` : sql;
      await conn.run(`CREATE OR REPLACE TABLE ${m.id} AS ${body}`);
      return Number((await queryRows(conn, `SELECT count(*) AS n FROM ${m.id}`))[0]?.n ?? 0);
    }
    await conn.run(`CREATE OR REPLACE TEMP TABLE __model_new AS SELECT *, CAST(${plan.runId} AS BIGINT) AS _run_id FROM (${sql})`);
    const n = Number((await queryRows(conn, 'SELECT count(*) AS n FROM __model_new'))[0]?.n ?? 0);
    if (n > 0) {
      const key = m.config.unique_key;
      if (key !== undefined) {
        await conn.run(`DELETE FROM ${m.id} AS t USING (SELECT DISTINCT ${key.map((k) => `"${k}"`).join(', ')} FROM __model_new) AS n WHERE ${key.map((k) => `t."${k}" IS NOT DISTINCT FROM n."${k}"`).join(' AND ')}`);
      }
      try {
        await conn.run(`INSERT INTO ${m.id} BY NAME SELECT * FROM __model_new`);
      } catch (err) {
        throw new StockStreamError('SS_MODEL_FAILED', `${m.id}: the new rows do not fit the existing table (${firstLine(err)}); if the model's columns changed, run it with --full-refresh`, { cause: err });
      }
    }
    await conn.run('DROP TABLE __model_new');
    return n;
  }

  async #runTypescript(conn: DuckDBConnection, m: Model, plan: RunPlan): Promise<number> {
    const name = m.config.operator as string;
    const op = this.#o.operators[name];
    if (op === undefined) throw new StockStreamError('SS_MODEL_INVALID', `${m.id}: operator '${name}' is not registered; known operators: ${Object.keys(this.#o.operators).join(', ') || '(none)'}`);
    const input = this.#o.project.get(m.config.input as string);
    const incremental = plan.isIncremental(m.id);
    const increment = !incremental ? input.id : input.config.materialized === 'incremental' ? `(SELECT * FROM ${input.id} WHERE _run_id > ${plan.cursor(m.id, input.id)})` : input.id;
    return op.run({ conn, target: m.id, incremental, input: input.id, increment, params: m.config.params, runId: plan.runId });
  }
}

/** What one run decides per model: whether it runs, incrementally or not, and the cursors it moves. */
export class RunPlan {
  readonly runId: number;
  readonly maxSeq: number;
  readonly #runner: ModelRunner;
  readonly #selected: readonly Model[];
  readonly #fullRefresh: boolean;
  readonly #state: Map<string, number>;
  readonly #rebuilt: Map<string, number>;
  /** Models rebuilt whole in this run. */
  readonly #rebuiltNow = new Set<string>();
  readonly #cursors: Map<string, number>;
  readonly #existing: Set<string>;
  readonly #ran = new Set<string>();

  constructor(
    runner: ModelRunner,
    selected: readonly Model[],
    o: { fullRefresh: boolean; runId: number; maxSeq: number; state: Map<string, number>; rebuilt?: Map<string, number>; cursors: Map<string, number>; existing: Set<string> },
  ) {
    this.#runner = runner;
    this.#selected = selected;
    this.#fullRefresh = o.fullRefresh;
    this.runId = o.runId;
    this.maxSeq = o.maxSeq;
    this.#state = o.state;
    this.#rebuilt = o.rebuilt ?? new Map();
    this.#cursors = o.cursors;
    this.#existing = o.existing;
  }

  /** A plan for deploying views outside a run: every source whole. */
  static deployOnly(runner: ModelRunner): RunPlan {
    return new RunPlan(runner, [], { fullRefresh: true, runId: 0, maxSeq: BIG, state: new Map(), cursors: new Map(), existing: new Set() });
  }

  cursor(model: string, input: string): number {
    return this.#cursors.get(`${model}|${input}`) ?? 0;
  }

  /**
   * An incremental model reads only what is new when its table exists, this is not a full
   * refresh, and no incremental model it reads was rebuilt whole since it last read it (its
   * "new rows" would then be every row, and accumulating models would count them twice).
   */
  isIncremental(model: string): boolean {
    if (this.#fullRefresh || !this.#existing.has(model)) return false;
    const m = this.#runner.project.get(model);
    if (m.config.materialized !== 'incremental') return false;
    for (const input of this.#inputsOf(m)) {
      if (input.startsWith('source:') || this.#runner.project.get(input).config.materialized !== 'incremental') continue;
      if (this.#rebuiltNow.has(input) || (this.#rebuilt.get(input) ?? 0) > this.cursor(model, input)) return false;
    }
    return true;
  }

  /** True when every model of the project that reads `input` has read it up to this run's snapshot. */
  caughtUp(input: string): boolean {
    for (const m of this.#runner.project.models) {
      if (m.config.materialized === 'view' || !this.#inputsOf(m).includes(input)) continue;
      if (!this.#ran.has(m.id) && this.cursor(m.id, input) < this.maxSeq) return false;
    }
    return true;
  }

  /** The bronze tables a model reads through views and increments (its `source:` inputs). */
  #sourcesOf(m: Model): string[] {
    const project = this.#runner.project;
    const out = new Set<string>(m.sources.filter((s) => !['instruments', 'sessions', 'watermarks'].includes(s)));
    for (const d of m.dependsOn) {
      const x = project.get(d);
      if (x.config.materialized === 'view') for (const s of this.#sourcesOf(x)) out.add(s);
    }
    return [...out];
  }

  /** Inputs whose progress the model tracks: bronze tables and the non-view models it reads. */
  #inputsOf(m: Model): string[] {
    const project = this.#runner.project;
    return [...this.#sourcesOf(m).map((s) => `source:${s}`), ...m.dependsOn.filter((d) => project.get(d).config.materialized !== 'view')];
  }

  #hasNew(m: Model, input: string): boolean {
    if (input.startsWith('source:')) return this.maxSeq > this.cursor(m.id, input);
    return this.#ran.has(input) || (this.#state.get(input) ?? 0) > this.cursor(m.id, input);
  }

  shouldRun(m: Model): boolean {
    if (m.config.materialized === 'view') return true;
    if (this.#fullRefresh || !this.#existing.has(m.id)) return true;
    return this.#inputsOf(m).some((i) => this.#hasNew(m, i));
  }

  anyToRun(): boolean {
    return this.#selected.some((m) => m.config.materialized !== 'view' && this.shouldRun(m));
  }

  ran(m: Model, incremental: boolean): void {
    if (m.config.materialized !== 'view') {
      this.#ran.add(m.id);
      this.#existing.add(m.id);
      if (!incremental) this.#rebuiltNow.add(m.id);
    }
  }

  async saveCursors(conn: DuckDBConnection, now: number): Promise<void> {
    const rows: string[] = [];
    const states: string[] = [];
    for (const m of this.#selected) {
      if (!this.#ran.has(m.id)) continue;
      states.push(`(${sqlString(m.id)}, ${this.runId}, ${now}, ${this.#rebuiltNow.has(m.id) ? this.runId : (this.#rebuilt.get(m.id) ?? 0)})`);
      for (const input of this.#inputsOf(m)) {
        const pos = input.startsWith('source:') ? this.maxSeq : this.#ran.has(input) ? this.runId : (this.#state.get(input) ?? 0);
        rows.push(`(${sqlString(m.id)}, ${sqlString(input)}, ${pos})`);
      }
    }
    if (states.length > 0) await conn.run(`INSERT INTO meta.model_state VALUES ${states.join(', ')} ON CONFLICT (model) DO UPDATE SET last_run_id = excluded.last_run_id, updated_at = excluded.updated_at, rebuilt_run_id = excluded.rebuilt_run_id`);
    if (rows.length > 0) await conn.run(`INSERT INTO meta.model_cursors VALUES ${rows.join(', ')} ON CONFLICT (model, input) DO UPDATE SET position = excluded.position`);
  }
}

