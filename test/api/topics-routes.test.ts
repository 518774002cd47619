import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi, type ErrorBody, type MessagesPage, type TopicRow } from '../../src/api/index.js';
import type { Journal } from '../../src/log/index.js';
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
const HOUR = 3_600_000;

async function get(log: Journal, url: string): Promise<{ status: number; body: unknown }> {
  app ??= buildApi(deps(storeWithData(), { log }));
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() };
}

/** `events`: 120 JSON records in partition 0 of 2, each with a key, a header and a timestamp. */
async function eventsJournal(): Promise<Journal> {
  const j = await journals.open({ segmentBytes: 1024 });
  await j.ensureTopic('events', { partitions: 2, retentionMs: HOUR });
  await j.append(
    'events',
    Array.from({ length: 120 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(JSON.stringify({ n: i })), timestamp: NOW - 60_000 + i, headers: { source: 'test' }, partition: 0 })),
  );
  return j;
}

describe('GET /api/topics', () => {
  it('lists every topic by name with its partitions, retained messages, bytes and config', async () => {
    const j = await eventsJournal();
    await j.ensureTopic('alpha', { partitions: 1 });
    await j.append('alpha', [{ key: 'a', value: Buffer.from('x') }]);
    const { status, body } = await get(j, '/api/topics');
    expect(status).toBe(200);
    const rows = body as TopicRow[];
    expect(rows.map((t) => t.name), 'sorted by name').toEqual(['alpha', 'events']);
    const events = rows[1] as TopicRow;
    expect(events.partitions.map((p) => [p.partition, p.startOffset, p.endOffset]), 'offsets per partition as the log reports them').toEqual([
      [0, 0, 120],
      [1, 0, 0],
    ]);
    expect(events.messages, 'messages is the sum of end − start').toBe(120);
    expect(events.bytes, 'bytes is the sum over partitions, and the records take some').toBe(events.partitions.reduce((n, p) => n + p.bytes, 0));
    expect(events.bytes).toBeGreaterThan(120 * 8);
    expect(events.config, 'the topic config is passed through').toEqual({ partitions: 2, retentionMs: HOUR });
  });
});

