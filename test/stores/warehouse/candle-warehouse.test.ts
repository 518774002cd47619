import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../../src/api/index.js';
import { LakeDatabase } from '../../../src/lakehouse/index.js';
import { Journal } from '../../../src/log/index.js';
import { CandleWarehouse, LiveStore } from '../../../src/stores/index.js';
import { deps } from '../../api/fixtures.js';
import { candle } from '../../fixtures/candles.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(): Promise<{ log: Journal; lake: LakeDatabase; open: () => Promise<CandleWarehouse> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-warehouse-'));
  dirs.push(dir);
  const log = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
  await log.ensureTopic('candles.1m', { partitions: 2 });
  const lake = await LakeDatabase.open({ lakeDir: join(dir, 'lake'), file: join(dir, 'lake', 'lake.duckdb'), threads: 1 });
  const open = () => CandleWarehouse.open({ log, connect: () => lake.connect(), topics: [{ interval: '1m', topic: 'candles.1m' }] });
  return { log, lake, open };
}

const rec = (c: ReturnType<typeof candle>) => ({ key: c.symbol, value: Buffer.from(JSON.stringify(c)), timestamp: c.start });

describe('CandleWarehouse', () => {
  it('upserts final candles by (symbol, interval, start): a revision replaces its candle, a restart doubles nothing', async () => {
    const { log, lake, open } = await setup();
    const w = await open();
    await log.append('candles.1m', Array.from({ length: 50 }, (_, i) => rec(candle('AAPL', '1m', i))));
    await log.append('candles.1m', [rec(candle('AAPL', '1m', 10, { close: 999, rev: 1 }))]);
    await w.drain();
    await w.flush();
    const all = await w.candles('AAPL', '1m');
    expect(all.length, 'one row per candle').toBe(50);
    expect(all[10], 'the revision replaced the first version').toEqual(candle('AAPL', '1m', 10, { close: 999, rev: 1 }));
    expect(all.map((c) => c.start)).toEqual(Array.from({ length: 50 }, (_, i) => candle('AAPL', '1m', i).start));
    expect(await w.candles('AAPL', '1m', { to: candle('AAPL', '1m', 19).start, limit: 5 }), 'newest five up to `to`, oldest first').toEqual([15, 16, 17, 18, 19].map((i) => candle('AAPL', '1m', i)));
    await w.stop();
    // A new consumer in the same group resumes after the committed offsets; replaying them again would be harmless too.
    await log.append('candles.1m', [rec(candle('AAPL', '1m', 50))]);
    const again = await open();
    await again.drain();
    await again.flush();
    expect((await again.candles('AAPL', '1m')).length).toBe(51);
    await again.stop();
    await lake.close();
    await log.close();
  });

  it('serves GET /api/candles from the ring, and from history beyond it', async () => {
    const { log, lake, open } = await setup();
    const w = await open();
    await log.append('candles.1m', Array.from({ length: 30 }, (_, i) => rec(candle('AAPL', '1m', i))));
    await w.drain();
    await w.flush();
    const store = new LiveStore({ depths: { '1m': 5 } });
    store.setInstruments([{ symbol: 'AAPL', name: 'Apple', exchange: 'NASDAQ', currency: 'USD', sector: 'Tech', sharesOutstanding: 1 }]);
    store.applyCandles(Array.from({ length: 30 }, (_, i) => candle('AAPL', '1m', i)));
    const app = buildApi(deps(store, { candleHistory: (s, iv, q) => w.candles(s, iv, q) }));
    const get = async (url: string) => (await app.inject({ method: 'GET', url })).json() as { start: number }[];
    const starts = (n: number[]) => n.map((i) => candle('AAPL', '1m', i).start);
    expect((await get('/api/candles?symbol=AAPL&interval=1m&limit=3')).map((c) => c.start), 'the ring answers what it holds').toEqual(starts([27, 28, 29]));
    expect((await get('/api/candles?symbol=AAPL&interval=1m&limit=12')).map((c) => c.start), 'older candles come from the warehouse, in order, no overlap').toEqual(starts([18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]));
    expect((await get(`/api/candles?symbol=AAPL&interval=1m&from=${candle('AAPL', '1m', 2).start}&to=${candle('AAPL', '1m', 4).start}`)).map((c) => c.start), 'a range wholly in the past').toEqual(starts([2, 3, 4]));
    await app.close();
    await w.stop();
    await lake.close();
    await log.close();
  });
});
