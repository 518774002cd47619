import { DuckDBTypeId, type DuckDBConnection, type Json } from '@duckdb/node-api';
import { StockStreamError } from '../../shared/errors.js';
import type { LakeDatabase } from '../catalog/lake-database.js';
import { sqlString } from '../../shared/sql.js';

export interface SqlLimits {
  /** Rows returned at most; a larger result is cut and flagged `truncated`. */
  maxRows: number;
  /** Wall-clock limit of one query (ms); past it the query is interrupted. */
  timeoutMs: number;
}

export interface SqlColumn {
  readonly name: string;
  /** DuckDB type, e.g. 'BIGINT', 'DOUBLE', 'VARCHAR', 'DATE'. */
  readonly type: string;
}

export interface SqlResult {
  readonly columns: readonly SqlColumn[];
  /** Rows as arrays in column order: numbers, strings (dates, timestamps, big integers), booleans, null, lists, objects. */
  readonly rows: readonly Json[][];
  /** True when the query had more than `maxRows` rows and only the first ones came back. */
  readonly truncated: boolean;
  readonly elapsedMs: number;
}

export const DEFAULT_SQL_LIMITS: SqlLimits = { maxRows: 10_000, timeoutMs: 30_000 };
/** Longer text than this is not a hand-written query; refusing it bounds what the parser is fed. */
const MAX_SQL_CHARS = 100_000;

/** Integer and decimal types the JSON conversion renders as strings; they become numbers when exact. */
const NUMERIC_AS_STRING = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.DECIMAL]);

function sqlError(code: 'SS_SQL_INVALID' | 'SS_SQL_READONLY' | 'SS_SQL_TIMEOUT', message: string, cause?: unknown): StockStreamError {
  return new StockStreamError(code, message, cause === undefined ? {} : { cause });
}

/** The first line of a DuckDB error, which carries its kind ("Catalog Error: …") and the point. */
function duckMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.trim();
}

/**
 * Read-only SQL over the lake (issue 3, "Query"): `bronze.*`, `silver.*`, `gold.*` and `meta.*`.
 *
 * Three fences, each enough alone for its part: (1) DuckDB's own parser must see exactly one
 * statement that serializes as a SELECT (`json_serialize_sql` refuses everything else: INSERT,
 * COPY, ATTACH, INSTALL, SET, PRAGMA, CALL …); (2) it runs in a `READ ONLY` transaction, so
 * nothing it calls can change the database; (3) the database instance cannot touch files outside
 * the lake directory (see LakeDatabase). Results stop at `maxRows`; a query past `timeoutMs` is
 * interrupted.
 */
export class SqlQueryService {
  readonly #lake: LakeDatabase;
  readonly #limits: SqlLimits;

