import { afterEach, describe, expect, it } from 'vitest';
import type { Candle } from '../../../src/domain/index.js';
import { indicatorColumn, SqlQueryService } from '../../../src/lakehouse/index.js';
import type { LogRecord } from '../../../src/log/log.js';
import { CandleOperator } from '../../../src/processors/candles/index.js';
import { DedupOperator } from '../../../src/processors/dedup/index.js';
import { computeIndicators } from '../../../src/processors/indicators/index.js';
import { KpiOperator } from '../../../src/processors/kpis/index.js';
import { TickTask } from '../../../src/processors/pipeline/index.js';
import { TICKS_TOPIC } from '../../../src/sources/ingest/index.js';
import { mulberry32, testSeed } from '../../fixtures/random.js';
import { INSTRUMENTS, openLake, referenceData, type LakeFixture } from './lake-fixture.js';

const fixtures: LakeFixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close();
});

const SPECS = ['sma:20', 'ema:20', 'rsi:14', 'macd:12:26:9', 'bbands:20:2', 'atr:14'];
const DAY = 86_400_000;
const FIRST_DAY = Date.parse('2025-01-02T00:00:00Z');

/**
 * 45 calendar days of trades for the fixture's four symbols: 30 a day at random times from an hour
 * before each exchange's open to an hour after its close (so pre, post, lunch and holidays occur)
 * and 60 in a three-minute burst, in
 * event-time order with neighbours swapped up to 900 ms apart (within the 2 s lateness), and 3 %
 * of events sent twice.
 */
function session(seed: number): unknown[] {
  const rand = mulberry32(seed);
  const ref = referenceData();
  const events: { ts: number; e: Record<string, unknown> }[] = [];
  let id = 0;
  for (const inst of INSTRUMENTS) {
    const cal = ref.calendarOf(inst.exchange);
    let price = inst.currency === 'VND' ? 27_000 : 100 + rand() * 200;
    for (let d = 0; d < 45; d++) {
      const date = new Date(FIRST_DAY + d * DAY).toISOString().slice(0, 10);
      const day = cal.day(date) ?? cal.day(new Date(FIRST_DAY + (d - 1) * DAY).toISOString().slice(0, 10));
      const base = day?.regular[0]?.start ?? FIRST_DAY + d * DAY + 14 * 3_600_000;
      const end = day?.regular.at(-1)?.end ?? base + 6 * 3_600_000;
      // A busy three minutes each day, so minutes hold many trades and summation order shows.
      const burst = base + Math.floor(rand() * (end - base - 180_000));
      for (let k = 0; k < 90; k++) {
        const ts = k < 30 ? Math.floor(base - 3_600_000 + rand() * (end - base + 7_200_000)) : burst + Math.floor(rand() * 180_000);
        price = Math.max(1, price * (1 + (rand() - 0.5) * 0.02));
        const px = inst.currency === 'VND' ? Math.round(price / 50) * 50 : Math.round(price * 100) / 100;
        events.push({ ts, e: { kind: 'trade', symbol: inst.symbol, ts, source: 'test', id: `t${id++}`, price: px, size: 1 + Math.floor(rand() * 500) } });
      }
    }
  }
  events.sort((a, b) => a.ts - b.ts);
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1] as { ts: number };
    const b = events[i] as { ts: number };
    if (rand() < 0.1 && b.ts - a.ts < 900) [events[i - 1], events[i]] = [events[i] as never, events[i - 1] as never];
  }
  const out: unknown[] = [];
  for (const { e } of events) {
    out.push(e);
    if (rand() < 0.03) out.push({ ...e });
  }
  return out;
}

