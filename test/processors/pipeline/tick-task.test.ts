import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INTERVALS, copyCandle, encodeEvent, trade, type Candle, type MarketEvent } from '../../../src/domain/index.js';
import { calendarFor } from '../../../src/domain/calendar/index.js';
import { Journal } from '../../../src/log/index.js';
import type { LogRecord } from '../../../src/log/log.js';
import { CandleOperator } from '../../../src/processors/candles/index.js';
import { DedupOperator } from '../../../src/processors/dedup/index.js';
import { KpiOperator } from '../../../src/processors/kpis/index.js';
import { TickTask, type TickTaskState } from '../../../src/processors/pipeline/index.js';
import { mulberry32 } from '../../fixtures/random.js';
import { viaCheckpointFile } from '../../fixtures/checkpoint.js';

const dirs: string[] = [];
const journals: Journal[] = [];
afterEach(async () => {
  for (const j of journals.splice(0)) await j.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A stream with jitter: most trades in order, some up to 4 s late (some within, some beyond lateness), some duplicated. */
function stream(seed: number, n: number): LogRecord[] {
  const rand = mulberry32(seed);
  const t0 = Date.UTC(2026, 0, 6, 14, 30);
  const symbols = ['AAA', 'BBB', 'CCC'];
  const out: LogRecord[] = [];
  let ts = t0;
  for (let i = 0; i < n; i++) {
    ts += Math.floor(rand() * 400);
    const late = rand() < 0.08 ? Math.floor(rand() * 4_000) : 0;
    const e = trade({ symbol: symbols[i % 3] as string, ts: ts - late, source: 't', id: `e${i}`, price: 100 + Math.round(rand() * 1000) / 100, size: 100 });
    const rec = (ev: MarketEvent): LogRecord => ({ topic: 'ticks', partition: 0, offset: out.length, key: ev.symbol, value: encodeEvent(ev), timestamp: ev.ts, headers: {} });
    out.push(rec(e));
    if (rand() < 0.02) out.push(rec(e));
  }
  return out;
}

interface Outputs {
  candles: Map<string, Candle>;
  late: string[];
  /** Fresh ticks handed to the live store. */
  ticks: number;
}

async function makeTask(idleWatermarkMs = Number.POSITIVE_INFINITY, liveOutput = false): Promise<{ task: TickTask; outputs: Outputs; log: Journal }> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-ticktask-'));
  dirs.push(dir);
  const log = await Journal.open({ dir, fsync: 'never', retentionCheckMs: 0 });
  journals.push(log);
  await log.ensureTopic('ticks.late', { partitions: 1 });
  for (const iv of INTERVALS) await log.ensureTopic(`candles.${iv}`, { partitions: 1 });
  const outputs: Outputs = { candles: new Map(), late: [], ticks: 0 };
  const cal = calendarFor('CRYPTO');
  let task: TickTask | null = null;
  const candles = new CandleOperator({
    intervals: [...INTERVALS],
    calendarOf: () => cal,
    allowedLatenessMs: 2_000,
    fillGaps: true,
    includeExtendedHours: false,
    liveOutput,
    onLate: (e, info) => {
      outputs.late.push(`${e.id}|${info.interval}`);
      task?.late(e, info);
    },
  });
  task = new TickTask({
    partition: 0,
    log,
    dedup: new DedupOperator({ window: 10_000 }),
    candles,
    kpis: new KpiOperator({ calendarOf: () => cal }),
    live: {
      ticks: (list) => {
        outputs.ticks += list.length;
      },
      kpis: () => undefined,
      candles: (list) => {
        for (const c of list) outputs.candles.set(`${c.symbol}|${c.interval}|${c.start}`, copyCandle(c));
      },
    },
    idleWatermarkMs,
  });
  return { task, outputs, log };
}

function splits(rand: () => number, records: LogRecord[]): LogRecord[][] {
  const out: LogRecord[][] = [];
  let i = 0;
  while (i < records.length) {
    const n = 1 + Math.floor(rand() * 300);
    out.push(records.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('TickTask', () => {
  it('gives the same candles, revisions and late events however the log is batched, and across a checkpoint restore', async () => {
    for (const seed of [1, 2, 3]) {
      const records = stream(seed, 3_000);
      const whole = await makeTask();
      whole.task.process(records, 0);
      whole.task.complete();

      // The runner calls complete() after a loop turn, with a deadline that may stop it after any
      // batch's operator calls or slice of candles; batches queue behind what is left. Any of
      // these orders must give the same outputs.
      const chopped = await makeTask();
      const completeNow = mulberry32(seed * 37);
      for (const b of splits(mulberry32(seed * 31), records)) {
        chopped.task.process(b, 0);
        const roll = completeNow();
        if (roll < 0.3) chopped.task.complete();
        else if (roll < 0.7) chopped.task.complete(0);
      }
      chopped.task.complete();

      // Crash after a checkpoint: a new task restores the state and gets the rest.
      const cut = 1 + Math.floor(mulberry32(seed * 7)() * (records.length - 2));
      const before = await makeTask();
      for (const b of splits(mulberry32(seed * 13), records.slice(0, cut))) before.task.process(b, 0);
      const state = (await viaCheckpointFile(before.task.snapshot())) as TickTaskState;
      const after = await makeTask();
      after.task.restore(state, 0);
      for (const b of splits(mulberry32(seed * 17), records.slice(cut))) after.task.process(b, 0);
      after.task.complete();
      const restored = new Map([...before.outputs.candles, ...after.outputs.candles]);

      const finals = (m: Map<string, Candle>): Candle[] => [...m.values()].filter((c) => c.final).sort((a, b) => (a.symbol + a.interval + a.start < b.symbol + b.interval + b.start ? -1 : 1));
      expect(finals(whole.outputs.candles).length, `seed ${seed}: the stream produces final candles`).toBeGreaterThan(100);
      expect(finals(whole.outputs.candles).some((c) => c.rev > 0), `seed ${seed}: the stream amends some candles`).toBe(true);
      expect(whole.outputs.late.length, `seed ${seed}: some events are beyond lateness`).toBeGreaterThan(0);
      expect(finals(chopped.outputs.candles), `seed ${seed}: batching must not change any final candle or rev`).toEqual(finals(whole.outputs.candles));
      expect(chopped.outputs.late, `seed ${seed}: batching must not change which events are late`).toEqual(whole.outputs.late);
      expect(finals(restored), `seed ${seed}: a restore at offset ${cut} converges to the uninterrupted candles`).toEqual(finals(whole.outputs.candles));
      expect([...before.outputs.late, ...after.outputs.late], `seed ${seed}: and to the same late events`).toEqual(whole.outputs.late);
    }
  });

  it('puts each final candle on the log once per revision, with the live output the platform uses, and the same sliced or not', async () => {
    const records = stream(5, 3_000);
    const logged = async (log: Journal): Promise<string[]> => {
      const out: string[] = [];
      for (const iv of INTERVALS) {
        for (const r of await log.read({ topic: `candles.${iv}`, partition: 0 }, 0, 1_000_000)) {
          const c = JSON.parse(Buffer.from(r.value).toString('utf8')) as Candle;
          out.push(`${c.symbol}|${c.interval}|${c.start}|${c.rev}|${c.close}|${c.volume}`);
        }
      }
      return out;
    };
    const { task, log } = await makeTask(Number.POSITIVE_INFINITY, true);
    // One batch spans many 100 ms watermark steps: the same slot is touched in each.
    task.process(records, 0);
    await task.flush();
    const whole = await logged(log);
    const seen = new Map<string, number>();
    for (const k of whole) {
      const key = k.split('|').slice(0, 4).join('|');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect(seen.size, 'the stream closes candles').toBeGreaterThan(100);
    const repeated = [...seen].filter(([, n]) => n > 1);
    expect(repeated.slice(0, 5), 'no (symbol, interval, start, rev) is appended twice').toEqual([]);

    // The same batches completed at once and a slice or a batch's operator calls at a time
    // (batching alone may put intermediate revisions on the log; slicing must change nothing).
    const unsliced = await makeTask(Number.POSITIVE_INFINITY, true);
    const sliced = await makeTask(Number.POSITIVE_INFINITY, true);
    let calls = 0;
    for (const b of splits(mulberry32(23), records)) {
      unsliced.task.process(b, 0);
      unsliced.task.complete();
      sliced.task.process(b, 0);
      while (!sliced.task.complete(0)) calls++;
    }
    await unsliced.task.flush();
    await sliced.task.flush();
    expect(calls, 'completing took several calls').toBeGreaterThan(10);
    expect(await logged(sliced.log), 'sliced completion appends the same candles, in the same order per topic').toEqual(await logged(unsliced.log));
  });

  it('hands a batch\'s ticks to the live store in process() and its candles in complete(); a snapshot finishes the pending batch first', async () => {
    const records = stream(9, 400);
    const { task, outputs } = await makeTask();
    task.process(records, 0);
    expect(outputs.ticks, 'process() hands every fresh tick to the live store at once').toBe(400);
    expect(outputs.candles.size, 'process() leaves the candle work to complete()').toBe(0);
    const state = (await viaCheckpointFile(task.snapshot())) as TickTaskState;
    expect(outputs.candles.size, 'snapshot() computes the pending candles before taking state').toBeGreaterThan(0);
    const whole = await makeTask();
    whole.task.process(records, 0);
    whole.task.complete();
    expect(state, 'the state equals that of a task that completed the batch').toEqual(await viaCheckpointFile(whole.task.snapshot()));
  });

  it('hands a second boundary\'s candles on in slices when its deadline has passed, and finishes a backlog in one call', async () => {
    // 200 symbols trade in one second, then one trade 3 s later closes all their candles (2 s
    // lateness): the last batch turns 200 one-second candles (and more) final at once.
    const t0 = Date.UTC(2026, 0, 6, 14, 30);
    const rec = (i: number, e: MarketEvent): LogRecord => ({ topic: 'ticks', partition: 0, offset: i, key: e.symbol, value: encodeEvent(e), timestamp: e.ts, headers: {} });
    const first: LogRecord[] = [];
    for (let i = 0; i < 200; i++) first.push(rec(i, trade({ symbol: `S${i}`, ts: t0 + i, source: 't', id: `a${i}`, price: 100 + i, size: 1 })));
    const closing = [rec(200, trade({ symbol: 'S0', ts: t0 + 3_500, source: 't', id: 'close', price: 100, size: 1 }))];

    const sliced = await makeTask(Number.POSITIVE_INFINITY, true);
    const handed: number[] = [];
    sliced.task.process(first, 0);
    sliced.task.complete();
    sliced.task.process(closing, 0);
    const before = sliced.outputs.candles.size;
    let calls = 0;
    const seenFinal = (): number => [...sliced.outputs.candles.values()].filter((c) => c.final && c.interval === '1s' && c.start === t0).length;
    while (!sliced.task.complete(0)) {
      calls++;
      handed.push(seenFinal());
    }
    expect(before, 'the first second formed candles for each of its 200 symbols').toBeGreaterThanOrEqual(200);
    expect(calls, 'with the deadline passed, ~200 final candles take several calls of one slice each').toBeGreaterThan(5);
    expect(handed.every((n, k) => k === 0 || n - (handed[k - 1] as number) <= 32), `no call hands on more than one slice (32) of final candles: ${handed.join(', ')}`).toBe(true);
    expect(seenFinal(), 'in the end every one-second candle of the first second is final').toBe(200);

    const whole = await makeTask(Number.POSITIVE_INFINITY, true);
    whole.task.process(first, 0);
    whole.task.process(closing, 0);
    whole.task.complete();
    expect([...sliced.outputs.candles.values()], 'slicing changes no candle').toEqual([...whole.outputs.candles.values()]);

    // More events queued than complete() may leave behind (5,000), so one call does them all.
    const backlog = await makeTask(Number.POSITIVE_INFINITY, true);
    const many = stream(11, 6_000);
    backlog.task.process(many.slice(0, 3_000), 0);
    backlog.task.process(many.slice(3_000), 0);
    expect(backlog.task.complete(0), 'a backlog over the queue bound is completed whatever the deadline').toBe(true);
    const few = await makeTask(Number.POSITIVE_INFINITY, true);
    few.task.process(many.slice(0, 3_000), 0);
    few.task.process(many.slice(3_000, 4_000), 0);
    expect(few.task.complete(0), 'under the bound the deadline holds: work is left').toBe(false);
  });

  it('keeps a partition that gets input out of idle watermarks even when its event time crawls', async () => {
    // A slow replay: each batch advances event time 10 ms while 600 ms of wall time pass, so no
    // batch crosses a 100 ms grid line for several idle periods. Input is not idleness: the
    // watermark must stay at the event time seen and no trade may be refused as late.
    const { task, outputs } = await makeTask(1_000);
    const t0 = Date.UTC(2026, 0, 6, 14, 30);
    let now = 0;
    for (let b = 0; b < 60; b++) {
      const ts = t0 + b * 10;
      const e = trade({ symbol: 'AAA', ts, source: 't', id: `s${b}`, price: 100, size: 1 });
      task.process([{ topic: 'ticks', partition: 0, offset: b, key: e.symbol, value: encodeEvent(e), timestamp: ts, headers: {} }], now);
      now += 600;
      task.onTimer(now);
    }
    expect(outputs.late, 'trades of a partition that keeps getting input are never late').toEqual([]);
    expect(task.stats().watermark, 'the watermark stays at the newest 100 ms grid line seen').toBe(t0 + 500);
  });
});
