import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { maintainLake, SqlQueryService } from '../../../src/lakehouse/index.js';
import { openLake, type LakeFixture } from '../models/lake-fixture.js';

const fixtures: LakeFixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close();
});

const D1 = Date.parse('2025-03-11T14:00:00Z');
const NOW = Date.parse('2025-03-14T12:00:00Z');

async function one(f: LakeFixture, sql: string): Promise<unknown> {
  return (await new SqlQueryService(f.lake).query(sql)).rows[0]?.[0];
}

function parquetFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.endsWith('.parquet')).sort();
}

async function landDays(f: LakeFixture): Promise<void> {
  // Five flushes a day on two days: five small files per (date, symbol).
  for (let batch = 0; batch < 5; batch++) {
    const input: unknown[] = [];
    for (const [day, sym] of [
      [0, 'AAPL'],
      [0, 'MSFT'],
      [1, 'AAPL'],
    ] as const) {
      for (let i = 0; i < 20; i++) input.push({ kind: 'trade', symbol: sym, ts: D1 + day * 86_400_000 + batch * 60_000 + i * 1000, source: 'test', id: `${day}-${sym}-${batch}-${i}`, price: 100 + i, size: 1 });
    }
    await f.land(input);
  }
}

describe('maintainLake', () => {
  it('merges each closed partition’s small files into one, after the models read them, changing no query result', async () => {
    const f = await openLake({ now: NOW });
    fixtures.push(f);
    await landDays(f);
    const before = parquetFiles(join(f.dir, 'lake', 'bronze', 'ticks'));
    expect(before.length).toBe(15);
    // Nothing is merged before the models have read the files.
    expect((await maintainLake(f.lake, { before: '2025-03-14', bronzeRetentionDays: 0, silverRetentionDays: 0, now: NOW })).compacted).toBe(0);
    expect((await f.runner.run()).status).toBe('success');
    const silverBefore = await one(f, 'SELECT count(*) FROM silver.ticks');
    const sumBefore = await one(f, 'SELECT sum(price * size + log_offset) FROM bronze.ticks');

    const r = await maintainLake(f.lake, { before: '2025-03-12', bronzeRetentionDays: 0, silverRetentionDays: 0, now: NOW });
    expect(r, 'only the closed date (the 11th) is compacted: AAPL and MSFT').toEqual({ compacted: 2, filesRemoved: 10, bronzeDatesDropped: 0, silverRowsDropped: 0 });
    const after = parquetFiles(join(f.dir, 'lake', 'bronze', 'ticks'));
    expect(after.filter((p) => p.startsWith('date=2025-03-11')).length, 'one file per partition of the 11th').toBe(2);
    expect(after.filter((p) => p.startsWith('date=2025-03-12')).length, 'the 12th is untouched').toBe(5);
    expect(await one(f, 'SELECT sum(price * size + log_offset) FROM bronze.ticks'), 'bronze reads the same rows').toBe(sumBefore);
    expect(await one(f, "SELECT count(*) FROM meta.lake_files WHERE date = DATE '2025-03-11'")).toBe(2);
    expect(await one(f, "SELECT sum(rows) FROM meta.lake_files WHERE date = DATE '2025-03-11'")).toBe(200);

    expect((await f.runner.run()).status, 'merged files are not new data').toBe('skipped');
    const full = await f.runner.run({ fullRefresh: true });
    expect(full.status).toBe('success');
    expect(await one(f, 'SELECT count(*) FROM silver.ticks'), 'a full refresh over the merged files gives the same silver').toBe(silverBefore);
    expect((await maintainLake(f.lake, { before: '2025-03-12', bronzeRetentionDays: 0, silverRetentionDays: 0, now: NOW })).compacted, 'idempotent').toBe(0);
  });

  it('finishes a compaction a crash interrupted after the merged file was in place', async () => {
    const f = await openLake({ now: NOW });
    fixtures.push(f);
    await landDays(f);
    expect((await f.runner.run()).status).toBe('success');
    await maintainLake(f.lake, { before: '2025-03-12', bronzeRetentionDays: 0, silverRetentionDays: 0, now: NOW });
    // Recreate the crash state: the intent, the merged file and the old files all present, the catalog not yet updated.
    const merged = String(await one(f, "SELECT path FROM meta.lake_files WHERE date = DATE '2025-03-11' AND symbol = 'AAPL'"));
    const oldRel = merged.replace(/[^/]+$/, 'ticks-p9-0-0.parquet');
    copyFileSync(f.lake.resolve(merged), f.lake.resolve(oldRel));
    await f.lake.run(`INSERT INTO meta.lake_files SELECT 5, layer, tbl, '${oldRel}', date, symbol, topic, log_partition, first_offset, last_offset, rows, min_ts, max_ts, added_at FROM meta.lake_files WHERE path = '${merged}'`);
    await f.lake.run(`INSERT INTO meta.compactions VALUES ('${merged}', ['${oldRel}'], 0)`);
    expect(await one(f, "SELECT count(*) FROM bronze.ticks WHERE symbol = 'AAPL' AND date = DATE '2025-03-11'"), 'the crash window: both files are read').toBe(200);
    await maintainLake(f.lake, { before: '2025-03-01', bronzeRetentionDays: 0, silverRetentionDays: 0, now: NOW });
    expect(await one(f, "SELECT count(*) FROM bronze.ticks WHERE symbol = 'AAPL' AND date = DATE '2025-03-11'"), 'recovery deletes the old file').toBe(100);
    expect(await one(f, 'SELECT count(*) FROM meta.compactions')).toBe(0);
    expect(await one(f, `SELECT count(*) FROM meta.lake_files WHERE path = '${oldRel}'`)).toBe(0);
  });

  it('drops bronze dates and silver rows past retention', async () => {
    const f = await openLake({ now: NOW });
    fixtures.push(f);
    await landDays(f);
    expect((await f.runner.run()).status).toBe('success');
    const r = await maintainLake(f.lake, { before: '2025-03-01', bronzeRetentionDays: 2, silverRetentionDays: 2, now: NOW });
    expect(r.bronzeDatesDropped, 'the 11th is older than two days before the 14th 12:00').toBe(1);
    expect(r.silverRowsDropped).toBe(200);
    expect(await one(f, 'SELECT min(date) FROM bronze.ticks')).toBe('2025-03-12');
    expect(await one(f, 'SELECT count(*) FROM silver.ticks')).toBe(100);
  });
});
