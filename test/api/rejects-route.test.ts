import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi, type ErrorBody, type LogReader, type RejectRow } from '../../src/api/index.js';
import type { Journal } from '../../src/log/index.js';
import { DLQ_TOPIC, IngestWriter, TICKS_TOPIC } from '../../src/sources/ingest/index.js';
import { deps, storeWithData } from './fixtures.js';
import { TempJournals } from './log-fixture.js';

const journals = new TempJournals();
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  await journals.closeAll();
});

const NOW = 1_800_000_000_000;

/** A journal with the ingest topics and a writer whose clock the test moves. */
async function ingest(): Promise<{ j: Journal; writer: IngestWriter; clock: { now: number } }> {
  const j = await journals.open();
  await j.ensureTopic(TICKS_TOPIC, { partitions: 2 });
  await j.ensureTopic(DLQ_TOPIC, { partitions: 1 });
  const clock = { now: NOW };
  const writer = new IngestWriter({
    log: j,
    source: 'test',
    now: () => clock.now,
    policy: (now) => ({ now, maxFutureMs: 60_000, maxPastMs: 86_400_000, knownSymbols: new Set(['AAPL']) }),
  });
  return { j, writer, clock };
}

const trade = (id: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({ kind: 'trade', symbol: 'AAPL', ts: NOW - 1000, source: 'test', id, price: 190, size: 100, ...over });

async function rejects(log: LogReader, query = ''): Promise<{ status: number; body: unknown }> {
  app ??= buildApi(deps(storeWithData(), { log }));
  const res = await app.inject({ url: `/api/rejects${query}` });
  return { status: res.statusCode, body: res.json() };
}

describe('GET /api/rejects', () => {
  it('lists dead letters from a real ingest, newest first, with their place in ticks.dlq and the reason', async () => {
    const { j, writer, clock } = await ingest();
    await writer.write([trade('ok1'), trade('nan', { price: Number.NaN }), '{"kind":"trade",']);
    clock.now += 5_000;
    await writer.write([trade('zz', { symbol: 'ZZZZ' }), trade('ok2')]);
    const { status, body } = await rejects(j);
    expect(status).toBe(200);
    const rows = body as RejectRow[];
    expect(rows.map((r) => [r.offset, r.ts, 'rule' in r ? r.rule : null]), 'three rejects, the later batch first').toEqual([
      [2, NOW + 5_000, 'unknown_symbol'],
      [1, NOW, 'malformed'],
      [0, NOW, 'non_finite'],
    ]);
    expect(rows[2], 'a row is the dead letter itself plus where it sits in the log').toEqual({
      partition: 0,
      offset: 0,
      ts: NOW,
      rule: 'non_finite',
      field: 'price',
      value: 'NaN',
      message: expect.stringMatching(/finite number, got NaN/),
      source: 'test',
      raw: { ...trade('nan'), price: null },
      receivedAt: NOW,
    });
    expect(rows[1]?.['raw' as keyof RejectRow], 'unparseable text is kept as it came').toBe('{"kind":"trade",');
  });

  it('reads only the tail of ticks.dlq: limit=5 of 300 dead letters reads 5 records', async () => {
    const { j, writer, clock } = await ingest();
    for (let b = 0; b < 3; b++) {
      clock.now += 1000;
      await writer.write(Array.from({ length: 100 }, (_, i) => trade(`bad${b}-${i}`, { size: -1 - i })));
    }
    let recordsRead = 0;
    // The real journal, observed: how many records the route pulls out of it.
    const observed: LogReader = {
      topics: () => j.topics(),
      read: async (tp, offset, max) => {
        const got = await j.read(tp, offset, max);
        recordsRead += got.length;
        return got;
      },
    };
    const rows = (await rejects(observed, '?limit=5')).body as RejectRow[];
    expect(rows.map((r) => r.offset), 'the five newest, newest first').toEqual([299, 298, 297, 296, 295]);
    expect(recordsRead, 'no more than `limit` records are read from the partition').toBe(5);
    expect(rows.every((r) => 'rule' in r && r.rule === 'negative'), 'each is a negative-size reject').toBe(true);
  });

  it('shows a ticks.dlq record that is not a dead letter with a message saying where to look', async () => {
    const { j } = await ingest();
    await j.append(DLQ_TOPIC, [{ key: 'x', value: Uint8Array.from([0xff, 0x00]), timestamp: NOW }]);
    const rows = (await rejects(j)).body as { message: string; raw: unknown }[];
    expect(rows[0]?.message, 'says it is not a dead letter and how to see it').toMatch(/not a dead-letter JSON object; GET \/api\/topics\/ticks\.dlq\/messages\?partition=0&offset=0/);
    expect(rows[0]?.raw, 'the bytes as base64').toBe('/wA=');
  });

  it('is an empty list before the dead-letter topic exists', async () => {
    const j = await journals.open();
    expect((await rejects(j)).body, 'no topic, no rejects').toEqual([]);
  });

  it.each([
    ['?limit=0', 'limit: expected an integer from 1 to 1000, got "0"'],
    ['?limit=1001', 'limit: expected an integer from 1 to 1000, got "1001"'],
    ['?limit=ten', 'limit: expected an integer from 1 to 1000, got "ten"'],
    ['?rule=x', 'rule: unknown query parameter; this endpoint accepts limit'],
  ])('GET /api/rejects%s → 400 naming the field', async (query, message) => {
    const { j } = await ingest();
    const res = await rejects(j, query);
    expect(res.status, 'bad parameters are client errors').toBe(400);
    expect((res.body as ErrorBody).error, 'the message names the field, the value and the range').toMatchObject({ code: 'SS_API_BAD_REQUEST', message: expect.stringContaining(message) });
  });
});
