import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Candle, Kpi } from '../../../../src/domain/index.js';
import { LakeDatabase } from '../../../../src/lakehouse/index.js';
import { Journal } from '../../../../src/log/index.js';
import { CandleWarehouse } from '../../../../src/stores/index.js';
import { PgWarehouse, type WarehouseAlert } from '../../../../src/stores/warehouse/postgres/index.js';
import { candle } from '../../../fixtures/candles.js';
import { mulberry32, testSeed } from '../../../fixtures/random.js';
import { postgresMissing, tempDatabase } from '../../../fixtures/postgres.js';

const missing = await postgresMissing();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function warehouse(url?: string): Promise<PgWarehouse> {
  let target = url;
  if (target === undefined) {
    const db = await tempDatabase();
    cleanups.push(() => db.drop());
    target = db.url;
  }
  const w = await PgWarehouse.open({ url: target, poolSize: 3 });
  cleanups.push(() => w.close());
  return w;
}

const JAN31 = Date.UTC(2024, 0, 31, 23, 58);

function at(symbol: string, start: number, over: Partial<Candle> = {}): Candle {
  return { ...candle(symbol, '1m', 0), start, end: start + 60_000, ...over };
}

function kpi(symbol: string, ts: number, last: number): Kpi {
  return { symbol, last, change: last - 100, changePct: last - 100, open: 100, high: last + 1, low: 99, volume: 5000, vwap: 100.5, prevClose: symbol === 'NEW' ? null : 100, tradesPerSec: 2.5, ts };
}

