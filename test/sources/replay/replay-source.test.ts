import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventReject, parseEvent, validateEvent, type ValidationPolicy } from '../../../src/domain/index.js';
import { isStockStreamError } from '../../../src/shared/errors.js';
import type { RawRecord } from '../../../src/sources/source.js';
import { ReplaySource, type ReplayClock, type ReplaySourceOptions } from '../../../src/sources/replay/index.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/replay/', import.meta.url));
const policy: ValidationPolicy = { now: Date.UTC(2024, 0, 5), maxFutureMs: Infinity, maxPastMs: Infinity, knownSymbols: null };
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ss-replay-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function replay(options: ReplaySourceOptions): Promise<{ batches: RawRecord[][]; records: RawRecord[] }> {
  const batches: RawRecord[][] = [];
  await new ReplaySource(options).run(async (b) => {
    batches.push(b);
  });
  return { batches, records: batches.flat() };
}

/** A fake wall clock: sleep() advances it instantly and logs the wait. */
function fakeClock(): ReplayClock & { sleeps: number[] } {
  let now = 1_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

async function expectFileError(run: () => Promise<unknown>, ...fragments: RegExp[]): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  expect(isStockStreamError(caught, 'SS_CLI_FILE'), `expected SS_CLI_FILE, got ${String(caught)}`).toBe(true);
  for (const f of fragments) expect((caught as Error).message, 'the message names the file, what was wrong and the fix').toMatch(f);
}

describe('ReplaySource CSV', () => {
  it('decodes ticks and quotes, keeps event time, passes bad rows on for ingest to reject', async () => {
    const { records } = await replay({ file: join(FIXTURES, 'ticks.csv'), speed: 'max' });
    expect(records, 'one event per data row; blank lines skipped; ids from basename:line').toEqual([
      { kind: 'trade', symbol: 'AAPL', ts: 1704205800000, source: 'replay', id: 'ticks.csv:2', price: 190.1, size: 100 },
      { kind: 'quote', symbol: 'AAPL', ts: 1704205800250, source: 'replay', id: 'ticks.csv:3', bid: 190.09, ask: 190.11, bidSize: 300, askSize: 500 },
      { kind: 'trade', symbol: 'MSFT', ts: 1704205800500, source: 'replay', id: 'ticks.csv:4', price: 375.2, size: 200 },
      { kind: 'trade', symbol: 'AAPL', ts: 1704205801000, source: 'replay', id: 'ticks.csv:6', price: 'abc', size: 100 },
      { kind: 'trade', symbol: 'MSFT', ts: 1704205802000, source: 'replay', id: 'ticks.csv:7', price: 375.25, size: 50 },
      { kind: 'trade', symbol: 'AAPL', ts: 1704205803000, source: 'replay', id: 'ticks.csv:8', price: 190.2, size: 100 },
    ]);
    const results = records.map((r) => validateEvent(r, policy));
    const rejects = results.filter((r): r is EventReject => r instanceof EventReject);
    expect(rejects.map((r) => [r.field, r.value]), 'only the non-numeric price row is rejected, naming the field and value').toEqual([['price', 'abc']]);
  });

  it('decodes bars with a date column and an interval column', async () => {
    const { records } = await replay({ file: join(FIXTURES, 'bars.csv'), speed: 'max', source: 'eod' });
    expect(records[0], 'a date-only time is midnight UTC; interval comes from the file').toEqual({
      kind: 'bar', symbol: 'AAPL', ts: Date.UTC(2024, 0, 2), source: 'eod', id: 'bars.csv:2', interval: '1d',
      open: 187.15, high: 188.44, low: 183.89, close: 185.64, volume: 82488700,
    });
    expect(records.map((r) => validateEvent(r, policy)).every((e) => !(e instanceof EventReject)), 'every fixture bar is valid').toBe(true);
    expect(records.map((r) => (r as Record<string, unknown>)['ts']), 'event time is the file time').toEqual([Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 3), Date.UTC(2024, 0, 4)]);
  });

  it('defaults a bar interval to 1m and accepts quoted cells and ISO times without a zone as UTC', async () => {
    const file = join(tmp, 'bars-1m.csv');
    await writeFile(file, 'Time,Symbol,Open,High,Low,Close,Volume,Id\r\n"2024-01-02 14:30:00",AAPL,1,2,0.5,1.5,10,"a,b"\r\n');
    const { records } = await replay({ file, speed: 'max' });
    expect(records, 'headers match case-insensitively; CRLF handled; quoted comma kept').toEqual([
      { kind: 'bar', symbol: 'AAPL', ts: Date.UTC(2024, 0, 2, 14, 30), source: 'replay', id: 'a,b', interval: '1m', open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 },
    ]);
  });

  it('refuses a header missing a required column, naming the file, the columns found and the ones expected', async () => {
    const file = join(tmp, 'no-price.csv');
    await writeFile(file, 'ts,symbol,size\n1,AAPL,100\n');
    await expectFileError(() => replay({ file, speed: 'max' }), /no-price\.csv/, /\[ts, symbol, size\]/, /missing price/);
  });

  it('streams a file larger than a batch in order, in batches of batchSize', async () => {
    const file = join(tmp, 'many.csv');
    const rows = ['ts,symbol,price,size'];
    for (let i = 0; i < 25_000; i++) rows.push(`${1704205800000 + i},AAPL,${100 + (i % 7)},100`);
    await writeFile(file, rows.join('\n'));
    const { batches, records } = await replay({ file, speed: 'max', batchSize: 1_000 });
    expect(records.length, 'every row arrives once').toBe(25_000);
    expect(Math.max(...batches.map((b) => b.length)), 'no batch exceeds batchSize').toBe(1_000);
    const ids = records.map((r) => (r as Record<string, unknown>)['id']);
    expect(ids[0], 'file order is kept').toBe('many.csv:2');
    expect(ids[24_999]).toBe('many.csv:25001');
  });
});