describe('GET /api/topics/:topic/messages', () => {
  it('without offset: the newest `limit` messages (50 by default), oldest first, with key, timestamp, headers and size', async () => {
    const j = await eventsJournal();
    const tail = (await get(j, '/api/topics/events/messages?partition=0&limit=3')).body as MessagesPage;
    expect(tail, 'the last three of 120').toEqual({
      topic: 'events',
      partition: 0,
      startOffset: 0,
      endOffset: 120,
      messages: [117, 118, 119].map((n) => ({
        offset: n,
        key: `k${n}`,
        timestamp: NOW - 60_000 + n,
        headers: { source: 'test' },
        size: Buffer.byteLength(JSON.stringify({ n })),
        value: { n },
        encoding: 'json',
        truncated: false,
      })),
    });
    const page = (await get(j, '/api/topics/events/messages')).body as MessagesPage;
    expect(page.messages.map((m) => m.offset), 'partition 0 and 50 messages by default: 70..119').toEqual(Array.from({ length: 50 }, (_, i) => 70 + i));
    expect('clampedFrom' in page, 'a tail is never clamped').toBe(false);
  });

  it('with offset: `limit` messages from it; at the end offset an empty page; an empty partition is an empty page', async () => {
    const j = await eventsJournal();
    const from = (await get(j, '/api/topics/events/messages?partition=0&offset=10&limit=3')).body as MessagesPage;
    expect(from.messages.map((m) => [m.offset, m.value]), 'offsets 10, 11, 12 in order').toEqual([
      [10, { n: 10 }],
      [11, { n: 11 }],
      [12, { n: 12 }],
    ]);
    const atEnd = (await get(j, '/api/topics/events/messages?partition=0&offset=120')).body as MessagesPage;
    expect(atEnd.messages, 'the end offset is where the next message will be: nothing yet').toEqual([]);
    const empty = (await get(j, '/api/topics/events/messages?partition=1')).body as MessagesPage;
    expect([empty.startOffset, empty.endOffset, empty.messages], 'partition 1 holds nothing').toEqual([0, 0, []]);
  });

  it('an offset that retention deleted is clamped to the start offset and the page says which offset was asked for', async () => {
    const j = await journals.open({ segmentBytes: 1024 });
    await j.ensureTopic('old', { partitions: 1, retentionMs: HOUR });
    await j.append('old', Array.from({ length: 40 }, (_, i) => ({ key: 'k', value: Buffer.from(`old ${i}`), timestamp: NOW - 5 * HOUR + i })));
    await j.append('old', Array.from({ length: 40 }, (_, i) => ({ key: 'k', value: Buffer.from(`new ${i}`), timestamp: NOW - 60_000 + i })));
    expect(await j.enforceRetention(NOW), 'the fixture needs deleted segments').toBeGreaterThan(0);
    const page = (await get(j, '/api/topics/old/messages?offset=0&limit=2')).body as MessagesPage;
    expect(page.startOffset, 'retention moved the start').toBeGreaterThan(0);
    expect(page.clampedFrom, 'the offset asked for is reported').toBe(0);
    expect(page.messages.map((m) => m.offset), 'the page starts at the start offset').toEqual([page.startOffset, page.startOffset + 1]);
    expect(page.messages[0]?.encoding, 'plain text values are text').toBe('text');
  });

  it('shows JSON as JSON, printable UTF-8 as text, binary and control characters as base64, and cuts values at 64 KiB', async () => {
    const j = await journals.open();
    await j.ensureTopic('mixed', { partitions: 1 });
    const values: Uint8Array[] = [
      Buffer.from('{"rule":"missing","field":"price"}'),
      Buffer.from('hello, wörld\n'),
      Uint8Array.from([0, 1, 2, 255, 254]),
      Buffer.from('a\u0001b'),
      Buffer.from('{"s":"' + 'x'.repeat(70_000) + '"}'),
      Buffer.from('€'.repeat(30_000)),
      new Uint8Array(0),
    ];
    await j.append('mixed', values.map((value) => ({ key: 'k', value })));
    const page = (await get(j, '/api/topics/mixed/messages?offset=0')).body as MessagesPage;
    const shown = page.messages.map((m) => ({ encoding: m.encoding, truncated: m.truncated, size: m.size }));
    expect(shown, 'encoding, cut and stored size of each value').toEqual([
      { encoding: 'json', truncated: false, size: 34 },
      { encoding: 'text', truncated: false, size: 14 },
      { encoding: 'base64', truncated: false, size: 5 },
      { encoding: 'base64', truncated: false, size: 3 },
      { encoding: 'text', truncated: true, size: 70_008 },
      { encoding: 'text', truncated: true, size: 90_000 },
      { encoding: 'text', truncated: false, size: 0 },
    ]);
    expect(page.messages[0]?.value, 'JSON values are parsed').toEqual({ rule: 'missing', field: 'price' });
    expect(page.messages[1]?.value, 'UTF-8 text is decoded').toBe('hello, wörld\n');
    expect(page.messages[2]?.value, 'binary is base64 of the exact bytes').toBe('AAEC//4=');
    expect((page.messages[4]?.value as string).length, 'a cut JSON value is shown as its first 64 KiB of text (it no longer parses)').toBe(65_536);
    expect(page.messages[5]?.value, 'a cut through a 3-byte character drops the partial character, not the whole value').toBe('€'.repeat(21_845));
  });

  it.each([
    ['/api/topics/nope/messages', 404, 'SS_API_NOT_FOUND', 'topic: "nope" does not exist; the topics are events'],
    ['/api/topics/events/messages?partition=2', 404, 'SS_API_NOT_FOUND', 'partition: 2 does not exist in events, which has partitions 0..1'],
    ['/api/topics/events/messages?partition=-1', 400, 'SS_API_BAD_REQUEST', 'partition: expected an integer from 0 to 1000000, got "-1"'],
    ['/api/topics/events/messages?offset=abc', 400, 'SS_API_BAD_REQUEST', 'offset: expected an integer from 0 to'],
    ['/api/topics/events/messages?offset=121', 400, 'SS_API_BAD_REQUEST', 'offset: 121 is past the end of events/0, whose retained offsets are 0..119 (120 is the next to be written); pass an offset up to 120'],
    ['/api/topics/events/messages?limit=0', 400, 'SS_API_BAD_REQUEST', 'limit: expected an integer from 1 to 500, got "0"'],
    ['/api/topics/events/messages?limit=501', 400, 'SS_API_BAD_REQUEST', 'limit: expected an integer from 1 to 500, got "501"'],
    ['/api/topics/events/messages?from=3', 400, 'SS_API_BAD_REQUEST', 'from: unknown query parameter; this endpoint accepts partition, offset, limit'],
    ['/api/topics?x=1', 400, 'SS_API_BAD_REQUEST', 'x: unknown query parameter; this endpoint takes no query parameters'],
  ])('GET %s → %i naming what is wrong and what exists', async (url, status, code, message) => {
    const j = await eventsJournal();
    const res = await get(j, url);
    expect(res.status, `${url} must be refused with ${status}`).toBe(status);
    expect((res.body as ErrorBody).error, 'the error names the field, the value and what to pass instead').toMatchObject({ code, message: expect.stringContaining(message) });
  });
});
