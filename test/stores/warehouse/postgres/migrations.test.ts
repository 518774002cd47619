import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isStockStreamError } from '../../../../src/shared/errors.js';
import { migrate, migrationChecksum, WAREHOUSE_MIGRATIONS, type Migration } from '../../../../src/stores/warehouse/postgres/index.js';
import { postgresMissing, tempDatabase, testPool, type TempDatabase } from '../../../fixtures/postgres.js';

const missing = await postgresMissing();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function database(): Promise<TempDatabase> {
  const db = await tempDatabase();
  cleanups.push(() => db.drop());
  return db;
}

function pool(url: string): pg.Pool {
  const p = testPool(url, 2);
  cleanups.push(() => p.end());
  return p;
}

async function rows(p: pg.Pool, sql: string): Promise<Record<string, unknown>[]> {
  return (await p.query(sql)).rows as Record<string, unknown>[];
}

const V1: Migration = { version: 1, name: 'first', sql: 'CREATE TABLE t1 (a int)' };
const V2: Migration = { version: 2, name: 'second', sql: 'CREATE TABLE t2 (b int); INSERT INTO t2 VALUES (1)' };

describe.skipIf(missing !== null)(`warehouse migrations against PostgreSQL${missing === null ? '' : ` (${missing})`}`, () => {
  it('applies the warehouse schema once: a second run applies nothing and the tables are the contract', async () => {
    const db = await database();
    const p = pool(db.url);
    expect((await migrate(p)).applied, 'a new database gets every migration, in order').toEqual(WAREHOUSE_MIGRATIONS.map((m) => m.version));
    expect((await migrate(p)).applied, 'a migrated database gets none: migrate is idempotent').toEqual([]);
    const recorded = await rows(p, 'SELECT version, name, checksum FROM stockstream_migrations ORDER BY version');
    expect(recorded, 'each applied migration is recorded once with its checksum').toEqual(WAREHOUSE_MIGRATIONS.map((m) => ({ version: m.version, name: m.name, checksum: migrationChecksum(m) })));
    const tables = await rows(p, `SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'serving' AND c.relkind IN ('r', 'p') ORDER BY 1`);
    expect(tables, 'candles, indicators and alerts are partitioned (p) with no partition yet, so no DEFAULT one; kpis is plain').toEqual([
      { relname: 'alerts', relkind: 'p' },
      { relname: 'candles', relkind: 'p' },
      { relname: 'indicator_state', relkind: 'r' },
      { relname: 'indicators', relkind: 'p' },
      { relname: 'kpis', relkind: 'r' },
    ]);
    const cols = await rows(p, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'serving' AND table_name = 'candles' ORDER BY ordinal_position`);
    expect(cols.map((c) => `${String(c.column_name)} ${String(c.data_type)}`), 'serving.candles has the columns Grafana dashboards query').toEqual([
      'symbol text',
      'interval text',
      'start timestamp with time zone',
      'end timestamp with time zone',
      'open double precision',
      'high double precision',
      'low double precision',
      'close double precision',
      'volume double precision',
      'vwap double precision',
      'trades bigint',
      'final boolean',
      'rev integer',
      'updated_at timestamp with time zone',
    ]);
    expect(await rows(p, `SELECT nspname FROM pg_namespace WHERE nspname = 'gold'`), 'schema gold exists for the lake mirror').toEqual([{ nspname: 'gold' }]);
  });

  it('applies only the new versions of a longer list, and refuses a changed or unknown applied migration by name', async () => {
    const db = await database();
    const p = pool(db.url);
    expect((await migrate(p, [V1])).applied).toEqual([1]);
    expect((await migrate(p, [V1, V2])).applied, 'version 2 is new, version 1 is not run again (it would fail: t1 exists)').toEqual([2]);
    expect(await rows(p, 'SELECT b FROM t2'), 'version 2 ran exactly once').toEqual([{ b: 1 }]);

    const changed = { ...V1, sql: 'CREATE TABLE t1 (a bigint)' };
    const err = await migrate(p, [changed, V2]).catch((e: unknown) => e);
    expect(isStockStreamError(err, 'SS_WAREHOUSE_MIGRATION'), 'an edited applied migration is a migration error').toBe(true);
    expect((err as Error).message, 'the error names the changed migration').toContain('migration 1 ("first")');

    const unknown = await migrate(p, [V1]).catch((e: unknown) => e);
    expect((unknown as Error).message, 'a version applied by a newer release and unknown here is refused by name').toContain('migration 2 ("second") is not');
  });

  it('rolls a failing migration back whole and records nothing for it', async () => {
    const db = await database();
    const p = pool(db.url);
    const broken: Migration = { version: 3, name: 'broken', sql: 'CREATE TABLE t3 (c int); SELECT no_such_function()' };
    const err = await migrate(p, [V1, broken]).catch((e: unknown) => e);
    expect((err as Error).message, 'the failure names the migration').toContain('migration 3 ("broken")');
    expect(await rows(p, 'SELECT version FROM stockstream_migrations'), 'version 1 committed before; version 3 not recorded').toEqual([{ version: 1 }]);
    expect(await rows(p, `SELECT to_regclass('t3') IS NULL AS gone`), "the failed migration's first statement was rolled back with it").toEqual([{ gone: true }]);
    expect((await migrate(p, [V1])).applied, 'the lock was released with the failed connection: a new run proceeds').toEqual([]);
  });

  it('serialises concurrent migrate calls from two pools: each version is applied exactly once', async () => {
    const db = await database();
    const a = pool(db.url);
    const b = pool(db.url);
    // A slow migration keeps the first caller inside the lock while the second one waits on it.
    const slow: Migration[] = [V1, { version: 2, name: 'slow', sql: 'SELECT pg_sleep(0.5); CREATE TABLE t2 (b int)' }, ...WAREHOUSE_MIGRATIONS.map((m) => ({ ...m, version: m.version + 2 }))];
    const [ra, rb] = await Promise.all([migrate(a, slow), migrate(b, slow)]);
    const all = [...ra.applied, ...rb.applied].sort((x, y) => x - y);
    expect(all, 'together the two callers applied every version once (one did all, the other none)').toEqual(slow.map((m) => m.version));
    expect(Math.min(ra.applied.length, rb.applied.length), 'the caller that waited found the work done').toBe(0);
    expect(await rows(a, 'SELECT count(*)::int AS n FROM stockstream_migrations'), 'no version recorded twice').toEqual([{ n: slow.length }]);
  });
});
