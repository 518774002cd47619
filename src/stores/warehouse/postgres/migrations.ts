import { createHash } from 'node:crypto';
import type pg from 'pg';
import { StockStreamError } from '../../../shared/errors.js';
import { withClient } from './pg-session.js';

/**
 * Versioned schema migrations of the PostgreSQL warehouse (issue 4). They live in TypeScript
 * because the package ships only dist/. Each is applied once, in its own transaction, and
 * recorded in `stockstream_migrations(version, name, checksum, applied_at)`; an applied
 * migration whose SQL changed since is an error naming it (fix forward with a new version,
 * never edit a released one). The table names are a contract: Grafana dashboards
 * (deploy/grafana/) query exactly these.
 */
export interface Migration {
  /** Positive, strictly increasing through the list. */
  readonly version: number;
  readonly name: string;
  /** One or more statements, run in one transaction (simple query protocol, no parameters). */
  readonly sql: string;
}

export interface MigrationResult {
  /** Versions this call applied, in order (empty when the schema was current). */
  readonly applied: readonly number[];
}

/** `pg_advisory_lock` key serialising concurrent `migrate` calls across processes ('SSMIGRAT'). */
const MIGRATION_LOCK = 0x5353_4d49_4752_4154n;

export const WAREHOUSE_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'serving tables',
    // Monthly range partitions are created on demand by MonthlyPartitions before rows land in
    // them; there is deliberately no DEFAULT partition (rows there would block creating the month later).
    sql: `
CREATE SCHEMA IF NOT EXISTS serving;
CREATE SCHEMA IF NOT EXISTS gold;

CREATE TABLE serving.candles (
  symbol text NOT NULL,
  interval text NOT NULL,
  start timestamptz NOT NULL,
  "end" timestamptz NOT NULL,
  open double precision NOT NULL,
  high double precision NOT NULL,
  low double precision NOT NULL,
  close double precision NOT NULL,
  volume double precision NOT NULL,
  vwap double precision NOT NULL,
  trades bigint NOT NULL,
  final boolean NOT NULL,
  rev integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, interval, start)
) PARTITION BY RANGE (start);

CREATE TABLE serving.indicators (
  symbol text NOT NULL,
  interval text NOT NULL,
  start timestamptz NOT NULL,
  spec text NOT NULL,
  output text NOT NULL,
  value double precision NULL,
  PRIMARY KEY (symbol, interval, start, spec, output)
) PARTITION BY RANGE (start);

CREATE TABLE serving.kpis (
  symbol text PRIMARY KEY,
  last double precision NOT NULL,
  change double precision NOT NULL,
  change_pct double precision NOT NULL,
  open double precision NOT NULL,
  high double precision NOT NULL,
  low double precision NOT NULL,
  volume double precision NOT NULL,
  vwap double precision NOT NULL,
  prev_close double precision NULL,
  trades_per_sec double precision NOT NULL,
  ts timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE serving.alerts (
  id text NOT NULL,
  ts timestamptz NOT NULL,
  symbol text NOT NULL,
  rule text NOT NULL,
  severity text NOT NULL,
  message text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX alerts_ts_idx ON serving.alerts (ts);
CREATE INDEX alerts_symbol_ts_idx ON serving.alerts (symbol, ts);
`,
  },
  {
    version: 2,
    name: 'indicator state of the warehouse writer',
    // Per (symbol, interval): the indicators' snapshot after every candle up to tail_start
    // ('-infinity': none yet). The candles after it are in serving.candles, written in the same
    // transaction, so snapshot + those candles rebuild the writer's state exactly after a restart.
    sql: `
CREATE TABLE serving.indicator_state (
  symbol text NOT NULL,
  interval text NOT NULL,
  tail_start timestamptz NOT NULL,
  state json NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, interval)
);
`,
  },
]);

export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex');
}

function checkList(migrations: readonly Migration[]): void {
  let last = 0;
  for (const m of migrations) {
    if (!Number.isSafeInteger(m.version) || m.version <= last) {
      throw new StockStreamError('SS_WAREHOUSE_MIGRATION', `Expected migration versions to be positive integers in increasing order, got ${m.version} ("${m.name}") after ${last}; fix the migration list.`, {
        context: { version: m.version, name: m.name },
      });
    }
    last = m.version;
  }
}

/**
 * Brings the database to the newest migration. Concurrent callers (several instances starting at
 * once) queue on a session advisory lock, so each migration runs exactly once; a caller that got
 * the lock late finds the work done and applies nothing. On failure withClient destroys the
 * connection, which releases the lock.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = WAREHOUSE_MIGRATIONS): Promise<MigrationResult> {
  checkList(migrations);
  return withClient(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query(`CREATE TABLE IF NOT EXISTS stockstream_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = await client.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM stockstream_migrations ORDER BY version');
    verifyApplied(migrations, done.rows);
    const have = new Set(done.rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO stockstream_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, migrationChecksum(m)]);
        await client.query('COMMIT');
      } catch (err) {
        throw new StockStreamError('SS_WAREHOUSE_MIGRATION', `Expected warehouse migration ${m.version} ("${m.name}") to apply, but it failed: ${(err as Error).message}; it was rolled back, fix the cause and start again.`, {
          cause: err,
          context: { version: m.version, name: m.name },
        });
      }
      applied.push(m.version);
    }
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    return { applied };
  });
}

function verifyApplied(migrations: readonly Migration[], rows: readonly { version: number; name: string; checksum: string }[]): void {
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of rows) {
    const m = known.get(row.version);
    if (m === undefined) {
      throw new StockStreamError(
        'SS_WAREHOUSE_MIGRATION',
        `Expected every applied warehouse migration to be known to this version, but migration ${row.version} ("${row.name}") is not: the database was migrated by a newer StockStream; run that version or a newer one.`,
        { context: { version: row.version, name: row.name } },
      );
    }
    const now = migrationChecksum(m);
    if (now !== row.checksum) {
      throw new StockStreamError(
        'SS_WAREHOUSE_MIGRATION',
        `Expected applied migration ${m.version} ("${m.name}") to be unchanged, but its SQL differs from what was applied (checksum ${row.checksum.slice(0, 12)}…, now ${now.slice(0, 12)}…); restore it and put the change in a new migration.`,
        { context: { version: m.version, name: m.name } },
      );
    }
  }
}
