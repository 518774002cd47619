import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../../../src/log/index.js';
import { createLogger } from '../../../../src/shared/logger.js';
import { PgWarehouse, PgWarehouseWriter } from '../../../../src/stores/warehouse/postgres/index.js';
import { testSeed } from '../../../fixtures/random.js';
import { PrivatePostgres } from '../../../fixtures/postgres.js';
import { appendAll, CANDLE_TOPICS, committedOffsets, endOffsets, ensureTopics, expectedIndicators, INDICATORS, makeStream, sorted, storedCandles, storedIndicators, until } from './writer-fixtures.js';

/**
 * PostgreSQL restarts under a running writer (issue 4, "PostgreSQL restart: writers retry and
 * converge"). The server is a private cluster of this test (the shared one is never restarted).
 */
const PG_CTL = join(process.env['STOCKSTREAM_PG_BIN'] ?? '/usr/lib/postgresql/15/bin', 'pg_ctl');
let missing: string | null = null;
if (!existsSync(PG_CTL)) {
  missing = `skipped: no PostgreSQL 15 binaries at ${PG_CTL} (apt-get install postgresql-15, or set STOCKSTREAM_PG_BIN)`;
  if (process.env['STOCKSTREAM_REQUIRE_SERVICES'] === '1') throw new Error(`STOCKSTREAM_REQUIRE_SERVICES=1 but ${missing}`);
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(missing !== null)(`PgWarehouseWriter through PostgreSQL restarts${missing === null ? '' : ` (${missing})`}`, () => {
  it('retries with backoff while the server is down (fast shutdown, then a crash), commits nothing meanwhile, and converges to the tables of a run without outage', async () => {
    const seed = testSeed(44);
    const server = await PrivatePostgres.create();
    cleanups.push(() => server.remove());
    await server.start();
    const dir = mkdtempSync(join(tmpdir(), 'ss-pg-restart-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = await Journal.open({ dir, fsync: 'never', retentionCheckMs: 0 });
    cleanups.push(() => log.close());
    await ensureTopics(log);
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) }));
    const w = await PgWarehouse.open({ url: server.url, poolSize: 2, connectTimeoutMs: 1_000, logger });
    cleanups.push(() => w.close());
    const writer = await PgWarehouseWriter.open({ log, warehouse: w, topics: CANDLE_TOPICS, indicators: INDICATORS, flushIntervalMs: 20, retry: { initialMs: 50, maxMs: 400 }, logger });
    cleanups.push(() => writer.stop());
    writer.start();

    const stream = makeStream(seed, ['AAPL', 'MSFT', 'BTC-USD'], ['1m', '5m'], 60, Date.UTC(2024, 0, 31, 23, 30));
    const n = stream.records.length;
    const chunk = (k: number) => stream.records.slice(Math.floor((k * n) / 10), Math.floor(((k + 1) * n) / 10));
    const caughtUp = async () => JSON.stringify(await committedOffsets(log, 'warehouse.postgres')) === JSON.stringify(await endOffsets(log));

    for (let k = 0; k < 3; k++) await appendAll(log, chunk(k));
    await until('the writer caught up before the outage', caughtUp);

    for (const mode of ['fast', 'immediate'] as const) {
      const k0 = mode === 'fast' ? 3 : 6;
      await appendAll(log, chunk(k0));
      await server.stop(mode);
      await appendAll(log, chunk(k0 + 1));
      const retries = writer.stats().retries;
      await until(`failed attempts while the server is down (${mode})`, () => writer.stats().retries >= retries + 2);
      const committed = await committedOffsets(log, 'warehouse.postgres');
      expect(writer.stats().pendingRecords, `records read during the ${mode} outage stay pending`).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(await committedOffsets(log, 'warehouse.postgres'), `no offset is committed while the server is down (${mode})`).toEqual(committed);
      await server.start();
      await appendAll(log, chunk(k0 + 2));
      await until(`the writer caught up after the ${mode} restart`, caughtUp);
      expect(writer.stats().failing, `healthy after the ${mode} restart`).toBe(0);
    }
    await appendAll(log, chunk(9));
    await until('the writer caught up at the end', caughtUp);
    await writer.stop();

    expect(sorted(await storedCandles(w)), `seed ${seed}: candles equal a run without outage`).toEqual(sorted(stream.finals));
    expect(sorted(await storedIndicators(w)), `seed ${seed}: indicator values equal a direct run over the final candles`).toEqual(sorted(expectedIndicators(stream.finals)));
    expect(await w.kpis(), `seed ${seed}: newest KPIs`).toEqual([...stream.kpis.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)));
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && l.msg.startsWith('warehouse writer: step failed'));
    expect(warnings.length, 'each failed attempt was logged as a warning').toBe(writer.stats().retries);
    expect(lines.some((l) => l.includes('warehouse writer: recovered')), 'the recovery was logged').toBe(true);
  });
});
