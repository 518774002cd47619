import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PgGoldSync, type GoldSyncResult, type GoldTableSync } from '../../../src/lakehouse/export/pg-gold-sync.js';
import { isStockStreamError } from '../../../src/shared/errors.js';
import { postgresMissing, tempDatabase, testPool } from '../../fixtures/postgres.js';
import { testSeed } from '../../fixtures/random.js';
import { openLake, referenceData, sessionTrades, type LakeFixture } from '../models/lake-fixture.js';

/**
 * The gold mirror against a real PostgreSQL (deploy/local/postgres.sh): a lake built by the
 * shipped models from landed trades, mirrored into a database of its own per test file (dropped
 * after), compared value for value with the lake.
 */
const missing = await postgresMissing();

const DAY = 86_400_000;
const FIRST_DAY = Date.parse('2025-02-03T00:00:00Z');

function trades(seed: number, days: number, idPrefix = 't'): Record<string, unknown>[] {
  return sessionTrades(seed, { firstDay: FIRST_DAY, days, perWindow: 10, idPrefix });
}

interface GoldDatabase {
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A database of its own on the shared server (test/fixtures/postgres.ts), so tests running at once never meet. */
async function goldDatabase(): Promise<GoldDatabase> {
  const temp = await tempDatabase();
  const pool = testPool(temp.url);
  // The warehouse's migrations create the schema; the mirror needs nothing else of them.
  await pool.query('CREATE SCHEMA gold');
  return {
    pool,
    async drop() {
      await pool.end();
      await temp.drop();
    },
  };
}

type Row = Record<string, unknown>;

/** The lake's columns of a gold table (without the run bookkeeping), with their DuckDB types. */
async function lakeColumns(f: LakeFixture, table: string): Promise<{ name: string; type: string }[]> {
  const rows = await f.lake.all(`SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'gold' AND table_name = '${table}' AND column_name <> '_run_id' ORDER BY column_index`);
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.data_type) }));
}

const EPOCH_MS = /^(start|end|ts)$|_(start|end|ts)$/;
const FLOAT = new Set(['DOUBLE', 'FLOAT']);

/**
 * Both sides of one gold table in one comparable form, sorted: floats as JS numbers (PostgreSQL
 * prints float8 in shortest round-trip form, so equal means bit-equal), epoch-ms times as the
 * integer milliseconds the timestamptz holds, everything else as its text form.
 */
async function bothSides(f: LakeFixture, pool: pg.Pool, table: string): Promise<{ lake: Row[]; mirror: Row[] }> {
  const cols = await lakeColumns(f, table);
  const q = (c: string): string => `"${c}"`;
  const lake = await f.lake.all(`SELECT ${cols.map((c) => (FLOAT.has(c.type) ? q(c.name) : `CAST(${q(c.name)} AS VARCHAR) AS ${q(c.name)}`)).join(', ')} FROM gold.${table}`);
  const mirror = (
    await pool.query(
      `SELECT ${cols
        .map((c) => (FLOAT.has(c.type) ? q(c.name) : c.type === 'BIGINT' && EPOCH_MS.test(c.name) ? `((extract(epoch from ${q(c.name)}) * 1000)::int8)::text AS ${q(c.name)}` : `${q(c.name)}::text AS ${q(c.name)}`))
        .join(', ')} FROM gold.${table}`,
    )
  ).rows as Row[];
  const sort = (rows: Row[]): Row[] => rows.map((r) => ({ ...r })).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return { lake: sort(lake), mirror: sort(mirror) };
}

const GOLD = ['ohlc_1m', 'ohlc_daily', 'indicators_daily', 'kpi_latest', 'market_treemap', 'candle_patterns', 'data_quality'];

async function expectMirrored(f: LakeFixture, pool: pg.Pool, why: string): Promise<void> {
  for (const t of GOLD) {
    const { lake, mirror } = await bothSides(f, pool, t);
    expect(mirror.length, `${why}: PostgreSQL gold.${t} holds as many rows as the lake's`).toBe(lake.length);
    expect(mirror, `${why}: PostgreSQL gold.${t} holds exactly the lake's rows and values`).toEqual(lake);
  }
}

function byTable(r: GoldSyncResult): Map<string, GoldTableSync> {
  return new Map(r.tables.map((t) => [t.table, t]));
}

