import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Candle } from '../../../../src/domain/index.js';
import { Journal } from '../../../../src/log/index.js';
import { createLogger } from '../../../../src/shared/logger.js';
import { PgWarehouse, PgWarehouseWriter, type PgWarehouseWriterOptions } from '../../../../src/stores/warehouse/postgres/index.js';
import { candle } from '../../../fixtures/candles.js';
import { testSeed } from '../../../fixtures/random.js';
import { postgresMissing, tempDatabase } from '../../../fixtures/postgres.js';
import {
  appendAll,
  CANDLE_TOPICS,
  committedOffsets,
  endOffsets,
  ensureTopics,
  expectedIndicators,
  INDICATORS,
  makeStream,
  sorted,
  storedCandles,
  storedIndicators,
  until,
} from './writer-fixtures.js';

const missing = await postgresMissing();
const GROUP = 'warehouse.postgres';
/** Crosses midnight UTC at the end of January: two months' partitions and a VWAP session change. */
const START = Date.UTC(2024, 0, 31, 23, 0);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ log: Journal; url: string; open: () => Promise<PgWarehouse>; writer: (w: PgWarehouse, over?: Partial<PgWarehouseWriterOptions>) => Promise<PgWarehouseWriter> }> {
  const db = await tempDatabase();
  cleanups.push(() => db.drop());
  const dir = mkdtempSync(join(tmpdir(), 'ss-pg-writer-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const log = await Journal.open({ dir, fsync: 'never', retentionCheckMs: 0 });
  cleanups.push(() => log.close());
  await ensureTopics(log);
  const open = async (): Promise<PgWarehouse> => {
    const w = await PgWarehouse.open({ url: db.url, poolSize: 2 });
    cleanups.push(() => w.close());
    return w;
  };
  const writer = (w: PgWarehouse, over: Partial<PgWarehouseWriterOptions> = {}): Promise<PgWarehouseWriter> =>
    PgWarehouseWriter.open({ log, warehouse: w, topics: CANDLE_TOPICS, indicators: INDICATORS, flushIntervalMs: 20, retry: { initialMs: 20, maxMs: 200 }, ...over });
  return { log, url: db.url, open, writer };
}

describe.skipIf(missing !== null)(`PgWarehouseWriter against PostgreSQL${missing === null ? '' : ` (${missing})`}`, () => {
  it('writes the final revision of every candle, indicators equal to a direct run, the newest KPIs, and commits every offset', async () => {
    const seed = testSeed(41);
    const stream = makeStream(seed, ['AAPL', 'MSFT', 'BTC-USD'], ['1m', '5m'], 90, START);
    const { log, open, writer } = await setup();
    await appendAll(log, stream.records);
    const w = await open();
    const wr = await writer(w);
    await wr.drain();
    expect(sorted(await storedCandles(w)), `seed ${seed}: serving.candles holds exactly the highest revision of each bucket`).toEqual(sorted(stream.finals));
    expect(sorted(await storedIndicators(w)), `seed ${seed}: every value equals createIndicator run over the final candles in order (revisions re-derived)`).toEqual(sorted(expectedIndicators(stream.finals)));
    expect(await w.kpis(), `seed ${seed}: the newest KPI per symbol, stale ones ignored`).toEqual([...stream.kpis.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)));
    expect(await committedOffsets(log, GROUP), 'every partition committed to its end').toEqual(await endOffsets(log));
    const s = wr.stats();
    expect([s.rejected, s.outsideWindow, s.pendingRecords, s.failing], 'nothing rejected, no revision beyond the window, nothing pending').toEqual([0, 0, 0, 0]);
    const served = await w.indicators('AAPL', '1m', ['macd:3:6:2'], { limit: 1 });
    const last = [...stream.finals.values()].filter((c) => c.symbol === 'AAPL' && c.interval === '1m').sort((a, b) => a.start - b.start).at(-1) as Candle;
    const exp = expectedIndicators(stream.finals);
    expect(served, 'indicators() serves the newest stored point in the API shape').toEqual({
      'macd:3:6:2': [{ start: last.start, ...Object.fromEntries(['macd', 'signal', 'histogram'].map((o) => [o, exp.get(`AAPL|1m|${last.start}|macd:3:6:2|${o}`)])) }],
    });
    await wr.stop();
  });

  it('continues after a restart mid-stream, and after a replay of everything, with values equal to one uninterrupted run', async () => {
    const seed = testSeed(42);
    const stream = makeStream(seed, ['AAPL', 'MSFT'], ['1m', '5m'], 80, START);
    const { log, open, writer } = await setup();
    const expected = expectedIndicators(stream.finals);
    // Cut points that land between a candle and its revision too: the state must carry across.
    const cuts = [0, 37, 38, 101, Math.floor(stream.records.length / 2), stream.records.length - 3, stream.records.length];
    for (let k = 1; k < cuts.length; k++) {
      await appendAll(log, stream.records.slice(cuts[k - 1], cuts[k]));
      // A new process: its own pool and writer, nothing in memory from the last one.
      const w = await open();
      const wr = await writer(w);
      await wr.drain();
      await wr.stop();
    }
    const w = await open();
    expect(sorted(await storedIndicators(w)), `seed ${seed}: restarts at ${cuts.join(', ')} leave values equal to a run without restart (state restored, not re-guessed)`).toEqual(sorted(expected));
    expect(sorted(await storedCandles(w)), `seed ${seed}: candles too`).toEqual(sorted(stream.finals));

    // A replay from the earliest offsets (a new group, as after lost offsets): upserts and the duplicate check absorb it.
    const replay = await writer(w, { group: 'warehouse.postgres.replay' });
    await replay.drain();
    await replay.stop();
    expect(sorted(await storedIndicators(w)), `seed ${seed}: a full replay changes no value`).toEqual(sorted(expected));
    expect(sorted(await storedCandles(w)), `seed ${seed}: nor any candle`).toEqual(sorted(stream.finals));
  });

  it('commits offsets only after the transaction: a failing transaction moves no offset and shows no row, and the retry converges', async () => {
    const seed = testSeed(43);
    const stream = makeStream(seed, ['AAPL', 'MSFT'], ['1m'], 40, START);
    const { log, open, writer } = await setup();
    const w = await open();
    const half = Math.floor(stream.records.length / 2);
    await appendAll(log, stream.records.slice(0, half));
    const first = await writer(w);
    await first.drain();
    await first.stop();
    const before = await committedOffsets(log, GROUP);
    const rowsBefore = (await w.pool.query<{ n: number }>('SELECT (SELECT count(*) FROM serving.candles)::int + (SELECT count(*) FROM serving.indicators)::int AS n')).rows[0]?.n;
    // A real failure inside the transaction, after some of its statements ran: a trigger refusing one symbol's rows.
    await w.pool.query(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'BOOM refused'; END $$`);
    await w.pool.query(`CREATE TRIGGER refuse_boom AFTER INSERT OR UPDATE ON serving.indicators FOR EACH ROW WHEN (NEW.symbol = 'BOOM') EXECUTE FUNCTION refuse_boom()`);
    await appendAll(log, stream.records.slice(half));
    await log.append('candles.1m', [{ key: 'BOOM', value: Buffer.from(JSON.stringify(candle('BOOM', '1m', 1))) }]);
    const wr = await writer(w);
    wr.start();
    await until('three failed attempts', () => wr.stats().retries >= 3);
    expect(await committedOffsets(log, GROUP), 'no offset moved while the transaction fails').toEqual(before);
    const rowsDuring = (await w.pool.query<{ n: number }>('SELECT (SELECT count(*) FROM serving.candles)::int + (SELECT count(*) FROM serving.indicators)::int AS n')).rows[0]?.n;
    expect(rowsDuring, 'the candles written before the failing statement were rolled back with it').toBe(rowsBefore);
    expect(wr.stats().lastError, 'the failure is visible in stats').toContain('BOOM refused');
    expect(wr.stats().pendingRecords, 'the records stay pending').toBeGreaterThan(0);

    await w.pool.query('DROP TRIGGER refuse_boom ON serving.indicators');
    const end = await endOffsets(log);
    await until('offsets committed to the end', async () => JSON.stringify(await committedOffsets(log, GROUP)) === JSON.stringify(end));
    expect(wr.stats().failing, 'healthy again').toBe(0);
    await wr.stop();
    const finals = new Map(stream.finals).set(`BOOM|1m|${candle('BOOM', '1m', 1).start}`, candle('BOOM', '1m', 1));
    expect(sorted(await storedCandles(w)), `seed ${seed}: after the retry the tables equal a run without the failure`).toEqual(sorted(finals));
    expect(sorted(await storedIndicators(w)), `seed ${seed}: indicators too`).toEqual(sorted(expectedIndicators(finals)));
  });

  it('warms up a spec added to the configuration from the candles in PostgreSQL, and keeps restoring the others', async () => {
    const seed = testSeed(45);
    const stream = makeStream(seed, ['AAPL'], ['1m'], 60, START);
    const { log, open, writer } = await setup();
    const half = Math.floor(stream.records.length / 2);
    await appendAll(log, stream.records.slice(0, half));
    const w = await open();
    const before = await writer(w, { indicators: { ...INDICATORS, specs: ['sma:3', 'obv'] } });
    await before.drain();
    await before.stop();
    const firstRun = await storedIndicators(w);
    await appendAll(log, stream.records.slice(half));
    const lines: string[] = [];
    const logger = createLogger('warn', new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) }));
    const after = await writer(w, { logger });
    await after.drain();
    await after.stop();
    const expected = expectedIndicators(stream.finals);
    const stored = await storedIndicators(w);
    // Every candle of the second run gets every spec, equal to a direct run: the read-back (warmupCandles) reached the first candle.
    const secondRun = [...stored.entries()].filter(([k]) => !firstRun.has(k) || k.includes('|sma:3|') || k.includes('|obv|'));
    expect(secondRun.length, 'the new specs were written for the new candles').toBeGreaterThan(firstRun.size);
    expect(secondRun.map(([k, v]) => [k, v]), `seed ${seed}: values of old and new specs equal a direct run`).toEqual(secondRun.map(([k]) => [k, expected.get(k)]));
    expect(lines.some((l) => l.includes('no saved state for these indicators')), 'the warm-up of the new specs is logged').toBe(true);
  });

  it('skips a record that does not decode, counts it, and commits past it', async () => {
    const { log, open, writer } = await setup();
    const w = await open();
    await log.append('candles.1m', [
      { key: 'AAPL', value: Buffer.from(JSON.stringify(candle('AAPL', '1m', 0))) },
      { key: 'AAPL', value: Buffer.from('{"symbol":"AAPL","interval":"1m","start":"soon"}') },
      { key: 'AAPL', value: Buffer.from('not json') },
      { key: 'AAPL', value: Buffer.from(JSON.stringify(candle('AAPL', '1m', 1))) },
    ]);
    const wr = await writer(w);
    await wr.drain();
    expect(wr.stats().rejected, 'both bad records counted').toBe(2);
    expect(await w.candles('AAPL', '1m'), 'the good candles around them are written').toEqual([candle('AAPL', '1m', 0), candle('AAPL', '1m', 1)]);
    expect(await committedOffsets(log, GROUP), 'committed past the bad records: they are not retried forever').toEqual(await endOffsets(log));
    await wr.stop();
  });

  it('upserts a revision older than the revision window but leaves its indicators, and counts it', async () => {
    const { log, open, writer } = await setup();
    const w = await open();
    const series = Array.from({ length: 6 }, (_, i) => candle('AAPL', '1m', i));
    const late = { ...(series[1] as Candle), close: 150, rev: 1 };
    await appendAll(
      log,
      [...series, late].map((c) => ({ topic: 'candles.1m', record: { key: c.symbol, value: Buffer.from(JSON.stringify(c)) } })),
    );
    const wr = await writer(w, { revisionWindow: 2 });
    await wr.drain();
    expect(wr.stats().outsideWindow, 'the late revision of bucket 1 is beyond a window of 2').toBe(1);
    expect((await w.candles('AAPL', '1m'))[1], 'its candle row is still the new revision').toEqual(late);
    const values = await storedIndicators(w);
    const direct = expectedIndicators(new Map(series.map((c) => [`${c.symbol}|${c.interval}|${c.start}`, c])));
    expect(sorted(values), 'indicators stay as derived from the revision they saw (documented limit)').toEqual(sorted(direct));
    await wr.stop();
  });
});
