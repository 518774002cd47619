import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { indicatorsModel, LakeDatabase, maintainLake, loadModelProject, ModelRunner, runModelTests, selectModels, SqlQueryService } from '../../../src/lakehouse/index.js';
import { StockStreamError } from '../../../src/shared/errors.js';
import { RunPlan } from '../../../src/lakehouse/models/model-runner.js';
import { MODELS_DIR, openLake, referenceData, type LakeFixture } from './lake-fixture.js';

const fixtures: LakeFixture[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Tuesday 2025-03-11: NASDAQ/NYSE regular 13:30–20:00Z (EDT), pre from 08:00Z; HOSE 02:00–04:30Z
// and 06:00–07:45Z (ATC auction 07:30–07:45Z).
const OPEN = Date.parse('2025-03-11T13:30:00Z');
const HOSE_OPEN = Date.parse('2025-03-11T02:00:00Z');

function t(symbol: string, ts: number, id: string, price: number, size = 10): Record<string, unknown> {
  return { kind: 'trade', symbol, ts, source: 'test', id, price, size };
}

function copyModels(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ss-models-'));
  dirs.push(dir);
  cpSync(MODELS_DIR, dir, { recursive: true });
  return dir;
}

async function rows(f: LakeFixture, sql: string): Promise<Record<string, unknown>[]> {
  const r = await new SqlQueryService(f.lake, { maxRows: 100_000 }).query(sql);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

describe('ModelRunner', () => {
  it('serves every layer as soon as it opens, with empty typed bronze views', async () => {
    const f = await openLake({ now: OPEN });
    fixtures.push(f);
    expect(await rows(f, 'SELECT count(*) AS n FROM bronze.ticks')).toEqual([{ n: 0 }]);
    expect(await rows(f, 'SELECT count(*) AS n FROM bronze.rejects')).toEqual([{ n: 0 }]);
    const r = await f.runner.run();
    expect(r.status, 'nothing landed yet: the first run still creates every table').toBe('success');
    for (const t of ['silver.ticks', 'gold.ohlc_1m', 'gold.ohlc_daily', 'gold.indicators_daily', 'gold.kpi_latest', 'gold.market_treemap', 'gold.candle_patterns', 'gold.data_quality']) {
      expect(await rows(f, `SELECT count(*) AS n FROM ${t}`), `${t} exists and is empty`).toEqual([{ n: 0 }]);
    }
    expect((await f.runner.run()).status, 'then, without new data, runs are skipped').toBe('skipped');
  });

  it('silver drops exact repeats, flags corrections, late events, outliers and sessions, and scales VND quoted in thousands', async () => {
    const f = await openLake({ now: OPEN + 86_400_000 });
    fixtures.push(f);
    const input: unknown[] = [];
    // 20 quiet minutes of AAPL around 190 (true range ~0.1), then a jump of 5 (~50 ranges).
    for (let i = 0; i < 240; i++) input.push(t('AAPL', OPEN + i * 5000, `a${i}`, 190 + (i % 2) * 0.1));
    input.push(t('AAPL', OPEN + 240 * 5000, 'jump', 195));
    input.push(t('AAPL', OPEN + 5000, 'a1', 190.1)); // exact repeat of a1: dropped
    input.push(t('AAPL', OPEN + 10_000, 'a2', 191.5)); // a2 again with another price: a correction
    input.push(t('AAPL', OPEN + 240 * 5000 - 60_000, 'late1', 190)); // a minute behind the newest: late
    input.push(t('AAPL', Date.parse('2025-03-11T12:00:00Z'), 'pre1', 189)); // 08:00 EDT: pre-market
    input.push(t('HPG', HOSE_OPEN + 60_000, 'h1', 27.05)); // thousands of VND
    input.push(t('HPG', HOSE_OPEN + 120_000, 'h2', 27_100));
    input.push(t('HPG', Date.parse('2025-03-11T07:35:00Z'), 'h3', 27_200)); // 14:35 ICT: ATC auction
    input.push(t('HPG', Date.parse('2025-03-11T05:00:00Z'), 'h4', 27_150)); // 12:00 ICT: lunch break
    input.push({ kind: 'trade', symbol: 'AAPL', ts: OPEN, source: 'test', id: 'bad', price: -1, size: 1 }); // rejected at ingress
    await f.land(input);
    const r = await f.runner.run();
    expect(r.status, r.error?.message).toBe('success');

    const byId = new Map((await rows(f, 'SELECT id, price, price_scale, session, is_late, is_correction, is_outlier FROM silver.ticks')).map((x) => [x.id, x]));
    expect((await rows(f, 'SELECT count(*) AS n FROM silver.ticks'))[0]?.n, 'every accepted event but the exact repeat').toBe(240 + 1 + 1 + 1 + 1 + 4);
    expect((await rows(f, "SELECT count(*) AS n FROM silver.ticks WHERE id = 'a1'"))[0]?.n).toBe(1);
    expect(byId.get('a2'), 'the first a2 stays clean').toBeDefined();
    expect((await rows(f, "SELECT price, is_correction FROM silver.ticks WHERE id = 'a2' ORDER BY log_offset")).map((x) => [x.price, x.is_correction])).toEqual([
      [190, false],
      [191.5, true],
    ]);
    expect(byId.get('late1')?.is_late, 'an event a minute behind the newest is late').toBe(true);
    // pre1 and h4 arrive after their symbol's later trades (13:30Z+, 07:35Z): hours late, so late too.
    expect([...byId.values()].filter((x) => x.is_late).map((x) => x.id).sort(), 'and nothing else is').toEqual(['h4', 'late1', 'pre1']);
    expect(byId.get('jump')?.is_outlier, 'a jump of ~50 true ranges is an outlier').toBe(true);
    expect([...byId.values()].filter((x) => x.is_outlier).map((x) => x.id), 'and nothing else is').toEqual(['jump']);
    expect(byId.get('pre1')?.session).toBe('pre');
    expect(byId.get('a0')?.session).toBe('regular');
    expect(byId.get('h3')?.session).toBe('auction');
    expect(byId.get('h4')?.session, 'the lunch break is closed').toBe('closed');
    expect([byId.get('h1')?.price, byId.get('h1')?.price_scale], '27.05 thousand VND is 27,050 VND').toEqual([27_050, 1000]);
    expect([byId.get('h2')?.price, byId.get('h2')?.price_scale]).toEqual([27_100, 1]);

    // Gold keeps the first a2 and leaves the pre-market trade and the lunch trade out.
    const first = (await rows(f, `SELECT open, high, trades FROM gold.ohlc_1m WHERE symbol = 'AAPL' AND start = ${OPEN}`))[0];
    expect(first, 'the correction (191.5) is not in the minute; the repeat is not counted twice').toEqual({ open: 190, high: 190.1, trades: 12 });
    expect((await rows(f, "SELECT sum(trades) AS n FROM gold.ohlc_1m WHERE symbol = 'HPG'"))[0]?.n, 'HOSE: the two morning trades and the auction trade, not the lunch one').toBe(3);

    const dq = new Map((await rows(f, "SELECT symbol || ':' || \"check\" || ':' || reason AS k, value FROM gold.data_quality")).map((x) => [x.k, x.value]));
    expect(dq.get('AAPL:duplicates:')).toBe(1);
    expect(dq.get('AAPL:corrections:')).toBe(1);
    expect(dq.get('AAPL:late_events:'), 'late1 and pre1').toBe(2);
    expect(dq.get('AAPL:outliers:')).toBe(1);
    expect([...dq.entries()].filter(([k]) => String(k).includes(':rejects:')), 'the reject lands with its rule').toEqual([[expect.stringMatching(/^AAPL:rejects:\w+/), 1]]);

    // Counts add up across runs.
    await f.land([t('AAPL', OPEN + 5000, 'a1', 190.1), t('AAPL', OPEN + 242 * 5000, 'more', 190)]);
    expect((await f.runner.run()).status).toBe('success');
    expect((await rows(f, "SELECT value FROM gold.data_quality WHERE symbol = 'AAPL' AND \"check\" = 'duplicates'"))[0]?.value, 'a repeat in a later run is caught against silver').toBe(2);

    const tests = await runModelTests(f.lake, f.runner.project, f.runner.project.models);
    const failing = tests.filter((x) => x.status !== 'pass').map((x) => `${x.model} ${x.test}: ${x.failures} ${x.error ?? JSON.stringify(x.sample)}`);
    expect(failing, 'every declared data test passes on clean data').toEqual([]);
    expect(tests.length).toBeGreaterThan(20);
  });

  it('rolls back the whole run when a model fails, and the next run redoes the same input', async () => {
    const models = copyModels();
    writeFileSync(join(models, 'gold', 'kpi_latest.sql'), "SELECT symbol, error('kpi model broken on purpose') AS last FROM {{ ref('gold.ohlc_daily') }}");
    const f = await openLake({ now: OPEN + 86_400_000, modelsDir: models });
    fixtures.push(f);
    await f.land([t('AAPL', OPEN, 'x1', 190), t('AAPL', OPEN + 1000, 'x2', 191)]);
    const failed = await f.runner.run();
    expect(failed.status).toBe('failed');
    expect(failed.error).toBeInstanceOf(StockStreamError);
    expect(failed.error?.code).toBe('SS_MODEL_FAILED');
    expect(failed.error?.message).toMatch(/^Model gold\.kpi_latest failed: .*kpi model broken on purpose.*rolled back/);
    expect(failed.models.find((m) => m.model === 'silver.ticks')?.status, 'models before the failure are reported rolled back').toBe('rolled back');
    const tables = await rows(f, "SELECT schema_name || '.' || table_name AS t FROM duckdb_tables() WHERE schema_name IN ('silver', 'gold')");
    expect(tables, 'nothing of the failed run is committed').toEqual([]);
    expect(await rows(f, 'SELECT count(*) AS n FROM meta.watermarks')).toEqual([{ n: 0 }]);
    const history = await rows(f, "SELECT model, status FROM meta.model_runs WHERE model = 'gold.kpi_latest'");
    expect(history, 'the failure is in the run history').toEqual([{ model: 'gold.kpi_latest', status: 'failed' }]);

    // Fix the model: a new runner over the same lake runs the same input again, completely.
    f.runner = await ModelRunner.open({ lake: f.lake, project: await loadModelProject(MODELS_DIR), reference: referenceData(), operators: { indicators: indicatorsModel() } });
    const fixed = await f.runner.run();
    expect(fixed.status, fixed.error?.message).toBe('success');
    expect(await rows(f, 'SELECT count(*) AS n FROM silver.ticks')).toEqual([{ n: 2 }]);
    expect(await rows(f, 'SELECT symbol, last FROM gold.kpi_latest')).toEqual([{ symbol: 'AAPL', last: 191 }]);
  });

  it('reports a missing or corrupt Parquet file by name, commits nothing, and recovers once the file is back', async () => {
    const f = await openLake({ now: OPEN + 86_400_000 });
    fixtures.push(f);
    await f.land([t('AAPL', OPEN, 'c1', 190)]);
    expect((await f.runner.run()).status).toBe('success');
    await f.land([t('AAPL', OPEN + 1000, 'c2', 191)]);
    const [file] = await rows(f, 'SELECT path FROM meta.lake_files ORDER BY seq DESC LIMIT 1');
    const abs = f.lake.resolve(String(file?.path));
    const good = readFileSync(abs);
    writeFileSync(abs, 'not parquet at all');
    const corrupt = await f.runner.run();
    expect(corrupt.status).toBe('failed');
    expect(corrupt.error?.message).toContain(String(file?.path).split('/').at(-1));
    expect(await rows(f, 'SELECT count(*) AS n FROM silver.ticks'), 'the run committed nothing').toEqual([{ n: 1 }]);
    rmSync(abs);
    const missing = await f.runner.run();
    expect(missing.status).toBe('failed');
    expect(missing.error?.message).toMatch(/No files found|does not exist|No such file/i);
    writeFileSync(abs, good);
    const ok = await f.runner.run();
    expect(ok.status, ok.error?.message).toBe('success');
    expect(await rows(f, 'SELECT id FROM silver.ticks ORDER BY ts')).toEqual([{ id: 'c1' }, { id: 'c2' }]);
  });

  it('refuses a model cycle, an unknown ref, an unknown template call and bad YAML, naming each', async () => {
    const models = copyModels();
    writeFileSync(join(models, 'gold', 'a_loop.sql'), "SELECT * FROM {{ ref('b_loop') }}");
    writeFileSync(join(models, 'gold', 'b_loop.sql'), "SELECT * FROM {{ ref('a_loop') }}");
    await expect(loadModelProject(models)).rejects.toThrow(/cycle: gold\.a_loop → gold\.b_loop → gold\.a_loop/);
    rmSync(join(models, 'gold', 'b_loop.sql'));
    writeFileSync(join(models, 'gold', 'a_loop.sql'), "SELECT * FROM {{ ref('nope') }} JOIN {{ macro('x') }}");
    writeFileSync(join(models, 'gold', 'c.yml'), 'materialized: sometimes\n');
    writeFileSync(join(models, 'gold', 'c.sql'), 'SELECT 1 AS x');
    const err = await loadModelProject(models).catch((e: unknown) => e as StockStreamError);
    expect(err).toBeInstanceOf(StockStreamError);
    expect((err as StockStreamError).code).toBe('SS_MODEL_INVALID');
    const msg = (err as StockStreamError).message;
    expect(msg, 'all problems at once').toMatch(/{{ macro\('x'\) }} is not understood/);
    expect(msg).toMatch(/gold\/c\.yml: materialized: Invalid option/);
    const onlyRef = copyModels();
    writeFileSync(join(onlyRef, 'gold', 'a_loop.sql'), "SELECT * FROM {{ ref('nope') }}");
    await expect(loadModelProject(onlyRef)).rejects.toThrow(/gold\.a_loop: ref\('nope'\) names no model/);
  });

  it('selects models like dbt: name, name+, +name and layers', async () => {
    const p = await loadModelProject(MODELS_DIR);
    expect(selectModels(p, 'ohlc_daily').map((m) => m.id)).toEqual(['gold.ohlc_daily']);
    expect(selectModels(p, 'gold.ohlc_daily+').map((m) => m.id).sort()).toEqual(['gold.indicators_daily', 'gold.kpi_latest', 'gold.market_treemap', 'gold.ohlc_daily', 'gold.candle_patterns', 'gold.data_quality'].sort().filter((x) => x !== 'gold.data_quality'));
    expect(selectModels(p, '+ohlc_1m').map((m) => m.id)).toEqual(['bronze.ticks', 'silver.ticks', 'gold.ohlc_1m']);
    expect(selectModels(p, 'silver').map((m) => m.id)).toEqual(['silver.ticks']);
    expect(() => selectModels(p, 'nope')).toThrow(/No model named nope/);
  });

  it('finds failing rows with the declared tests', async () => {
    const f = await openLake({ now: OPEN + 86_400_000 });
    fixtures.push(f);
    await f.land([t('AAPL', OPEN, 'u1', 190), t('ZZZ', OPEN, 'u2', 5)]);
    expect((await f.runner.run()).status).toBe('success');
    const results = await runModelTests(f.lake, f.runner.project, selectModels(f.runner.project, 'silver'));
    const rel = results.find((r) => r.test.startsWith('relationships(symbol'));
    expect(rel?.status, 'ZZZ is not an instrument').toBe('fail');
    expect(rel?.failures).toBe(1);
    expect(rel?.sample[0]?.symbol).toBe('ZZZ');
    expect(results.filter((r) => r.status === 'fail').length).toBe(1);
  });

  it('keeps table models whole, rebuilds consumers of a model rebuilt whole, and moves watermarks only when silver has read the ticks', async () => {
    const models = copyModels();
    // A user's table model over the raw ticks: every run must count all of them, not the last batch.
    writeFileSync(join(models, 'gold', 'tick_count.sql'), "SELECT symbol, count(*) AS n FROM {{ source('ticks') }} GROUP BY symbol");
    const f = await openLake({ now: OPEN + 86_400_000, modelsDir: models });
    fixtures.push(f);
    await f.land([t('AAPL', OPEN, 'w1', 190), t('AAPL', OPEN + 1000, 'w2', 190, 11), t('AAPL', OPEN + 1000, 'w2', 190, 11)]);
    expect((await f.runner.run()).status).toBe('success');
    await f.land([t('AAPL', OPEN + 2000, 'w3', 191)]);
    expect((await f.runner.run()).status).toBe('success');
    expect(await rows(f, 'SELECT n FROM gold.tick_count'), 'a table model reads all its input every run').toEqual([{ n: 4 }]);
    const dq = async (): Promise<unknown> => rows(f, "SELECT \"check\", value FROM gold.data_quality WHERE symbol = 'AAPL' AND value > 0 ORDER BY ALL");
    const before = await dq();
    expect(before).toEqual([{ check: 'duplicates', value: 1 }]);

    // Rebuild silver alone, then run incrementally: data_quality must rebuild, not add silver's rows again.
    expect((await f.runner.run({ models: selectModels(f.runner.project, 'silver'), fullRefresh: true })).status).toBe('success');
    const next = await f.runner.run();
    expect(next.status).toBe('success');
    expect(await dq(), 'counts are not doubled after an upstream rebuild').toEqual(before);

    // A run of gold alone must not move the watermarks past ticks silver has not read.
    await f.land([t('AAPL', OPEN + 10 * 60_000, 'w4', 191)]);
    const wm = await rows(f, 'SELECT last_event_ts FROM meta.watermarks');
    expect((await f.runner.run({ models: selectModels(f.runner.project, 'gold') })).status).not.toBe('failed');
    expect(await rows(f, 'SELECT last_event_ts FROM meta.watermarks'), 'unchanged while silver lags').toEqual(wm);
    expect((await f.runner.run()).status).toBe('success');
    expect(await rows(f, "SELECT is_late FROM silver.ticks WHERE id = 'w4'"), 'so w4, the newest event, is not late').toEqual([{ is_late: false }]);
    expect(await rows(f, 'SELECT last_event_ts FROM meta.watermarks')).toEqual([{ last_event_ts: OPEN + 10 * 60_000 }]);
  });

  it('never hands out a catalog sequence number again, even after compaction deleted the newest rows', async () => {
    const f = await openLake({ now: OPEN + 5 * 86_400_000 });
    fixtures.push(f);
    for (let i = 0; i < 3; i++) await f.land([t('AAPL', OPEN + i * 1000, `s${i}`, 190)]);
    expect((await f.runner.run()).status).toBe('success');
    const [{ top } = { top: 0 }] = (await rows(f, 'SELECT max(seq) AS top FROM meta.lake_files')) as { top: number }[];
    await maintainLake(f.lake, { before: '2025-03-12', bronzeRetentionDays: 0, silverRetentionDays: 0, now: OPEN + 5 * 86_400_000 });
    expect(await rows(f, 'SELECT max(seq) AS top FROM meta.lake_files'), 'the compacted file is catalogued as seq 0').toEqual([{ top: 0 }]);
    // Reopen the database (a restart) and land a new file: it must be numbered past every earlier one.
    await f.lake.close();
    f.lake = await LakeDatabase.open({ lakeDir: join(f.dir, 'lake'), file: join(f.dir, 'lake', 'lake.duckdb'), threads: 1 });
    await f.lake.registerFiles([{ layer: 'bronze', table: 'ticks', path: 'bronze/ticks/date=2025-03-11/symbol=AAPL/new.parquet', date: '2025-03-11', symbol: 'AAPL', topic: 'ticks', partition: 0, firstOffset: 9, lastOffset: 9, rows: 1, minTs: OPEN, maxTs: OPEN }]);
    expect(Number((await rows(f, "SELECT seq FROM meta.lake_files WHERE path LIKE '%new.parquet'"))[0]?.seq)).toBeGreaterThan(top);
  });

  it('a full read leaves out bronze files catalogued after the run took its snapshot', async () => {
    const f = await openLake({ now: OPEN + 86_400_000 });
    fixtures.push(f);
    await f.land([t('AAPL', OPEN, 'early', 190)]);
    const [{ snap } = { snap: 0 }] = (await rows(f, 'SELECT max(seq) AS snap FROM meta.lake_files')) as { snap: number }[];
    await f.land([t('AAPL', OPEN + 1000, 'later', 191)]);
    const m = f.runner.project.get('silver.ticks');
    // A run whose snapshot came before the second file: it must not read that file.
    const plan = new RunPlan(f.runner, [m], { fullRefresh: true, runId: 1, maxSeq: Number(snap), state: new Map(), cursors: new Map(), existing: new Set() });
    const conn = await f.lake.connect();
    try {
      const sql = await f.runner.render(conn, m, plan, null);
      const ids = (await conn.runAndReadAll(`SELECT id FROM (${sql})`)).getRowObjectsJS().map((r) => r.id);
      expect(ids, 'only the file inside the snapshot').toEqual(['early']);
    } finally {
      conn.closeSync();
    }
  });

  it('kpi_latest takes the reference close before the first day, then the previous day of gold', async () => {
    const f = await openLake({ now: OPEN + 5 * 86_400_000, previousCloses: new Map([['AAPL', 200]]) });
    fixtures.push(f);
    await f.land([t('AAPL', OPEN, 'k1', 190)]);
    expect((await f.runner.run()).status).toBe('success');
    expect(await rows(f, 'SELECT prev_close, change, change_pct FROM gold.kpi_latest'), 'first day: against the reference close').toEqual([{ prev_close: 200, change: -10, change_pct: -5 }]);
    await f.land([t('AAPL', OPEN + 86_400_000, 'k2', 209)]);
    expect((await f.runner.run()).status).toBe('success');
    expect(await rows(f, 'SELECT prev_close, change FROM gold.kpi_latest'), 'next day: against the first day’s close').toEqual([{ prev_close: 190, change: 19 }]);
    expect(await rows(f, 'SELECT round(change_pct, 6) AS pct FROM gold.market_treemap'), 'the treemap is coloured from the first day').toEqual([{ pct: 10 }]);
  });
});