if (missing !== null) {
  describe('PgGoldSync', () => {
    it.skip(missing, () => undefined);
  });
} else {
  describe('PgGoldSync', () => {
    let db: GoldDatabase;
    const fixtures: LakeFixture[] = [];
    beforeAll(async () => {
      db = await goldDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await f.close();
      await db.pool.query('DROP SCHEMA gold CASCADE; CREATE SCHEMA gold');
    });

    async function lake(seed: number, days: number): Promise<LakeFixture> {
      const f = await openLake({ now: FIRST_DAY + 60 * DAY });
      fixtures.push(f);
      await f.land(trades(seed, days));
      const r = await f.runner.run();
      expect(r.status, `seed ${seed}: the first lake run succeeds ${r.error?.message ?? ''}`).toBe('success');
      return f;
    }

    it('creates every gold table from the lake’s types and mirrors its rows exactly; a sync with nothing new changes nothing', async () => {
      const seed = testSeed(20250203);
      const f = await lake(seed, 25);
      const sync = new PgGoldSync({ lake: f.lake, project: f.runner.project, pool: db.pool, batchRows: 700 });
      expect(sync.tables, 'every materialized gold model is mirrored').toEqual(expect.arrayContaining(GOLD.map((t) => `gold.${t}`)));
      const first = byTable(await sync.sync());
      for (const t of GOLD) expect(first.get(`gold.${t}`)?.mode, `seed ${seed}: the first sync creates gold.${t}`).toBe('rebuild');
      await expectMirrored(f, db.pool, `seed ${seed}, first sync`);

      const types = new Map(
        (await db.pool.query<{ c: string; t: string }>(`SELECT table_name || '.' || column_name AS c, data_type AS t FROM information_schema.columns WHERE table_schema = 'gold'`)).rows.map((r) => [r.c, r.t]),
      );
      expect(types.get('ohlc_1m.start'), 'epoch-ms times become timestamptz, for Grafana’s time macros').toBe('timestamp with time zone');
      expect(types.get('ohlc_1m.day_end')).toBe('timestamp with time zone');
      expect(types.get('ohlc_daily.date'), 'a DATE stays a date').toBe('date');
      expect(types.get('ohlc_1m.trades'), 'a BIGINT count stays bigint').toBe('bigint');
      expect(types.get('ohlc_1m.vwap')).toBe('double precision');
      expect(types.get('data_quality.check'), 'reserved words as column names are quoted, not renamed').toBe('text');
      expect(types.has('ohlc_1m._run_id'), 'the lake’s run bookkeeping is not mirrored').toBe(false);
      const keys = (await db.pool.query<{ t: string; def: string }>(`SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'u' AND connamespace = 'gold'::regnamespace`)).rows;
      expect(keys.find((k) => k.t === 'gold.ohlc_1m')?.def, 'the model’s unique_key is the mirror’s upsert key').toMatch(/UNIQUE NULLS NOT DISTINCT \(symbol, start\)/);

      const again = await sync.sync();
      expect(again.tables.every((t) => t.mode === 'unchanged' && t.rows === 0), `nothing new in the lake, nothing written: ${JSON.stringify(again.tables)}`).toBe(true);
    });

    it('after an incremental run, upserts just the rows the run rewrote and replaces the table models', async () => {
      const seed = testSeed(20250204);
      const f = await lake(seed, 22);
      const sync = new PgGoldSync({ lake: f.lake, project: f.runner.project, pool: db.pool });
      await sync.sync();
      const before = Number((await f.lake.all('SELECT max(_run_id) AS r FROM gold.ohlc_1m'))[0]?.r);
      // More trades for AAPL on one day only: the run rewrites those minutes and that day.
      const day = referenceData().calendarOf('NASDAQ').day('2025-02-05');
      const window = day?.regular[0] as { start: number; end: number };
      const extra = Array.from({ length: 30 }, (_, i) => ({ kind: 'trade', symbol: 'AAPL', ts: window.start + 1000 + i * 997_000, source: 'test', id: `x${i}`, price: 150 + i / 10, size: 10 }));
      await f.land(extra);
      const r = await f.runner.run();
      expect(r.status, r.error?.message).toBe('success');
      const rewritten = Number((await f.lake.all(`SELECT count(*) AS n FROM gold.ohlc_1m WHERE _run_id > ${before}`))[0]?.n);
      expect(rewritten, 'the run rewrote some minutes, not all').toBeGreaterThan(0);

      const res = byTable(await sync.sync());
      expect(res.get('gold.ohlc_1m'), `seed ${seed}: the minutes the run rewrote are upserted, nothing else`).toMatchObject({ mode: 'upsert', rows: rewritten });
      expect(res.get('gold.ohlc_daily'), 'one symbol-day changed').toMatchObject({ mode: 'upsert', rows: 1 });
      expect(res.get('gold.indicators_daily')?.mode, 'indicators of the touched symbol are recomputed and upserted').toBe('upsert');
      expect(res.get('gold.kpi_latest')?.mode, 'table models are rebuilt whole by each run, so they are replaced').toBe('replace');
      await expectMirrored(f, db.pool, `seed ${seed}, after an incremental run`);
    });

    it('mirrors a full refresh, rows deleted in the lake and changed columns by replacing or recreating the table', async () => {
      const seed = testSeed(20250205);
      const f = await lake(seed, 21);
      const sync = new PgGoldSync({ lake: f.lake, project: f.runner.project, pool: db.pool });
      await sync.sync();

      expect((await f.runner.run({ fullRefresh: true })).status).toBe('success');
      const full = byTable(await sync.sync());
      expect(full.get('gold.ohlc_1m'), 'a full refresh rebuilt the lake table: upserting would keep keys it no longer has').toMatchObject({ mode: 'replace', reason: expect.stringMatching(/rebuilt whole/) });
      await expectMirrored(f, db.pool, `seed ${seed}, after a full refresh`);

      // Retention or a manual fix deletes rows in the lake without a run: only the row count tells.
      await f.lake.run("DELETE FROM gold.ohlc_1m WHERE symbol = 'HPG'");
      const drift = byTable(await sync.sync());
      expect(drift.get('gold.ohlc_1m'), 'rows deleted in the lake are deleted in the mirror').toMatchObject({ mode: 'replace', reason: expect.stringMatching(/row count drifted/) });
      expect(Number((await db.pool.query(`SELECT count(*) AS n FROM gold.ohlc_1m WHERE symbol = 'HPG'`)).rows[0]?.n)).toBe(0);

      await f.lake.run("ALTER TABLE gold.kpi_latest ADD COLUMN note VARCHAR DEFAULT 'n/a'");
      await db.pool.query('DROP TABLE gold.market_treemap');
      const changed = byTable(await sync.sync());
      expect(changed.get('gold.kpi_latest'), 'a new lake column recreates the table with it').toMatchObject({ mode: 'rebuild', reason: expect.stringMatching(/columns changed/) });
      expect(changed.get('gold.market_treemap'), 'a mirror table dropped in PostgreSQL is created again').toMatchObject({ mode: 'rebuild', reason: 'no table in PostgreSQL' });
      expect((await db.pool.query(`SELECT DISTINCT note FROM gold.kpi_latest`)).rows).toEqual([{ note: 'n/a' }]);
      await expectMirrored(f, db.pool, `seed ${seed}, after deletes and a column change`);
    });

    it('is one transaction: readers see the old tables or the new ones, and a failed sync leaves the mirror as it was', async () => {
      const seed = testSeed(20250206);
      const f = await lake(seed, 21);
      // Small batches: the load takes many statements, so a non-atomic sync would show partial counts.
      const sync = new PgGoldSync({ lake: f.lake, project: f.runner.project, pool: db.pool, batchRows: 100 });
      await sync.sync();
      const count = async (t: string): Promise<number> => Number((await db.pool.query(`SELECT count(*) AS n FROM gold.${t}`)).rows[0]?.n);
      const old = { m: await count('ohlc_1m'), p: await count('candle_patterns') };
      await f.lake.run("DELETE FROM gold.ohlc_1m WHERE symbol = 'MSFT'");
      await f.lake.run("DELETE FROM gold.candle_patterns WHERE symbol = 'MSFT'");
      const next = { m: Number((await f.lake.all('SELECT count(*) AS n FROM gold.ohlc_1m'))[0]?.n), p: Number((await f.lake.all('SELECT count(*) AS n FROM gold.candle_patterns'))[0]?.n) };
      expect(next.m, 'the lake changed').toBeLessThan(old.m);

      const seen: string[] = [];
      let done = false;
      const watch = (async () => {
        while (!done) {
          const r = (await db.pool.query<{ m: string; p: string }>('SELECT (SELECT count(*) FROM gold.ohlc_1m) AS m, (SELECT count(*) FROM gold.candle_patterns) AS p')).rows[0];
          seen.push(`${r?.m}/${r?.p}`);
        }
      })();
      await sync.sync();
      done = true;
      await watch;
      const allowed = new Set([`${old.m}/${old.p}`, `${next.m}/${next.p}`]);
      expect(seen.length, 'the reader ran during the sync').toBeGreaterThan(0);
      expect(
        seen.filter((s) => !allowed.has(s)),
        `a reader sees both tables before the sync (${old.m}/${old.p}) or both after (${next.m}/${next.p}), never between`,
      ).toEqual([]);

      // A value PostgreSQL refuses (text cannot hold NUL) in gold.data_quality, which the sync
      // writes after gold.ohlc_1m (it reads it): the ohlc_1m change is rolled back with it.
      await f.lake.run("DELETE FROM gold.ohlc_1m WHERE symbol = 'JPM'");
      await f.lake.run("DELETE FROM gold.data_quality WHERE symbol = 'JPM'");
      await f.lake.run("UPDATE gold.data_quality SET reason = 'bad' || chr(0) WHERE rowid = (SELECT min(rowid) FROM gold.data_quality)");
      const err = await sync.sync().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isStockStreamError(err, 'SS_WAREHOUSE_IO'), `a failed sync is a retryable warehouse error: ${String(err)}`).toBe(true);
      expect(await count('ohlc_1m'), 'the tables synced before the failure are rolled back with it').toBe(next.m);
      await f.lake.run("UPDATE gold.data_quality SET reason = '' WHERE contains(reason, chr(0))");
      await sync.sync();
      await expectMirrored(f, db.pool, `seed ${seed}, after a failed sync and a retry`);
    });
  });
}
