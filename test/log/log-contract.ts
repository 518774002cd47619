/**
 * The Log contract (src/log/log.ts), as a reusable suite: every implementation of the port (the
 * journal, the Kafka adapter) runs it through its own factory. It uses only the port and the
 * Kafka-compatible partitioner, never an implementation's internals. Topic and group names are
 * unique per test so an implementation backed by a shared cluster can run it too.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStockStreamError, type ErrorCode } from '../../src/shared/errors.js';
import type { Log, LogRecord, ProducerRecord, RecordCodec } from '../../src/log/log.js';
import { partitionForKey } from '../../src/log/partitioner.js';

export interface LogUnderTest {
  log: Log;
  /** Closes whatever the factory opened (including logs returned by reopen) and removes data. */
  cleanup(): Promise<void>;
  /**
   * Optional: opens the same storage again. The suite closes the previous log first; an
   * implementation that cannot reopen (in-memory) leaves this out and the durability test skips.
   */
  reopen?(): Promise<Log>;
}

let seq = 0;
function unique(prefix: string): string {
  seq++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq}`;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (b: Uint8Array): string => dec.decode(b);

async function expectCode(p: Promise<unknown>, code: ErrorCode, why: string): Promise<void> {
  let caught: unknown = null;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, `${why}: the call must fail`).not.toBeNull();
  expect(isStockStreamError(caught, code), `${why}: expected StockStreamError ${code}, got ${String(caught)}`).toBe(true);
}

async function readAll(log: Log, topic: string, partition: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for (;;) {
    const from = out.length === 0 ? 0 : out[out.length - 1]!.offset + 1;
    const batch = await log.read({ topic, partition }, from, 1000);
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

/** Items of the appendItems tests: the codec writes a float64 then the note as UTF-8. */
interface Item {
  sym: string;
  ts: number;
  x: number;
  note: string;
}

const ITEMS: RecordCodec<Item> = {
  key: (it) => it.sym,
  timestamp: (it) => it.ts,
  maxBytes: (it) => 8 + 3 * it.note.length,
  write: (it, buf, view, pos) => {
    view.setFloat64(pos, it.x, true);
    return pos + 8 + buf.write(it.note, pos + 8, 'utf8');
  },
};

/** The value ITEMS writes for `it`, made independently of the codec. */
function itemBytes(it: Item): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(it.x, 0);
  return [...b, ...Buffer.from(it.note, 'utf8')];
}

export function logContract(name: string, factory: () => Promise<LogUnderTest>): void {
  describe(`Log contract: ${name}`, () => {
    let h: LogUnderTest;
    let log: Log;

    beforeEach(async () => {
      h = await factory();
      log = h.log;
    });

    afterEach(async () => {
      await h.cleanup();
    });

    it('ensureTopic is idempotent and an existing topic keeps its partition count', async () => {
      const t = unique('topic');
      await log.ensureTopic(t, { partitions: 3 });
      await log.ensureTopic(t, { partitions: 3 });
      await log.ensureTopic(t, { partitions: 5 });
      const info = (await log.topics()).find((x) => x.name === t);
      expect(info, 'the created topic must be listed by topics()').toBeDefined();
      expect(info!.partitions.length, 'a second ensureTopic must not change the partition count').toBe(3);
      expect(info!.config.partitions, 'the config must report the partition count in force').toBe(3);
      for (const p of info!.partitions) {
        expect([p.startOffset, p.endOffset], `a new partition ${p.partition} must be empty at offset 0`).toEqual([0, 0]);
      }
    });

    it('append to a missing topic fails with SS_LOG_TOPIC', async () => {
      await expectCode(log.append(unique('missing'), [{ key: 'k', value: bytes('v') }]), 'SS_LOG_TOPIC', 'appending to a topic never created');
    });

    it('acks come in input order, with consecutive offsets per partition from 0', async () => {
      const t = unique('acks');
      await log.ensureTopic(t, { partitions: 4 });
      const records: ProducerRecord[] = Array.from({ length: 200 }, (_, i) => ({ key: `K${i % 13}`, value: bytes(String(i)) }));
      const acks = await log.append(t, records);
      expect(acks.length, 'one ack per record').toBe(records.length);
      const next = [0, 0, 0, 0];
      acks.forEach((a, i) => {
        expect(a.partition, `ack ${i} must name the partition of record ${i}`).toBe(partitionForKey(records[i]!.key, 4));
        expect(a.offset, `ack ${i} must be the next offset of its partition (acks in input order)`).toBe(next[a.partition]);
        next[a.partition]!++;
      });
      const more = await log.append(t, [{ key: 'K0', value: bytes('again') }]);
      const p = partitionForKey('K0', 4);
      expect(more[0]!.offset, 'a later append continues where the earlier one ended').toBe(next[p]);
    });

    it('takes one append larger than a broker batch (3 MiB into one partition), in order, every byte', async () => {
      const t = unique('big');
      await log.ensureTopic(t, { partitions: 2 });
      // Kafka refuses a record batch above message.max.bytes (1 MiB by default): 12,000 records of 256 bytes must still land.
      const records: ProducerRecord[] = Array.from({ length: 12_000 }, (_, i) => ({ key: 'one', partition: 1, value: bytes(String(i).padStart(256, '.')) }));
      const acks = await log.append(t, records);
      expect(acks.map((a) => a.offset), 'consecutive offsets in input order').toEqual(records.map((_, i) => i));
      const back: LogRecord[] = [];
      while (back.length < records.length) {
        const got = await log.read({ topic: t, partition: 1 }, back.length, records.length - back.length);
        if (got.length === 0) break;
        back.push(...got);
      }
      expect(back.map((r) => text(r.value)), 'every record reads back in order').toEqual(records.map((r) => text(r.value)));
    });

    it('places keys with the Kafka murmur2 partitioner and honours an explicit partition', async () => {
      const t = unique('place');
      await log.ensureTopic(t, { partitions: 6 });
      const keys = ['AAPL', 'MSFT', 'VNM:FPT', 'BTC-USD', '', 'é'];
      const acks = await log.append(t, keys.map((key) => ({ key, value: bytes(key) })));
      keys.forEach((k, i) => expect(acks[i]!.partition, `key ${JSON.stringify(k)} must go where Kafka's Java client puts it`).toBe(partitionForKey(k, 6)));
      const [explicit] = await log.append(t, [{ key: 'AAPL', value: bytes('x'), partition: 5 }]);
      expect(explicit!.partition, 'an explicit partition overrides the key hash').toBe(5);
      await expectCode(log.append(t, [{ key: 'AAPL', value: bytes('x'), partition: 6 }]), 'SS_LOG_TOPIC', 'a partition beyond the topic');
    });

    it('keeps per-key order within a partition across concurrent appends', async () => {
      const t = unique('order');
      await log.ensureTopic(t, { partitions: 3 });
      const keys = ['A', 'B', 'C', 'D', 'E'];
      const appends: Promise<unknown>[] = [];
      // Appends issued in sequence (without awaiting) must land in issue order.
      for (let b = 0; b < 20; b++) {
        appends.push(log.append(t, keys.flatMap((k) => [0, 1, 2].map((j) => ({ key: k, value: bytes(`${k}:${b * 3 + j}`) })))));
      }
      await Promise.all(appends);
      for (let p = 0; p < 3; p++) {
        const last = new Map<string, number>();
        for (const r of await readAll(log, t, p)) {
          const [k, n] = text(r.value).split(':');
          expect(partitionForKey(k!, 3), `key ${k} must only appear in its own partition`).toBe(p);
          expect(Number(n), `records of key ${k} must be in append order`).toBeGreaterThan(last.get(k!) ?? -1);
          last.set(k!, Number(n));
        }
      }
    });

    it('read returns records with every field intact', async () => {
      const t = unique('fields');
      await log.ensureTopic(t, { partitions: 1 });
      const value = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
      await log.append(t, [
        { key: 'AAPL', value, timestamp: 1_700_000_000_123, headers: { source: 'sim', 'content-type': 'application/x-ss' } },
        { key: 'Hòa Phát', value: new Uint8Array(0), timestamp: 1_700_000_000_124 },
      ]);
      const [a, b] = await log.read({ topic: t, partition: 0 }, 0, 10);
      expect(a, 'the first record must be readable').toBeDefined();
      expect({ topic: a!.topic, partition: a!.partition, offset: a!.offset, key: a!.key, ts: a!.timestamp }, 'metadata must round-trip').toEqual({
        topic: t,
        partition: 0,
        offset: 0,
        key: 'AAPL',
        ts: 1_700_000_000_123,
      });
      expect(Array.from(a!.value), 'value bytes must round-trip exactly').toEqual(Array.from(value));
      expect(a!.headers, 'headers must round-trip').toEqual({ source: 'sim', 'content-type': 'application/x-ss' });
      expect(b!.key, 'a UTF-8 key must round-trip').toBe('Hòa Phát');
      expect(b!.value.length, 'an empty value stays empty').toBe(0);
      expect(b!.headers, 'absent headers read as an empty object').toEqual({});
      // A log may say where a value lies in a larger buffer (the journal's file reads); it must agree with value.
      for (const r of [a!, b!]) {
        if (r.valueSource === undefined) continue;
        const at = r.valueAt as number;
        expect(Array.from(r.valueSource.subarray(at, at + (r.valueLength as number))), `valueSource/valueAt/valueLength of offset ${r.offset} hold exactly its value`).toEqual(Array.from(r.value));
      }
    });

    it('read defaults the timestamp to append time, clamps below start, stops at end and honours max', async () => {
      const t = unique('read');
      await log.ensureTopic(t, { partitions: 1 });
      const before = Date.now();
      await log.append(t, Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: bytes(String(i)) })));
      const after = Date.now();
      const tp = { topic: t, partition: 0 };
      const first = await log.read(tp, 0, 5);
      expect(first.map((r) => r.offset), 'max limits the records returned').toEqual([0, 1, 2, 3, 4]);
      expect(first[0]!.timestamp, 'a record without timestamp gets the append time').toBeGreaterThanOrEqual(before);
      expect(first[0]!.timestamp, 'a record without timestamp gets the append time').toBeLessThanOrEqual(after);
      expect((await log.read(tp, 45, 100)).map((r) => r.offset), 'reading near the end returns the tail only').toEqual([45, 46, 47, 48, 49]);
      expect(await log.read(tp, 50, 100), 'reading at the end offset returns nothing').toEqual([]);
      expect(await log.read(tp, 10, 0), 'max 0 returns nothing').toEqual([]);
    });

    it('topics() reports start and end offsets and bytes per partition', async () => {
      const t = unique('info');
      await log.ensureTopic(t, { partitions: 2, retentionMs: 86_400_000 });
      await log.append(t, [
        { key: 'x', value: bytes('a'), partition: 0 },
        { key: 'x', value: bytes('b'), partition: 0 },
        { key: 'x', value: bytes('c'), partition: 1 },
      ]);
      const info = (await log.topics()).find((x) => x.name === t)!;
      expect(info.config.retentionMs, 'the topic config must be reported').toBe(86_400_000);
      expect(info.partitions.map((p) => [p.partition, p.startOffset, p.endOffset]), 'end offsets count the records appended').toEqual([
        [0, 0, 2],
        [1, 0, 1],
      ]);
      expect(info.partitions[0]!.bytes, 'a partition holding records has a positive size').toBeGreaterThan(0);
    });

    it('acknowledged records survive close and reopen', async () => {
      if (h.reopen === undefined) return;
      const t = unique('durable');
      await log.ensureTopic(t, { partitions: 2 });
      const acks = await log.append(t, Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: bytes(`v${i}`), timestamp: 1000 + i })));
      await log.close();
      log = await h.reopen();
      for (const [i, a] of acks.entries()) {
        const [r] = await log.read({ topic: t, partition: a.partition }, a.offset, 1);
        expect(r && text(r.value), `acked record ${i} must be readable after reopen at its acked position`).toBe(`v${i}`);
      }
      const info = (await log.topics()).find((x) => x.name === t);
      expect(info?.partitions.length, 'the topic and its partition count survive reopen').toBe(2);
    });

    it('appendItems: one record per item, placed by key, with the codec\'s key, timestamp and bytes, intact after later appends', async () => {
      const t = unique('items');
      await log.ensureTopic(t, { partitions: 3 });
      const make = (from: number, n: number): Item[] =>
        Array.from({ length: n }, (_, k) => {
          const i = from + k;
          return { sym: `S${i % 17}`, ts: 1_700_000_000_000 + i, x: i / 7, note: i % 5 === 0 ? `Hòa Phát ${i} €` : `n${i}` };
        });
      const first = make(0, 400);
      await log.appendItems(t, first, ITEMS);
      // Later appends of both kinds: a log that reused the first items' buffers would corrupt them.
      await log.appendItems(t, make(400, 300), ITEMS);
      await log.append(t, [{ key: 'S1', value: bytes('plain'), timestamp: 1 }]);
      await log.appendItems(t, make(700, 300), ITEMS);
      const all = make(0, 1000);
      const got = new Map<string, LogRecord>();
      for (let p = 0; p < 3; p++) for (const r of await readAll(log, t, p)) if (r.key !== 'S1' || r.timestamp !== 1) got.set(`${r.timestamp}`, r);
      expect(got.size, 'every item is one record').toBe(all.length);
      const wrong: string[] = [];
      const next = [0, 0, 0];
      for (const it of all) {
        const r = got.get(`${it.ts}`);
        const p = partitionForKey(it.sym, 3);
        if (r === undefined || r.key !== it.sym || r.partition !== p || Array.from(r.value).join() !== itemBytes(it).join()) wrong.push(`${it.ts}: ${r === undefined ? 'missing' : `${r.key}@${r.partition} ${Array.from(r.value).length} bytes`}`);
        else if (r.offset < next[p]!) wrong.push(`${it.ts}: offset ${r.offset} out of input order in partition ${p}`);
        else next[p] = r.offset + 1;
        if (r?.payload !== undefined && r.payload !== it) wrong.push(`${it.ts}: a payload, when given, is the item itself`);
      }
      expect(wrong.slice(0, 5), 'each record has the item\'s key, its partition by key, its bytes exactly, in input order per partition').toEqual([]);

      await expectCode(log.appendItems(t, [...make(1000, 3), { sym: 7 as unknown as string, ts: 1, x: 0, note: '' }], ITEMS), 'SS_INGEST_REJECT', 'an item without a string key');
      await expectCode(log.appendItems(t, [{ sym: 'S1', ts: Number.NaN, x: 0, note: '' }], ITEMS), 'SS_INGEST_REJECT', 'an item with a timestamp that is not a number');
      const ends = (await log.topics()).find((x) => x.name === t)!.partitions.map((x) => x.endOffset);
      expect(ends.reduce((a, b) => a + b, 0), 'a refused batch appends none of its items').toBe(1001);
    });

    it('appendItems are durable: readable after close and reopen', async () => {
      if (h.reopen === undefined) return;
      const t = unique('items-durable');
      await log.ensureTopic(t, { partitions: 2 });
      const items = Array.from({ length: 200 }, (_, i): Item => ({ sym: `k${i}`, ts: 5000 + i, x: -i, note: `v${i}` }));
      await log.appendItems(t, items, ITEMS);
      await log.close();
      log = await h.reopen();
      const back = [...(await readAll(log, t, 0)), ...(await readAll(log, t, 1))].sort((a, b) => a.timestamp - b.timestamp);
      expect(back.map((r) => [r.key, Array.from(r.value).join()]), 'every item, its key and bytes, from the files').toEqual(items.map((it) => [it.sym, itemBytes(it).join()]));
    });

    it('a consumer with reset earliest reads everything; with latest only what comes after it', async () => {
      const t = unique('reset');
      await log.ensureTopic(t, { partitions: 2 });
      await log.append(t, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: bytes(`old${i}`) })));
      const early = await log.consumer({ group: unique('g'), topics: [t], reset: 'earliest' });
      const late = await log.consumer({ group: unique('g'), topics: [t], reset: 'latest' });
      expect(early.assignment().length, 'a lone member owns every partition of its topics').toBe(2);
      expect((await early.poll({ timeoutMs: 1000 })).length, 'earliest starts at the start of each partition').toBe(10);
      expect(await late.poll(), 'latest skips what was there before').toEqual([]);
      await log.append(t, [{ key: 'k1', value: bytes('new') }]);
      const got = await late.poll({ timeoutMs: 5000 });
      expect(got.map((r) => text(r.value)), 'latest receives records appended after it started').toEqual(['new']);
      await early.close();
      await late.close();
    });

    it('commit persists the group position and a new member resumes from it', async () => {
      const t = unique('commit');
      const group = unique('g');
      await log.ensureTopic(t, { partitions: 1 });
      await log.append(t, Array.from({ length: 30 }, (_, i) => ({ key: 'k', value: bytes(String(i)) })));
      const c1 = await log.consumer({ group, topics: [t] });
      const tp = { topic: t, partition: 0 };
      expect(await c1.committed(tp), 'nothing is committed before the first commit').toBeNull();
      const first = await c1.poll({ maxRecords: 12 });
      expect(first.length, 'maxRecords caps the poll').toBe(12);
      await c1.commit([{ ...tp, offset: first[first.length - 1]!.offset + 1 }]);
      expect(await c1.committed(tp), 'committed returns the next offset to read').toBe(12);
      await c1.close();
      const c2 = await log.consumer({ group, topics: [t], reset: 'latest' });
      const rest = await c2.poll({ timeoutMs: 1000 });
      expect(rest[0]?.offset, 'a new member resumes at the committed offset, not at the reset policy').toBe(12);
      expect(rest.length, 'and reads the remainder').toBe(18);
      await c2.close();
      if (h.reopen !== undefined) {
        await log.close();
        log = await h.reopen();
        const c3 = await log.consumer({ group, topics: [t] });
        expect(await c3.committed(tp), 'the commit survives reopen').toBe(12);
        await c3.close();
      }
    });

    it('seek moves to earliest, latest, an offset or the first record at or after a timestamp', async () => {
      const t = unique('seek');
      await log.ensureTopic(t, { partitions: 1 });
      await log.append(t, Array.from({ length: 20 }, (_, i) => ({ key: 'k', value: bytes(String(i)), timestamp: 10_000 + i * 100 })));
      const c = await log.consumer({ group: unique('g'), topics: [t] });
      const tp = { topic: t, partition: 0 };
      await c.seek(tp, { offset: 7 });
      expect((await c.poll({ maxRecords: 1 }))[0]?.offset, 'seek to an offset').toBe(7);
      await c.seek(tp, 'latest');
      expect(await c.poll(), 'seek latest leaves nothing to read').toEqual([]);
      await c.seek(tp, 'earliest');
      expect((await c.poll({ maxRecords: 1 }))[0]?.offset, 'seek earliest').toBe(0);
      await c.seek(tp, { timestamp: 10_000 + 5 * 100 + 1 });
      expect((await c.poll({ maxRecords: 1 }))[0]?.offset, 'seek to a timestamp lands on the first record at or after it').toBe(6);
      await c.seek(tp, { timestamp: 10_000 + 3 * 100 });
      expect((await c.poll({ maxRecords: 1 }))[0]?.offset, 'an exact timestamp match is included').toBe(3);
      await c.seek(tp, { timestamp: 99_999_999 });
      expect(await c.poll(), 'a timestamp after every record seeks to the end').toEqual([]);
      await c.close();
    });

    it('poll waits for an append and wakes up with it', async () => {
      const t = unique('wake');
      await log.ensureTopic(t, { partitions: 2 });
      const c = await log.consumer({ group: unique('g'), topics: [t], reset: 'latest' });
      // A long timeout: the assertion is that the append ends the wait, which the test
      // runner's own timeout would expose if it did not.
      const polled = c.poll({ timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 20));
      await log.append(t, [{ key: 'wake', value: bytes('up') }]);
      const got = await polled;
      expect(got.map((r) => text(r.value)), 'the waiting poll returns the appended record').toEqual(['up']);
      expect(await c.poll({ timeoutMs: 30 }), 'a poll that times out with nothing new returns empty').toEqual([]);
      await c.close();
    });

    it('maxRecords caps each poll; successive polls cover every record once, in offset order per partition', async () => {
      const t = unique('max');
      await log.ensureTopic(t, { partitions: 3 });
      await log.append(t, Array.from({ length: 250 }, (_, i) => ({ key: `k${i % 17}`, value: bytes(String(i)) })));
      const c = await log.consumer({ group: unique('g'), topics: [t] });
      const seen: LogRecord[] = [];
      for (;;) {
        const got = await c.poll({ maxRecords: 40 });
        expect(got.length, 'no poll returns more than maxRecords').toBeLessThanOrEqual(40);
        if (got.length === 0) break;
        seen.push(...got);
      }
      expect(seen.length, 'every record is delivered exactly once').toBe(250);
      for (let p = 0; p < 3; p++) {
        const offs = seen.filter((r) => r.partition === p).map((r) => r.offset);
        expect(offs, `partition ${p} is delivered in offset order without gaps`).toEqual(offs.map((_, i) => i));
      }
      await c.close();
    });

    it('operations after close fail with SS_LOG_CLOSED', async () => {
      const t = unique('closed');
      await log.ensureTopic(t, { partitions: 1 });
      const c = await log.consumer({ group: unique('g'), topics: [t] });
      await c.close();
      await expectCode(c.poll(), 'SS_LOG_CLOSED', 'poll on a closed consumer');
      await log.close();
      await expectCode(log.append(t, [{ key: 'k', value: bytes('v') }]), 'SS_LOG_CLOSED', 'append on a closed log');
      await expectCode(log.read({ topic: t, partition: 0 }, 0, 1), 'SS_LOG_CLOSED', 'read on a closed log');
      await expectCode(log.topics(), 'SS_LOG_CLOSED', 'topics on a closed log');
      await expectCode(log.consumer({ group: 'g', topics: [t] }), 'SS_LOG_CLOSED', 'consumer on a closed log');
    });
  });
}