describe.skipIf(missing !== null)(`PgWarehouse against PostgreSQL${missing === null ? '' : ` (${missing})`}`, () => {
  it('creates the monthly partitions rows land in, across a month boundary, for candles, indicators and alerts', async () => {
    const w = await warehouse();
    const starts = [JAN31, JAN31 + 60_000, JAN31 + 120_000, JAN31 + 180_000];
    await w.write({
      candles: starts.map((s) => at('AAPL', s)),
      indicatorValues: starts.map((s) => ({ symbol: 'AAPL', interval: '1m' as const, start: s, spec: 'sma:2', output: 'value', value: 1 })),
      alerts: [{ id: 'a1', ts: JAN31, symbol: 'AAPL', rule: 'r', severity: 'info', message: 'm', payload: {} }],
    });
    const placed = await w.pool.query<{ part: string; n: number }>(`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM serving.candles GROUP BY 1 ORDER BY 1`);
    expect(placed.rows, 'two minutes before midnight UTC land in January, two after in February').toEqual([
      { part: 'serving.candles_202401', n: 2 },
      { part: 'serving.candles_202402', n: 2 },
    ]);
    const parts = await w.pool.query<{ parent: string; child: string }>(
      `SELECT p.relname AS parent, c.relname AS child FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = 'serving' AND c.relkind = 'r' ORDER BY 1, 2`,
    );
    expect(parts.rows, 'exactly the months needed, no DEFAULT partition').toEqual([
      { parent: 'alerts', child: 'alerts_202401' },
      { parent: 'candles', child: 'candles_202401' },
      { parent: 'candles', child: 'candles_202402' },
      { parent: 'indicators', child: 'indicators_202401' },
      { parent: 'indicators', child: 'indicators_202402' },
    ]);
    const bounds = await w.pool.query<{ b: string }>(`SELECT pg_get_expr(relpartbound, oid) AS b FROM pg_class WHERE relname = 'candles_202402'`);
    expect(bounds.rows[0]?.b, 'a partition spans one UTC month').toBe("FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00')");
  });

  it('lets concurrent writers in other processes create the same new months without failing', async () => {
    const first = await warehouse();
    const url = first.pool.options.connectionString as string;
    const others = await Promise.all([warehouse(url), warehouse(url), warehouse(url)]);
    const all = [first, ...others];
    for (let month = 0; month < 6; month++) {
      const start = Date.UTC(2023, month, 15);
      // Each warehouse has its own partition cache and pool: like four processes reaching a new month at once.
      await Promise.all(all.map((w, i) => w.write({ candles: [at(`S${i}`, start)] })));
    }
    const n = await first.pool.query<{ n: number; parts: number }>(`SELECT count(*)::int AS n, count(DISTINCT tableoid)::int AS parts FROM serving.candles`);
    expect(n.rows[0], 'every write landed, one partition per month').toEqual({ n: 24, parts: 6 });
  });

  it('keeps the highest revision of a candle: an older one replayed later changes nothing, an equal one overwrites', async () => {
    const w = await warehouse();
    const t = JAN31 - 86_400_000;
    await w.write({ candles: [at('AAPL', t, { close: 100, rev: 0 })] });
    await w.write({ candles: [at('AAPL', t, { close: 102, rev: 2 })] });
    await w.write({ candles: [at('AAPL', t, { close: 101, rev: 1 })] });
    expect((await w.candles('AAPL', '1m'))[0], 'rev 1 replayed after rev 2 does not overwrite it').toEqual(at('AAPL', t, { close: 102, rev: 2 }));
    await w.write({ candles: [at('AAPL', t, { close: 103, rev: 2 })] });
    expect((await w.candles('AAPL', '1m'))[0]?.close, 'an equal revision overwrites (a replay rewrites the same row)').toBe(103);
    await w.write({ candles: [at('AAPL', t, { close: 105, rev: 4 }), at('AAPL', t, { close: 104, rev: 3 })] });
    expect((await w.candles('AAPL', '1m'))[0], 'within one batch too, the highest revision wins whatever the order').toEqual(at('AAPL', t, { close: 105, rev: 4 }));
    const exact = at('AAPL', t + 60_000, { open: 0.1 + 0.2, close: 1 / 3, vwap: 123456.789012345, volume: 5e-324, trades: 2 ** 40, rev: 7 });
    await w.write({ candles: [exact] });
    expect((await w.candles('AAPL', '1m'))[1], 'doubles, int8 and times round-trip to the bit').toEqual(exact);
  });

  it('answers candles() exactly as the embedded CandleWarehouse does, for random ranges and limits', async () => {
    const seed = testSeed(20_240_401);
    const rand = mulberry32(seed);
    const w = await warehouse();
    const dir = mkdtempSync(join(tmpdir(), 'ss-pg-vs-duck-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = await Journal.open({ dir: join(dir, 'journal'), fsync: 'never', retentionCheckMs: 0 });
    cleanups.push(() => log.close());
    await log.ensureTopic('candles.1m', { partitions: 1 });
    const lake = await LakeDatabase.open({ lakeDir: join(dir, 'lake'), file: join(dir, 'lake', 'lake.duckdb'), threads: 1 });
    cleanups.push(() => lake.close());
    const duck = await CandleWarehouse.open({ log, connect: () => lake.connect(), topics: [{ interval: '1m', topic: 'candles.1m' }] });
    cleanups.push(() => duck.stop());
    // Gaps between candles, two symbols, a revision: the same records into both warehouses.
    const candles: Candle[] = [];
    for (const symbol of ['AAPL', 'MSFT']) {
      let i = 0;
      for (let k = 0; k < 60; k++) {
        i += 1 + Math.floor(rand() * 3);
        candles.push(candle(symbol, '1m', i, { close: 100 + rand() }));
      }
    }
    candles.push({ ...(candles[10] as Candle), close: 1, rev: 1 });
    await log.append('candles.1m', candles.map((c) => ({ key: c.symbol, value: Buffer.from(JSON.stringify(c)), timestamp: c.start })));
    await duck.drain();
    await duck.flush();
    await w.write({ candles });
    const first = (candles[0] as Candle).start;
    const last = (candles[59] as Candle).start;
    for (let q = 0; q < 40; q++) {
      const query: { from?: number; to?: number; limit?: number } = {};
      if (rand() < 0.6) query.from = first - 120_000 + Math.floor(rand() * (last - first + 240_000));
      if (rand() < 0.6) query.to = (query.from ?? first) + Math.floor(rand() * (last - first));
      if (rand() < 0.5) query.limit = Math.floor(rand() * 30);
      const symbol = rand() < 0.9 ? 'AAPL' : 'NONE';
      expect(await w.candles(symbol, '1m', query), `seed ${seed}: candles(${symbol}, ${JSON.stringify(query)}) must equal CandleWarehouse's answer`).toEqual(await duck.candles(symbol, '1m', query));
    }
  });

  it('keeps the newest KPI per symbol and serves them by symbol', async () => {
    const w = await warehouse();
    const t = Date.UTC(2024, 5, 3, 14, 30);
    await w.write({ kpis: [kpi('MSFT', t, 101), kpi('AAPL', t + 1000, 105), kpi('AAPL', t, 104)] });
    await w.write({ kpis: [kpi('MSFT', t - 1, 90), kpi('NEW', t, 50)] });
    await w.write({ kpis: [kpi('AAPL', t + 1000, 106)] });
    expect(await w.kpis(), 'AAPL keeps its newest ts (an equal ts overwrites), MSFT ignores an older update, NEW has no previous close').toEqual([kpi('AAPL', t + 1000, 106), kpi('MSFT', t, 101), kpi('NEW', t, 50)]);
  });

  it('inserts alerts once per (id, ts) and queries them newest first with filters', async () => {
    const w = await warehouse();
    const t = Date.UTC(2024, 2, 31, 23, 59, 59);
    const alerts: WarehouseAlert[] = [
      { id: 'a', ts: t, symbol: 'AAPL', rule: 'price_above', severity: 'warning', message: 'AAPL above 200', payload: { threshold: 200, price: 201.5 } },
      { id: 'b', ts: t + 2000, symbol: 'MSFT', rule: 'volume_spike', severity: 'info', message: 'MSFT volume x3', payload: {} },
      { id: 'c', ts: t + 5000, symbol: 'AAPL', rule: 'volume_spike', severity: 'critical', message: "AAPL 'halt'", payload: { nested: { ok: true } } },
    ];
    await w.write({ alerts });
    await w.write({ alerts: [{ ...alerts[0]!, message: 'changed' }] });
    expect(await w.alerts(), 'newest first; re-inserting (id, ts) changed nothing').toEqual([alerts[2], alerts[1], alerts[0]]);
    expect(await w.alerts({ symbol: 'AAPL' }), 'by symbol').toEqual([alerts[2], alerts[0]]);
    expect(await w.alerts({ rule: 'volume_spike', severity: 'info' }), 'by rule and severity').toEqual([alerts[1]]);
    expect(await w.alerts({ from: t + 1, to: t + 5000, limit: 1 }), 'time range inclusive, newest first, limited').toEqual([alerts[2]]);
    const parts = await w.pool.query<{ p: string }>('SELECT DISTINCT tableoid::regclass::text AS p FROM serving.alerts ORDER BY 1');
    expect(parts.rows.map((r) => r.p), 'a second before midnight in March, the others in April').toEqual(['serving.alerts_202403', 'serving.alerts_202404']);
  });

  it('serves stored indicator values in the live store shape, newest `limit` candles oldest first', async () => {
    const w = await warehouse();
    const c = (i: number) => candle('AAPL', '1m', i);
    const values = [0, 1, 2, 3].flatMap((i) => [
      { symbol: 'AAPL', interval: '1m' as const, start: c(i).start, spec: 'sma:2', output: 'value', value: i === 0 ? null : i + 0.5 },
      ...['macd', 'signal', 'histogram'].map((output, j) => ({ symbol: 'AAPL', interval: '1m' as const, start: c(i).start, spec: 'macd:2:3:2', output, value: i < 2 ? null : i * 10 + j })),
    ]);
    await w.write({ indicatorValues: values });
    const all = await w.indicators('AAPL', '1m', ['sma:2', 'macd:2:3:2', 'rsi:14']);
    expect(all['sma:2'], 'single-output values as {start, value}, null in warm-up').toEqual([0, 1, 2, 3].map((i) => ({ start: c(i).start, value: i === 0 ? null : i + 0.5 })));
    expect(all['rsi:14'], 'a spec without stored values is an empty list').toEqual([]);
    const last2 = await w.indicators('AAPL', '1m', ['macd:2:3:2'], { to: c(2).start, limit: 2 });
    expect(last2, 'multi-output values one key per output; the newest two up to `to`').toEqual({
      'macd:2:3:2': [
        { start: c(1).start, macd: null, signal: null, histogram: null },
        { start: c(2).start, macd: 20, signal: 21, histogram: 22 },
      ],
    });
  });
});
