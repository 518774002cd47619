import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeDatabase, SqlQueryService } from '../../../src/lakehouse/index.js';
import { StockStreamError } from '../../../src/shared/errors.js';

let dir: string;
let lake: LakeDatabase;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ss-sql-'));
  lake = await LakeDatabase.open({ lakeDir: join(dir, 'lake'), file: join(dir, 'lake.duckdb'), threads: 1 });
  await lake.run(`CREATE TABLE gold.t AS SELECT range AS n, 'S' || range AS s, DATE '2025-01-02' + CAST(range AS INTEGER) AS d, CAST(range * 0.25 AS DECIMAL(10,2)) AS dec, 9007199254740993 AS big FROM range(25)`);
});

afterEach(async () => {
  await lake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(svc: SqlQueryService, sql: string): Promise<StockStreamError> {
  try {
    await svc.query(sql);
  } catch (err) {
    expect(err, `${sql} must fail with a StockStreamError`).toBeInstanceOf(StockStreamError);
    return err as StockStreamError;
  }
  throw new Error(`expected ${JSON.stringify(sql)} to be refused, but it ran`);
}

describe('SqlQueryService', () => {
  it('answers a SELECT with typed columns and JSON-friendly values', async () => {
    const svc = new SqlQueryService(lake);
    const r = await svc.query('SELECT n, s, d, dec, big FROM gold.t WHERE n < 2 ORDER BY n');
    expect(r.columns).toEqual([
      { name: 'n', type: 'BIGINT' },
      { name: 's', type: 'VARCHAR' },
      { name: 'd', type: 'DATE' },
      { name: 'dec', type: expect.stringMatching(/^DECIMAL/) as unknown as string },
      { name: 'big', type: 'BIGINT' },
    ]);
    // Exact integers become numbers; one beyond 2^53 stays a string so no digit is lost.
    expect(r.rows).toEqual([
      [0, 'S0', '2025-01-02', 0, '9007199254740993'],
      [1, 'S1', '2025-01-03', 0.25, '9007199254740993'],
    ]);
    expect(r.truncated).toBe(false);
  });

  it('cuts results at maxRows and says so', async () => {
    const svc = new SqlQueryService(lake, { maxRows: 10 });
    const r = await svc.query('SELECT * FROM gold.t');
    expect(r.rows.length, 'no more than maxRows rows come back').toBe(10);
    expect(r.truncated).toBe(true);
    const small = await svc.query('SELECT * FROM gold.t LIMIT 10');
    expect(small.truncated, 'exactly maxRows rows is not a cut').toBe(false);
  });

  it('refuses writes, COPY, ATTACH, INSTALL, SET and several statements, and changes nothing', async () => {
    const svc = new SqlQueryService(lake);
    for (const sql of [
      'INSERT INTO gold.t SELECT * FROM gold.t',
      'DELETE FROM gold.t',
      'DROP TABLE gold.t',
      'CREATE TABLE gold.x AS SELECT 1',
      `COPY gold.t TO '${join(dir, 'lake', 'out.csv')}'`,
      `ATTACH '${join(dir, 'other.duckdb')}' AS other`,
      'INSTALL httpfs',
      'LOAD httpfs',
      "SET threads = 1",
      'PRAGMA show_tables',
      'CALL pragma_version()',
      "SELECT * FROM query('DELETE FROM gold.t')",
    ]) {
      const e = await refusal(svc, sql);
      expect(['SS_SQL_READONLY', 'SS_SQL_INVALID'], `${sql}: ${e.message}`).toContain(e.code);
    }
    expect((await refusal(svc, 'INSERT INTO gold.t SELECT * FROM gold.t')).message).toMatch(/INSERT is not a read query/);
    expect((await refusal(svc, 'SELECT 1; DROP TABLE gold.t')).message).toMatch(/DROP is not a read query/);
    expect((await refusal(svc, 'SELECT 1; SELECT 2')).message).toMatch(/exactly one statement, got 2/);
    const r = await svc.query('SELECT count(*) AS n FROM gold.t');
    expect(r.rows, 'the table is untouched after every refusal').toEqual([[25]]);
  });

  it('refuses to read files outside the lake, and reads Parquet inside it', async () => {
    const outside = join(dir, 'secret.csv');
    writeFileSync(outside, 'a\n1\n');
    const svc = new SqlQueryService(lake);
    for (const sql of [`SELECT * FROM read_csv('${outside}')`, `SELECT * FROM '${outside}'`, "SELECT * FROM read_text('/etc/passwd')", `SELECT * FROM read_csv('${join(dir, 'lake', '..', 'secret.csv')}')`]) {
      const e = await refusal(svc, sql);
      expect(e.code, `${sql}: ${e.message}`).toBe('SS_SQL_READONLY');
      expect(e.message).toMatch(/read-only and may read only the lake/);
    }
    await lake.run(`COPY (SELECT 7 AS x) TO '${join(dir, 'lake', 'inside.parquet')}' (FORMAT parquet)`);
    expect((await svc.query(`SELECT x FROM '${join(dir, 'lake', 'inside.parquet')}'`)).rows).toEqual([[7]]);
  });

  it('says what is wrong with a bad query', async () => {
    const svc = new SqlQueryService(lake);
    const syntax = await refusal(svc, 'SELEC 1');
    expect(syntax.code).toBe('SS_SQL_INVALID');
    expect(syntax.message).toMatch(/does not parse: syntax error at or near "SELEC"/);
    const missing = await refusal(svc, 'SELECT * FROM gold.nope');
    expect(missing.code).toBe('SS_SQL_INVALID');
    expect(missing.message).toMatch(/Table with name nope does not exist/);
    for (const bad of ['', '   ', 42, undefined]) expect((await refusal(svc, bad as string)).message).toMatch(/expected a non-empty string/);
  });

  it('stops a query past its time limit', async () => {
    const svc = new SqlQueryService(lake, { timeoutMs: 200 });
    const e = await refusal(svc, 'SELECT count(*) FROM range(10000000000000) a');
    expect(e.code).toBe('SS_SQL_TIMEOUT');
    expect(e.message).toMatch(/longer than the 200 ms limit/);
    expect((await svc.query('SELECT 1 AS one')).rows, 'the service still answers after an interrupt').toEqual([[1]]);
  });
});