/** The live pipeline's answer: one TickTask per partition (dedup → candles → KPIs), fed the log in offset order. */
async function liveCandles(f: LakeFixture): Promise<{ candles: Map<string, Candle>; late: number }> {
  const ref = referenceData();
  const exchangeOf = new Map(INSTRUMENTS.map((i) => [i.symbol, i.exchange]));
  await f.log.ensureTopic('ticks.late', { partitions: 2 });
  for (const iv of ['1m', '1d']) await f.log.ensureTopic(`candles.${iv}`, { partitions: 2 });
  const candles = new Map<string, Candle>();
  let late = 0;
  for (const partition of [0, 1]) {
    const calendarOf = (s: string) => ref.calendarOf(exchangeOf.get(s) ?? 'CRYPTO');
    let task: TickTask | null = null;
    task = new TickTask({
      partition,
      log: f.log,
      dedup: new DedupOperator({ window: 100_000 }),
      candles: new CandleOperator({
        intervals: ['1m', '1d'],
        calendarOf,
        allowedLatenessMs: 2000,
        fillGaps: false,
        includeExtendedHours: false,
        onLate: (e, info) => {
          late++;
          task?.late(e, info);
        },
      }),
      kpis: new KpiOperator({ calendarOf }),
      live: {
        ticks: () => undefined,
        kpis: () => undefined,
        candles: (list) => {
          for (const c of list) candles.set(`${c.symbol}|${c.interval}|${c.start}`, { ...c });
        },
      },
      idleWatermarkMs: Number.POSITIVE_INFINITY,
    });
    for (let at = 0; ; ) {
      const records: LogRecord[] = await f.log.read({ topic: TICKS_TOPIC, partition }, at, 1000);
      if (records.length === 0) break;
      task.process(records, 0);
      at = (records.at(-1) as LogRecord).offset + 1;
    }
    await task.close();
  }
  return { candles, late };
}

type Row = Record<string, unknown>;