describe('ReplaySource NDJSON', () => {
  it('passes lines through as text; a malformed line becomes an ingest reject, not a crash', async () => {
    const { records } = await replay({ file: join(FIXTURES, 'ticks.ndjson'), speed: 'max' });
    expect(records.every((r) => typeof r === 'string'), 'NDJSON lines go to ingest unparsed').toBe(true);
    expect(records.length, 'the blank line is skipped, the malformed one is kept').toBe(4);
    const parsed = (records as string[]).map((line) => parseEvent(line, policy));
    expect(parsed.map((p) => (p instanceof EventReject ? p.rule : p.id)), 'the truncated line is rejected as malformed').toEqual(['t1', 'q1', 'malformed', 't3']);
  });

  it('replays bars keeping their event time', async () => {
    const { records } = await replay({ file: join(FIXTURES, 'bars.ndjson'), speed: 'max' });
    const bars = (records as string[]).map((line) => parseEvent(line, policy));
    expect(bars.map((b) => (b instanceof EventReject ? b.message : [b.kind, b.ts])), 'bars keep the file time').toEqual([
      ['bar', 1704205800000],
      ['bar', 1704205860000],
    ]);
  });
});

describe('ReplaySource Parquet', () => {
  it('reads ticks and bars with TIMESTAMP, DATE and epoch-second time columns', async () => {
    const ticks = join(tmp, 'ticks.parquet');
    const bars = join(tmp, 'bars.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    await c.run(`COPY (SELECT * FROM (VALUES
        (TIMESTAMP '2024-01-02 14:30:00.250', 'AAPL', 190.1::DOUBLE, 100::BIGINT),
        (TIMESTAMP '2024-01-02 14:30:01', 'MSFT', 375.2::DOUBLE, 200::BIGINT)) t(timestamp, symbol, price, volume)) TO '${ticks}' (FORMAT parquet)`);
    await c.run(`COPY (SELECT * FROM (VALUES
        (DATE '2024-01-02', 'AAPL', 187.15, 188.44, 183.89, 185.64, 82488700::BIGINT, '1d')) t(date, symbol, open, high, low, close, volume, interval)) TO '${bars}' (FORMAT parquet)`);
    const epoch = join(tmp, 'epoch.parquet');
    await c.run(`COPY (SELECT 1704205800::BIGINT AS ts, 'AAPL' AS symbol, 'n/a' AS price, 100 AS size) TO '${epoch}' (FORMAT parquet)`);
    c.closeSync();
    instance.closeSync();

    expect((await replay({ file: ticks, speed: 'max' })).records, 'TIMESTAMP becomes epoch ms; volume stands in for size; ids from the row number').toEqual([
      { kind: 'trade', symbol: 'AAPL', ts: Date.UTC(2024, 0, 2, 14, 30, 0, 250), source: 'replay', id: 'ticks.parquet:1', price: 190.1, size: 100 },
      { kind: 'trade', symbol: 'MSFT', ts: Date.UTC(2024, 0, 2, 14, 30, 1), source: 'replay', id: 'ticks.parquet:2', price: 375.2, size: 200 },
    ]);
    expect((await replay({ file: bars, speed: 'max' })).records, 'DATE becomes midnight UTC').toEqual([
      { kind: 'bar', symbol: 'AAPL', ts: Date.UTC(2024, 0, 2), source: 'replay', id: 'bars.parquet:1', interval: '1d', open: 187.15, high: 188.44, low: 183.89, close: 185.64, volume: 82488700 },
    ]);
    expect((await replay({ file: epoch, speed: 'max' })).records, 'epoch seconds scale to ms; a text price passes through for ingest to reject').toEqual([
      { kind: 'trade', symbol: 'AAPL', ts: 1704205800000, source: 'replay', id: 'epoch.parquet:1', price: 'n/a', size: 100 },
    ]);
  });

  it('refuses a file that is not Parquet with SS_CLI_FILE', async () => {
    const file = join(tmp, 'fake.parquet');
    await writeFile(file, 'not parquet at all');
    await expectFileError(() => replay({ file, speed: 'max' }), /fake\.parquet/, /not a readable Parquet file/);
  });
});

describe('ReplaySource pacing and lifecycle', () => {
  async function ndjson(name: string, times: number[]): Promise<string> {
    const file = join(tmp, name);
    await writeFile(file, times.map((ts, i) => JSON.stringify({ kind: 'trade', symbol: 'AAPL', ts, source: 't', id: `${i}`, price: 1, size: 1 })).join('\n'));
    return file;
  }

  it('paces batches at event-time deltas divided by speed, batching close timestamps', async () => {
    const T = 1704205800000;
    const file = await ndjson('paced.ndjson', [T, T + 4, T + 1000, T + 1010, T + 3000, T + 2000]);
    const clock = fakeClock();
    const sent: { at: number; n: number }[] = [];
    await new ReplaySource({ file, speed: 2, clock }).run(async (b) => {
      sent.push({ at: clock.now(), n: b.length });
    });
    expect(sent, 'at 2x: events 4 ms apart share a batch; +1 s goes out 500 ms later, +3 s at 1,500 ms; the late-in-file event goes out at once').toEqual([
      { at: 1_000, n: 2 },
      { at: 1_500, n: 2 },
      { at: 2_500, n: 1 },
      { at: 2_500, n: 1 },
    ]);
  });

  it("'max' never sleeps", async () => {
    const T = 1704205800000;
    const file = await ndjson('max.ndjson', [T, T + 60_000, T + 3_600_000]);
    const clock = fakeClock();
    const { records } = await replay({ file, speed: 'max', clock });
    expect(clock.sleeps, "'max' runs as fast as the sink accepts").toEqual([]);
    expect(records.length).toBe(3);
  });

  it('stop() mid-file ends the run after the current batch and closes the file', async () => {
    const file = await ndjson('long.ndjson', Array.from({ length: 10_000 }, (_, i) => 1704205800000 + i));
    const source = new ReplaySource({ file, speed: 'max', batchSize: 100 });
    let delivered = 0;
    await source.run(async (b) => {
      delivered += b.length;
      if (delivered === 300) await source.stop();
    });
    expect(delivered, 'nothing is delivered after the batch that stopped the replay').toBe(300);
    expect(source.delivered).toBe(300);
  });

  it('stop() during a pacing sleep returns promptly without delivering the waiting batch', async () => {
    const T = 1704205800000;
    const file = await ndjson('sleepy.ndjson', [T, T + 3_600_000]);
    let sleeping = false;
    const clock: ReplayClock = {
      now: () => 0,
      // Sleeps "an hour" until aborted: only stop() can end this wait.
      sleep: (_ms, signal) => {
        sleeping = true;
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      },
    };
    const source = new ReplaySource({ file, speed: 1, clock });
    let delivered = 0;
    const running = source.run(async (b) => {
      delivered += b.length;
    });
    while (!sleeping) await new Promise((r) => setImmediate(r));
    await source.stop();
    await running;
    expect(delivered, 'the hour-later event is never sent once stop() was called').toBe(1);
  });

  it('an aborted signal stops the replay like stop()', async () => {
    const file = await ndjson('signal.ndjson', Array.from({ length: 500 }, (_, i) => 1704205800000 + i));
    const controller = new AbortController();
    let delivered = 0;
    await new ReplaySource({ file, speed: 'max', batchSize: 100, signal: controller.signal }).run(async (b) => {
      delivered += b.length;
      controller.abort();
    });
    expect(delivered, 'the batch during which the signal aborted is the last').toBe(100);
  });

  it('reports a missing file with SS_CLI_FILE, the path and the OS reason', async () => {
    const file = join(tmp, 'nope.csv');
    await expectFileError(() => replay({ file, speed: 'max' }), /nope\.csv/, /ENOENT/);
    await expectFileError(() => replay({ file: join(tmp, 'nope.parquet'), speed: 'max' }), /ENOENT/);
    await expectFileError(() => replay({ file: tmp + '/', format: 'ndjson', speed: 'max' }), /not a regular file/);
  });

  it('refuses an unknown extension unless the format is given, and an empty CSV', async () => {
    expect(() => new ReplaySource({ file: 'ticks.txt', speed: 'max' }), 'the format cannot be guessed from .txt').toThrow(/format/);
    const file = join(tmp, 'ticks.txt');
    await writeFile(file, 'ts,symbol,price,size\n1704205800000,AAPL,1,1\n');
    expect((await replay({ file, format: 'csv', speed: 'max' })).records.length, 'an explicit format wins over the extension').toBe(1);
    const empty = join(tmp, 'empty.csv');
    await writeFile(empty, '');
    await expectFileError(() => replay({ file: empty, speed: 'max' }), /empty/);
  });

  it('rejects run() with the sink error, which ends the replay', async () => {
    const boom = new Error('log unavailable');
    const source = new ReplaySource({ file: join(FIXTURES, 'ticks.csv'), speed: 'max' });
    await expect(source.run(() => Promise.reject(boom)), 'a sink failure is not swallowed').rejects.toBe(boom);
  });

  it('refuses a non-positive speed', () => {
    expect(() => new ReplaySource({ file: 'a.csv', speed: 0 }), 'speed 0 would never replay anything').toThrow(/speed/);
  });
});
