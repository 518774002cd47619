import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../../src/apps/index.js';
import { loadConfig } from '../../src/shared/config/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { CLI, requireBuild } from '../integration/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'ss-lake-cli-'));
const data = join(work, 'data');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Without blocking this process: the platform under test runs in it and must answer the CLI. */
function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args, '--data-dir', data], { encoding: 'utf8', cwd: work, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  requireBuild();
  const r = spawnSync(process.execPath, [CLI, ...args, '--data-dir', data], { encoding: 'utf8', cwd: work, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // A recorded session: 600 trades of two US symbols in a regular NASDAQ session, and a bad line.
  const t0 = Date.parse('2025-03-11T13:30:00Z');
  const lines = Array.from({ length: 600 }, (_, i) => JSON.stringify({ kind: 'trade', symbol: i % 2 === 0 ? 'AAPL' : 'MSFT', ts: t0 + i * 1000, source: 'rec', id: `c${i}`, price: 100 + (i % 10), size: 1 + (i % 5) }));
  lines.push('{"kind":"trade","symbol":"AAPL","price":"x"}');
  writeFileSync(join(work, 'day.ndjson'), `${lines.join('\n')}\n`);
});

describe('stockstream backfill, sql, models and jobs', () => {
  it('backfills a recorded day, then answers SQL as a table, CSV and JSON, runs and tests the models, and lists jobs', () => {
    const b = run(['backfill', join(work, 'day.ndjson')]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/Ingested 600 events, 1 rejected/);
    expect(b.stdout).toMatch(/Models: run 1 success/);
    expect(b.stderr, 'the progress bar is on stderr').toMatch(/100% \| 601\/601 rows/);

    const q = 'SELECT symbol, count(*) AS bars, sum(trades) AS trades FROM gold.ohlc_1m GROUP BY symbol ORDER BY symbol';
    const table = run(['sql', q]);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout.split('\n').slice(0, 4)).toEqual(['symbol  bars  trades', '──────  ────  ──────', 'AAPL      10     300', 'MSFT      10     300']);
    expect(run(['sql', q, '--format', 'csv']).stdout).toBe('symbol,bars,trades\r\nAAPL,10,300\r\nMSFT,10,300\n');
    expect(JSON.parse(run(['sql', q, '--format', 'json']).stdout)).toEqual([
      { symbol: 'AAPL', bars: 10, trades: 300 },
      { symbol: 'MSFT', bars: 10, trades: 300 },
    ]);
    expect(JSON.parse(run(['sql', 'SELECT rule, field FROM bronze.rejects', '--format', 'json']).stdout), 'the bad line is a dead letter with its rule').toEqual([{ rule: 'missing', field: 'ts' }]);

    const refused = run(['sql', 'DELETE FROM gold.ohlc_1m']);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^stockstream: Refused: DELETE is not a read query\..*\[SS_SQL_READONLY\]$/);
    const bad = run(['sql', 'SELECT nope FROM gold.ohlc_1m']);
    expect(bad.status).toBe(2);
    expect(bad.stderr, "DuckDB's own message, with the line and a caret").toMatch(/Referenced column "nope" not found.*LINE 1:.*\[SS_SQL_INVALID\]/s);

    const models = run(['models', 'run', '--select', 'gold.ohlc_daily+']);
    expect(models.status, models.stderr).toBe(0);
    expect(models.stdout).toMatch(/run \d+: skipped/);
    const full = run(['models', 'run', '--select', 'gold.ohlc_daily+', '--full-refresh']);
    expect(full.stdout).toMatch(/success\s+gold\.ohlc_daily\s+2 rows/);
    const tests = run(['models', 'test']);
    expect(tests.status, tests.stdout).toBe(0);
    expect(tests.stdout).toMatch(/^(\d+) of \1 tests passed$/m);
    const unknown = run(['models', 'run', '--select', 'nope']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/No model named nope; models are bronze\.rejects/);

    const jobs = run(['jobs', 'list']);
    expect(jobs.stdout).toMatch(/^lake\.incremental\s+\* \* \* \* \*\s+never ran/m);
    const once = run(['jobs', 'run', 'lake.incremental']);
    expect(once.status, once.stderr).toBe(0);
    expect(once.stdout).toMatch(/lake\.incremental .* manual\s+skipped/);
    expect(run(['jobs', 'runs']).stdout).toMatch(/lake\.incremental .* manual\s+skipped .* no new data/);
    expect(run(['jobs', 'run', 'nope']).stderr).toMatch(/no job named "nope"/);
  }, 120_000);

  it('uses a running platform through its API instead of opening the locked lake', async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir: data, port: 0, source: 'replay', 'lake.jobs.enabled': false } });
    const platform = await Platform.start({ config, logger: createLogger('silent'), acceptHistory: true });
    try {
      const r = await runAsync(['sql', 'SELECT count(*) AS n FROM silver.ticks', '--format', 'json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout), 'the running platform answered (the lake file is locked by it)').toEqual([{ n: 600 }]);
      const m = await runAsync(['models', 'test', '--select', 'silver']);
      expect(m.status, m.stdout).toBe(0);
    } finally {
      await platform.close();
    }
  }, 60_000);
});
