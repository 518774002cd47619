import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeDatabase, ParquetExporter } from '../../../src/lakehouse/index.js';

let dir: string;
let lake: LakeDatabase;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ss-export-'));
  lake = await LakeDatabase.open({ lakeDir: join(dir, 'lake'), file: join(dir, 'lake', 'lake.duckdb'), threads: 1 });
  await lake.run("CREATE TABLE gold.bars AS SELECT 'S' || (range % 3) AS symbol, DATE '2025-03-10' + CAST(range % 3 AS INTEGER) AS date, range AS v, CAST(1 AS BIGINT) AS _run_id FROM range(30)");
  await lake.run("CREATE TABLE gold.small AS SELECT 'AAPL' AS symbol, 1.5 AS last");
});
afterEach(async () => {
  await lake.close();
  rmSync(dir, { recursive: true, force: true });
});

const readBack = async (file: string): Promise<unknown[]> => lake.all(`SELECT * FROM read_parquet('${join(dir, 'lake', file)}') ORDER BY ALL`);

describe('ParquetExporter', () => {
  it('writes small tables whole and large ones per date, then only the dates with newer rows', async () => {
    const ex = new ParquetExporter(lake, { partitionRows: 10 });
    expect(await ex.export(['gold.bars', 'gold.small'])).toEqual({ files: 4, rows: 31 });
    expect(await readBack('gold/small/small.parquet')).toEqual([{ symbol: 'AAPL', last: 1.5 }]);
    const day = await readBack('gold/bars/date=2025-03-11/bars.parquet');
    expect(day.length, 'a date partition holds that date').toBe(10);
    expect(Object.keys(day[0] as object), 'without the run bookkeeping column').toEqual(['symbol', 'date', 'v']);
    expect((await ex.export(['gold.bars'])).files, 'nothing changed: nothing rewritten').toBe(0);
    await lake.run("UPDATE gold.bars SET v = v + 1000, _run_id = 2 WHERE date = DATE '2025-03-12'");
    expect(await ex.export(['gold.bars']), 'only the changed date').toEqual({ files: 1, rows: 10 });
    expect(((await readBack('gold/bars/date=2025-03-12/bars.parquet'))[0] as { v: bigint }).v).toBeGreaterThanOrEqual(1000n);
    expect(existsSync(join(dir, 'lake', '_export', 'date=2025-03-12-bars.parquet')), 'no staged file left behind').toBe(false);
  });

  it('with before, writes only the closed dates', async () => {
    const ex = new ParquetExporter(lake, { partitionRows: 10 });
    expect(await ex.export(['gold.bars'], { before: '2025-03-12' })).toEqual({ files: 2, rows: 20 });
    expect(existsSync(join(dir, 'lake', 'gold', 'bars', 'date=2025-03-12'))).toBe(false);
  });
});