async function rows(sql: SqlQueryService, query: string): Promise<Row[]> {
  const r = await sql.query(query);
  expect(r.truncated, `${query} returns every row`).toBe(false);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

describe('gold agrees with the live pipeline', () => {
  it('ohlc_1m, ohlc_daily and indicators_daily equal the live candles and indicators, run incrementally or in full', async () => {
    const seed = testSeed(20250102);
    const input = session(seed);
    const f = await openLake({ now: FIRST_DAY + 60 * DAY });
    fixtures.push(f);
    // Three landings, each followed by an incremental run, as the scheduler does.
    const cuts = [0, Math.floor(input.length / 3), Math.floor((2 * input.length) / 3), input.length];
    for (let i = 0; i < 3; i++) {
      await f.land(input.slice(cuts[i], cuts[i + 1]));
      const r = await f.runner.run();
      expect(r.status, `seed ${seed}: run ${i + 1} ${r.error?.message ?? ''}`).toBe('success');
    }
    const live = await liveCandles(f);
    expect(live.late, `seed ${seed}: the input stays within the allowed lateness, so live refuses nothing`).toBe(0);
    const sql = new SqlQueryService(f.lake, { maxRows: 1_000_000 });

    const minute = await rows(sql, 'SELECT symbol, start, "end", open, high, low, close, volume, vwap, trades FROM gold.ohlc_1m ORDER BY symbol, start');
    const liveMinute = [...live.candles.values()].filter((c) => c.interval === '1m').sort((a, b) => a.symbol.localeCompare(b.symbol) || a.start - b.start);
    expect(minute.length, `seed ${seed}: one gold minute per live 1m candle`).toBe(liveMinute.length);
    expect(minute.length).toBeGreaterThan(1000);
    minute.forEach((g, i) => {
      const c = liveMinute[i] as Candle;
      // Every digit: the SQL sums price × size in log order, as the operator does.
      expect(g, `seed ${seed}: gold.ohlc_1m equals the live 1m candle ${c.symbol} ${new Date(c.start).toISOString()}`).toEqual({
        symbol: c.symbol,
        start: c.start,
        end: c.end,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
        vwap: c.vwap,
        trades: c.trades,
      });
    });

    const daily = await rows(sql, 'SELECT symbol, start, "end", open, high, low, close, volume, vwap, trades FROM gold.ohlc_daily ORDER BY symbol, start');
    const liveDaily = [...live.candles.values()].filter((c) => c.interval === '1d').sort((a, b) => a.symbol.localeCompare(b.symbol) || a.start - b.start);
    expect(daily.length, `seed ${seed}: one gold day per live 1d candle`).toBe(liveDaily.length);
    daily.forEach((g, i) => {
      const c = liveDaily[i] as Candle;
      const { vwap, ...rest } = g;
      expect(rest, `seed ${seed}: gold.ohlc_daily equals the live 1d candle ${c.symbol} ${new Date(c.start).toISOString()}`).toEqual({
        symbol: c.symbol,
        start: c.start,
        end: c.end,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
        trades: c.trades,
      });
      // The day's turnover is the sum of its minutes' sums: the same terms in another grouping.
      expect(Math.abs((vwap as number) - c.vwap) / c.vwap, `seed ${seed}: daily vwap agrees to 1e-12 relative`).toBeLessThan(1e-12);
    });

    const gi = await rows(sql, 'SELECT * FROM gold.indicators_daily ORDER BY symbol, start');
    expect(gi.length).toBe(liveDaily.length);
    for (const inst of INSTRUMENTS) {
      const bars = liveDaily.filter((c) => c.symbol === inst.symbol);
      const table = computeIndicators(bars, SPECS).indicators;
      const mine = gi.filter((r) => r.symbol === inst.symbol);
      expect(mine.length).toBe(bars.length);
      let valid = 0;
      for (const [spec, outs] of Object.entries(table)) {
        for (const [out, values] of Object.entries(outs)) {
          values.forEach((v, k) => {
            if (v !== null) valid++;
            expect(mine[k]?.[indicatorColumn(spec, out)], `seed ${seed}: ${inst.symbol} ${spec} ${out} at bar ${k} equals the live operators' value`).toBe(v);
          });
        }
      }
      expect(valid, `${inst.symbol}: past warm-up there are values to compare`).toBeGreaterThan(50);
    }

    // Re-running changes nothing; a full refresh rebuilds exactly the same tables.
    const queries: Record<string, string> = {
      'silver.ticks': 'SELECT * EXCLUDE (_run_id) FROM silver.ticks ORDER BY log_partition, log_offset',
      'gold.ohlc_1m': 'SELECT * EXCLUDE (_run_id) FROM gold.ohlc_1m ORDER BY symbol, start',
      'gold.ohlc_daily': 'SELECT * EXCLUDE (_run_id) FROM gold.ohlc_daily ORDER BY symbol, start',
      'gold.indicators_daily': 'SELECT * EXCLUDE (_run_id) FROM gold.indicators_daily ORDER BY symbol, start',
      'gold.kpi_latest': 'SELECT * FROM gold.kpi_latest ORDER BY symbol',
      'gold.market_treemap': 'SELECT * FROM gold.market_treemap ORDER BY symbol',
      'gold.candle_patterns': 'SELECT * FROM gold.candle_patterns ORDER BY ALL',
      'gold.data_quality': 'SELECT * EXCLUDE (_run_id) FROM gold.data_quality ORDER BY ALL',
    };
    const snapshot = async (): Promise<Record<string, Row[]>> => {
      const out: Record<string, Row[]> = {};
      for (const [t, q] of Object.entries(queries)) out[t] = await rows(sql, q);
      return out;
    };
    const incremental = await snapshot();
    const again = await f.runner.run();
    expect(again.status, 'a run with no new data does nothing').toBe('skipped');
    expect(await snapshot()).toEqual(incremental);
    const full = await f.runner.run({ fullRefresh: true });
    expect(full.status, full.error?.message).toBe('success');
    const rebuilt = await snapshot();
    for (const t of Object.keys(queries)) {
      const a = rebuilt[t] as Row[];
      const b = incremental[t] as Row[];
      const at = a.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(b[i]));
      expect(at === -1 ? null : { row: at, full: a[at], incremental: b[at] }, `seed ${seed}: ${t} differs between a full refresh and incremental runs`).toBeNull();
      expect(rebuilt[t], `seed ${seed}: ${t} is the same after three incremental runs as after one full refresh`).toEqual(incremental[t]);
    }
  }, 60_000);
});
