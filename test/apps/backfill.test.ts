import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backfillFiles, backfillFromLog, countRecords, openLocalLakehouse } from '../../src/apps/index.js';
import { loadConfig } from '../../src/shared/config/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { mulberry32, testSeed } from '../fixtures/random.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A recorded session: `n` trades of three US symbols on 2025-03-11 from 13:30Z, one a second each, plus two bad lines. */
function recordedDay(dir: string, seed: number, n: number): string {
  const rand = mulberry32(seed);
  const t0 = Date.parse('2025-03-11T13:30:00Z');
  const lines: string[] = [];
  const symbols = ['AAPL', 'MSFT', 'NVDA'];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ kind: 'trade', symbol: symbols[i % 3], ts: t0 + Math.floor(i / 3) * 1000, source: 'rec', id: `r${i}`, price: Math.round((100 + rand() * 10) * 100) / 100, size: 1 + Math.floor(rand() * 100) }));
  }
  lines.splice(100, 0, '{"kind":"trade","symbol":"AAPL"', JSON.stringify({ kind: 'trade', symbol: 'AAPL', ts: t0, source: 'rec', id: 'neg', price: -5, size: 1 }));
  const file = join(dir, 'day.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('backfillFiles', () => {
  it('rebuilds bronze to gold from a recorded file; an interrupted backfill resumes without doubling anything', async () => {
    const seed = testSeed(311);
    const dir = mkdtempSync(join(tmpdir(), 'ss-backfill-'));
    dirs.push(dir);
    const n = 12_000;
    const file = recordedDay(dir, seed, n);
    expect(await countRecords(file)).toBe(n + 2);
    const config = loadConfig({ env: {}, overrides: { dataDir: join(dir, 'data'), source: 'replay', 'ingest.unknownSymbols': 'accept' } });
    const logger = createLogger('silent');

    const abort = new AbortController();
    const seen: number[] = [];
    const first = await backfillFiles(config, [file], {
      logger,
      signal: abort.signal,
      progressEveryMs: 5,
      onProgress: (p) => {
        seen.push(p.done);
        expect(p.total).toBe(n + 2);
        if (p.done >= 4_000) abort.abort();
      },
    });
    expect(first.models, 'an interrupted backfill does not run the models').toBeNull();
    expect(seen.at(-1), `seed ${seed}: stopped part way`).toBeLessThan(n);

    const progress: number[] = [];
    const second = await backfillFiles(config, [file], { logger, onProgress: (p) => progress.push(p.done) });
    expect(second.files[0]?.resumedAt, 'the second run resumes after what the first made durable').toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(n + 2);
    expect(second.models?.status, second.models?.error?.message).toBe('success');

    const lake = await openLocalLakehouse(config);
    try {
      const one = async (sql: string): Promise<unknown> => (await lake.sql.query(sql)).rows[0]?.[0];
      expect(await one('SELECT count(*) FROM bronze.ticks'), `seed ${seed}: every event lands in bronze exactly once`).toBe(n);
      expect(await one('SELECT count(DISTINCT id) FROM bronze.ticks')).toBe(n);
      expect(await one('SELECT count(*) FROM bronze.rejects'), 'both bad lines are dead letters').toBe(2);
      expect(await one('SELECT count(*) FROM silver.ticks')).toBe(n);
      expect(await one('SELECT sum(trades) FROM gold.ohlc_1m'), 'every trade is in a one-minute bar').toBe(n);
      expect(await one('SELECT count(*) FROM gold.ohlc_daily')).toBe(3);
      expect(await one("SELECT value FROM gold.data_quality WHERE \"check\" = 'duplicates' AND symbol = 'AAPL'")).toBe(0);
      // Gold is in the lake as Parquet too, for other engines.
      expect(await one(`SELECT sum(trades) FROM read_parquet('${join(dir, 'data', 'lake', 'gold', 'ohlc_daily', 'ohlc_daily.parquet')}')`)).toBe(n);
    } finally {
      await lake.close();
    }

    // A third run has nothing to do and changes nothing.
    const third = await backfillFiles(config, [file], { logger });
    expect(third.accepted).toBe(0);
    expect(third.models?.status).toBe('skipped');
  }, 60_000);

  it('rebuilds a range of bronze dates from the log and every model, after files were lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-backfill-log-'));
    dirs.push(dir);
    const file = recordedDay(dir, 5, 3_000);
    const config = loadConfig({ env: {}, overrides: { dataDir: join(dir, 'data'), source: 'replay', 'ingest.unknownSymbols': 'accept' } });
    const logger = createLogger('silent');
    await backfillFiles(config, [file], { logger });
    const read = async (sql: string): Promise<unknown> => {
      const lake = await openLocalLakehouse(config);
      try {
        return (await lake.sql.query(sql)).rows;
      } finally {
        await lake.close();
      }
    };
    const before = await read('SELECT symbol, open, high, low, close, volume, trades FROM gold.ohlc_daily ORDER BY symbol');
    // Lose the whole date: every bronze file of 2025-03-11.
    rmSync(join(dir, 'data', 'lake', 'bronze', 'ticks', 'date=2025-03-11'), { recursive: true });
    const progress: number[] = [];
    const r = await backfillFromLog(config, { from: '2025-03-11', to: '2025-03-11' }, { logger, onProgress: (p) => progress.push(p.done) });
    expect(r.datesRebuilt).toEqual(['2025-03-11']);
    expect(r.models?.status).toBe('success');
    expect(r.models?.fullRefresh).toBe(true);
    expect(progress.at(-1)).toBe(3_002);
    expect(await read('SELECT count(*), count(DISTINCT id) FROM bronze.ticks'), 'bronze is whole again, each event once').toEqual([[3_000, 3_000]]);
    expect(await read('SELECT symbol, open, high, low, close, volume, trades FROM gold.ohlc_daily ORDER BY symbol'), 'gold is rebuilt the same').toEqual(before);
    await expect(backfillFromLog(config, { from: '2025-03-12', to: '2025-03-11' }, { logger })).rejects.toThrow(/--from 2025-03-12 is after --to 2025-03-11/);
    await expect(backfillFromLog(config, { from: 'yesterday', to: '2025-03-11' }, { logger })).rejects.toThrow(/--from: expected a UTC date YYYY-MM-DD, got "yesterday"/);
  }, 60_000);
});