  constructor(lake: LakeDatabase, limits: Partial<SqlLimits> = {}) {
    this.#lake = lake;
    this.#limits = { ...DEFAULT_SQL_LIMITS, ...limits };
    for (const k of ['maxRows', 'timeoutMs'] as const) {
      if (!(Number.isInteger(this.#limits[k]) && this.#limits[k] > 0)) throw new RangeError(`lake.sql.${k}: expected an integer > 0, got ${this.#limits[k]}`);
    }
  }

  get limits(): SqlLimits {
    return { ...this.#limits };
  }

  async query(sql: unknown, limits: Partial<SqlLimits> = {}): Promise<SqlResult> {
    return this.#lake.shared(() => this.#query(sql, limits));
  }

  async #query(sql: unknown, limits: Partial<SqlLimits>): Promise<SqlResult> {
    const maxRows = Math.min(limits.maxRows ?? this.#limits.maxRows, this.#limits.maxRows);
    const timeoutMs = Math.min(limits.timeoutMs ?? this.#limits.timeoutMs, this.#limits.timeoutMs);
    if (typeof sql !== 'string' || sql.trim() === '') {
      throw sqlError('SS_SQL_INVALID', `sql: expected a non-empty string with one SELECT query, got ${sql === undefined ? 'nothing' : JSON.stringify(sql)?.slice(0, 80)}. Example: SELECT * FROM gold.ohlc_1m LIMIT 10`);
    }
    if (sql.length > MAX_SQL_CHARS) throw sqlError('SS_SQL_INVALID', `sql: expected at most ${MAX_SQL_CHARS} characters, got ${sql.length}; send one query, not a script`);
    const started = performance.now();
    const conn = await this.#lake.connect();
    let timer: NodeJS.Timeout | null = null;
    let timedOut = false;
    try {
      await checkReadOnly(conn, sql);
      await conn.run('BEGIN TRANSACTION READ ONLY');
      timer = setTimeout(() => {
        timedOut = true;
        conn.interrupt();
      }, timeoutMs);
      let reader;
      try {
        reader = await conn.streamAndReadUntil(sql, maxRows + 1);
      } catch (err) {
        if (timedOut) throw sqlError('SS_SQL_TIMEOUT', `The query ran longer than the ${timeoutMs} ms limit and was stopped. Filter on date and symbol (the lake is partitioned by both), aggregate, or add LIMIT.`, err);
        const m = duckMessage(err);
        if (/read-only mode|Permission Error|file system operations are disabled/i.test(m)) {
          throw sqlError('SS_SQL_READONLY', `Refused: ${m.split('\n')[0]}. Queries here are read-only and may read only the lake's tables (bronze.*, silver.*, gold.*, meta.*).`, err);
        }
        throw sqlError('SS_SQL_INVALID', `The query failed: ${m}`, err);
      }
      const types = reader.columnTypes();
      const names = reader.columnNames();
      const truncated = reader.currentRowCount > maxRows;
      const raw = reader.getRowsJson();
      const rows = (truncated ? raw.slice(0, maxRows) : raw) as Json[][];
      const fix = types.map((t) => NUMERIC_AS_STRING.has(t.typeId));
      if (fix.some(Boolean)) {
        for (const row of rows) {
          for (let c = 0; c < row.length; c++) {
            const v = row[c];
            if (fix[c] === true && typeof v === 'string') {
              const n = Number(v);
              if (Number.isSafeInteger(n) || (!Number.isInteger(n) && String(n) === v)) row[c] = n;
            }
          }
        }
      }
      return { columns: names.map((name, i) => ({ name, type: String(types[i]) })), rows, truncated, elapsedMs: performance.now() - started };
    } finally {
      if (timer !== null) clearTimeout(timer);
      try {
        await conn.run('ROLLBACK');
      } catch {
        // No transaction open (the check failed before BEGIN): nothing to undo.
      }
      conn.closeSync();
    }
  }
}

/** Throws unless `sql` is exactly one statement that DuckDB's parser reads as a SELECT. */
async function checkReadOnly(conn: DuckDBConnection, sql: string): Promise<void> {
  // A literal, not a parameter: the function wants its argument at bind time. Doubling quotes is
  // the whole of escaping in a standard SQL string.
  const r = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
  const parsed = JSON.parse(String(r.getRows()[0]?.[0])) as { error: boolean; error_type?: string; error_message?: string; statements?: unknown[] };
  if (parsed.error) {
    if (parsed.error_type === 'not implemented') {
      const verb = offendingVerb(sql);
      throw sqlError(
        'SS_SQL_READONLY',
        `Refused: ${verb} is not a read query. Only SELECT (with WITH, FROM-first, SHOW, DESCRIBE, SUMMARIZE) runs here; writes, COPY, ATTACH, INSTALL, LOAD, SET, PRAGMA, CALL and EXPLAIN are refused.`,
      );
    }
    throw sqlError('SS_SQL_INVALID', `The query does not parse: ${parsed.error_message ?? 'syntax error'}`);
  }
  const n = parsed.statements?.length ?? 0;
  if (n !== 1) throw sqlError('SS_SQL_INVALID', `sql: expected exactly one statement, got ${n}; send the queries one at a time`);
}

const READ_VERBS = new Set(['SELECT', 'WITH', 'FROM', 'SHOW', 'DESCRIBE', 'SUMMARIZE', 'VALUES', 'TABLE']);

/** The first statement keyword (after comments) that does not start a read, for the refusal message. */
function offendingVerb(sql: string): string {
  const noComments = sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
  for (const m of noComments.matchAll(/(?:^|;)\s*\(*\s*([A-Za-z]+)/g)) {
    const verb = (m[1] as string).toUpperCase();
    if (!READ_VERBS.has(verb)) return verb;
  }
  return 'this statement';
}
