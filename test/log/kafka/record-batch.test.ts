import { Reader, readRecordsBatch } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { AbortedTransactions, decodeBatch, scanBatches } from '../../../src/log/kafka/record-batch.js';
import type { LogRecord } from '../../../src/log/log.js';
import { isStockStreamError } from '../../../src/shared/errors.js';
import { encodeBatch, markerRecord, type BuiltBatch, type BuiltRecord, type Codec } from './batch-builder.js';

/**
 * The v2 record batch decoder on hand-built batches (batch-builder.ts writes them as a producer
 * does): edge cases one by one, a seeded random round trip, and a cross-check against
 * @platformatic/kafka's own decoder. Batches fetched from a real broker: fetch-request.test.ts.
 */

const T = 'ticks';

function decodeAll(buf: Buffer, minOffset = 0, aborted: AbortedTransactions | null = null): LogRecord[] {
  const out: LogRecord[] = [];
  const scan = scanBatches(buf, 0, buf.length);
  for (let at = 0; at < scan.end; ) at = decodeBatch(buf, at, T, 3, minOffset, out, aborted);
  return out;
}

function rec(offsetDelta: number, key: string | null, value: string | Buffer | null, extra: Partial<BuiltRecord> = {}): BuiltRecord {
  return { key: key === null ? null : Buffer.from(key, 'utf8'), value: value === null ? null : Buffer.from(value), offsetDelta, timestampDelta: offsetDelta * 10, ...extra };
}

const text = (r: LogRecord): string => Buffer.from(r.value).toString('utf8');

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return isStockStreamError(err) ? err.code : `not a StockStreamError: ${String(err)}`;
  }
}

describe('record batch decoder (v2) on hand-built batches', () => {
  it('decodes every field: offsets and timestamps from the base plus deltas, key as a string, value as a view', () => {
    const buf = encodeBatch({ baseOffset: 100, baseTimestamp: 1_772_000_000_000, records: [rec(0, 'AAPL', 'one'), rec(1, 'MSFT', 'two'), rec(2, 'AAPL', 'three', { timestampDelta: -5 })] });
    const out = decodeAll(buf);
    expect(out.map((r) => [r.topic, r.partition, r.offset, r.key, text(r), r.timestamp]), 'each record as it was built').toEqual([
      [T, 3, 100, 'AAPL', 'one', 1_772_000_000_000],
      [T, 3, 101, 'MSFT', 'two', 1_772_000_000_010],
      [T, 3, 102, 'AAPL', 'three', 1_771_999_999_995],
    ]);
    expect(out[0]!.value.buffer, 'values are views of the fetched bytes, not copies').toBe(buf.buffer);
    expect(out[0]!.headers, 'a record without headers has none').toEqual({});
  });

  it('null key and null value decode as an empty key and an empty value; an empty key stays empty', () => {
    const out = decodeAll(encodeBatch({ baseOffset: 0, baseTimestamp: 0, records: [rec(0, null, null), rec(1, '', 'v'), rec(2, 'k', '')] }));
    expect(out.map((r) => [r.key, r.value.length]), 'null and empty alike become empty').toEqual([
      ['', 0],
      ['', 1],
      ['k', 0],
    ]);
  });

  it('headers decode to strings, a null header value to an empty string, UTF-8 intact', () => {
    const headers: [string, Buffer | null][] = [
      ['ckpt', Buffer.from('c-1')],
      ['part', Buffer.from('2')],
      ['empty', null],
      ['ünï', Buffer.from('€ 5')],
    ];
    const [r] = decodeAll(encodeBatch({ baseOffset: 7, baseTimestamp: 1, records: [rec(0, 'Ω-key', 'x', { headers })] }));
    expect(r?.headers, 'every header as written').toEqual({ ckpt: 'c-1', part: '2', empty: '', ünï: '€ 5' });
    expect(r?.key, 'a UTF-8 key survives').toBe('Ω-key');
  });

  it('an empty batch (every record compacted away) yields nothing, and the scan still moves past its offsets', () => {
    const buf = Buffer.concat([encodeBatch({ baseOffset: 10, lastOffsetDelta: 4, baseTimestamp: 0, records: [] }), encodeBatch({ baseOffset: 15, baseTimestamp: 0, records: [rec(0, 'k', 'after')] })]);
    expect(scanBatches(buf, 0, buf.length).nextOffset, 'the next fetch starts after the last batch').toBe(16);
    expect(decodeAll(buf).map((r) => [r.offset, text(r)]), 'only the record of the second batch').toEqual([[15, 'after']]);
  });

  it('skips records below minOffset (a fetch returns the whole batch that holds the fetch offset)', () => {
    const buf = encodeBatch({ baseOffset: 50, baseTimestamp: 0, records: [0, 1, 2, 3, 4].map((i) => rec(i, 'k', String(i))) });
    expect(decodeAll(buf, 53).map((r) => r.offset), 'from 53 on').toEqual([53, 54]);
    expect(decodeAll(buf, 55), 'a batch wholly below minOffset adds nothing').toEqual([]);
  });

  it('log-append-time batches give every record the batch max timestamp', () => {
    const out = decodeAll(encodeBatch({ baseOffset: 0, baseTimestamp: 1_000, maxTimestamp: 9_999, logAppendTime: true, records: [rec(0, 'a', '1'), rec(1, 'b', '2')] }));
    expect(out.map((r) => r.timestamp), 'the broker stamped the batch at append').toEqual([9_999, 9_999]);
  });

  it('offsets above 2^32, large values (multi-byte varints) and large timestamp deltas are exact', () => {
    const big = Buffer.alloc(70_000, 7);
    const out = decodeAll(encodeBatch({ baseOffset: 2 ** 40 + 5, baseTimestamp: 1_772_000_000_000, records: [rec(0, 'k', big, { timestampDelta: 2 ** 35 }), rec(300, 'k', 'x', { timestampDelta: -(2 ** 33) })] }));
    expect(out.map((r) => [r.offset, r.value.length, r.timestamp]), 'int64 and varlong fields, exact as numbers').toEqual([
      [2 ** 40 + 5, 70_000, 1_772_000_000_000 + 2 ** 35],
      [2 ** 40 + 305, 1, 1_772_000_000_000 - 2 ** 33],
    ]);
  });

  it('control batches are skipped; under read_committed an aborted transaction is dropped up to its abort marker', () => {
    const buf = Buffer.concat([
      encodeBatch({ baseOffset: 0, baseTimestamp: 0, records: [rec(0, 'k', 'plain')] }),
      encodeBatch({ baseOffset: 1, baseTimestamp: 0, producerId: 7, transactional: true, records: [rec(0, 'k', 'aborted-1'), rec(1, 'k', 'aborted-2')] }),
      encodeBatch({ baseOffset: 3, baseTimestamp: 0, producerId: 8, transactional: true, records: [rec(0, 'k', 'other-producer')] }),
      encodeBatch({ baseOffset: 4, baseTimestamp: 0, producerId: 7, transactional: true, control: true, records: [markerRecord(0)] }),
      encodeBatch({ baseOffset: 5, baseTimestamp: 0, producerId: 8, transactional: true, control: true, records: [markerRecord(1)] }),
      encodeBatch({ baseOffset: 6, baseTimestamp: 0, producerId: 7, transactional: true, records: [rec(0, 'k', 'next-transaction')] }),
      encodeBatch({ baseOffset: 7, baseTimestamp: 0, producerId: 7, transactional: true, control: true, records: [markerRecord(1)] }),
    ]);
    expect(decodeAll(buf).map(text), 'read_uncommitted: every data record, no markers').toEqual(['plain', 'aborted-1', 'aborted-2', 'other-producer', 'next-transaction']);
    const committed = decodeAll(buf, 0, new AbortedTransactions([{ producerId: 7, firstOffset: 1 }]));
    expect(committed.map(text), 'read_committed: the aborted transaction is gone; the same producer’s next one is kept').toEqual(['plain', 'other-producer', 'next-transaction']);
  });

  it('compressed batches (gzip, snappy, lz4) decode like plain ones', () => {
    const records = [rec(0, 'AAPL', 'a'.repeat(200), { headers: [['h', Buffer.from('v')]] }), rec(1, null, null), rec(2, 'MSFT', 'b')];
    const plain = decodeAll(encodeBatch({ baseOffset: 9, baseTimestamp: 5, records }));
    for (const codec of ['gzip', 'snappy', 'lz4'] as const) {
      const got = decodeAll(encodeBatch({ baseOffset: 9, baseTimestamp: 5, codec, records }));
      expect(got.map((r) => [r.offset, r.key, text(r), r.timestamp, r.headers]), `${codec} equals uncompressed`).toEqual(plain.map((r) => [r.offset, r.key, text(r), r.timestamp, r.headers]));
    }
  });

  it('a batch cut at the end of a fetch is left for the next fetch', () => {
    const whole = Buffer.concat([encodeBatch({ baseOffset: 0, baseTimestamp: 0, records: [rec(0, 'k', 'a')] }), encodeBatch({ baseOffset: 1, baseTimestamp: 0, records: [rec(0, 'k', 'b'), rec(1, 'k', 'c')] })]);
    const first = encodeBatch({ baseOffset: 0, baseTimestamp: 0, records: [rec(0, 'k', 'a')] }).length;
    for (const cut of [first + 5, first + 61, whole.length - 1]) {
      const scan = scanBatches(whole, 0, cut);
      expect([scan.end, scan.nextOffset], `cut at ${cut}: only the first batch is complete`).toEqual([first, 1]);
    }
    expect(scanBatches(whole, 0, 30), 'not even one header').toEqual({ end: 0, nextOffset: -1 });
  });

  it('refuses legacy message sets (magic 0/1) and records whose length disagrees with their fields, with SS_LOG_CORRUPT', () => {
    const legacy = encodeBatch({ baseOffset: 0, baseTimestamp: 0, magic: 1, records: [rec(0, 'k', 'v')] });
    expect(codeOf(() => scanBatches(legacy, 0, legacy.length)), 'magic 1 is not format v2').toBe('SS_LOG_CORRUPT');
    const bad = encodeBatch({ baseOffset: 0, baseTimestamp: 0, records: [rec(0, 'k', 'value')] });
    bad[61] = bad[61]! + 2; // the record's length varint (zigzag: +1)
    expect(codeOf(() => decodeAll(bad)), 'a record length that does not match its fields').toBe('SS_LOG_CORRUPT');
  });

  it('agrees with @platformatic/kafka’s decoder on a seeded random stream of batches', () => {
    const seed = Number(process.env['SEED'] ?? Math.floor(Math.random() * 2 ** 31));
    let s = seed;
    const rand = (): number => {
      // mulberry32
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    const int = (n: number): number => Math.floor(rand() * n);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
    const batches: BuiltBatch[] = [];
    let offset = int(1_000_000);
    for (let b = 0; b < 400; b++) {
      const n = int(12);
      const records: BuiltRecord[] = [];
      let delta = 0;
      for (let i = 0; i < n; i++) {
        const headers: [string, Buffer | null][] = Array.from({ length: int(3) }, (_, h) => [`h${h}-${int(100)}`, rand() < 0.2 ? null : bytes(int(20))]);
        records.push({ key: rand() < 0.1 ? null : Buffer.from(rand() < 0.2 ? `S${int(5000)}-é` : `S${int(9000)}`, 'utf8'), value: rand() < 0.1 ? null : bytes(rand() < 0.1 ? int(5000) : int(120)), headers, offsetDelta: delta, timestampDelta: int(2_000_000) - 1_000_000 });
        delta += 1 + (rand() < 0.1 ? int(5) : 0);
      }
      const codec: Codec = (['none', 'none', 'gzip', 'snappy', 'lz4'] as const)[int(5)]!;
      batches.push({ baseOffset: offset, baseTimestamp: 1_700_000_000_000 + int(1e9), codec, records });
      offset += delta + 1;
    }
    const stream = Buffer.concat(batches.map(encodeBatch));
    const ours = decodeAll(stream);
    const theirs: { offset: number; key: string; value: string; timestamp: number; headers: Record<string, string> }[] = [];
    const reader = Reader.from(stream);
    while (reader.remaining > 0) {
      const batch = readRecordsBatch(reader);
      for (const r of batch.records) {
        const headers: Record<string, string> = {};
        for (const [k, v] of r.headers) if (k !== null) headers[k.toString('utf8')] = v === null ? '' : v.toString('utf8');
        theirs.push({ offset: Number(batch.firstOffset) + r.offsetDelta, key: r.key === null ? '' : r.key.toString('utf8'), value: r.value === null ? '' : r.value.toString('hex'), timestamp: Number(batch.firstTimestamp + r.timestampDelta), headers });
      }
    }
    expect(theirs.length, `seed ${seed}: the stream holds records (else the comparison proves nothing)`).toBeGreaterThan(50);
    expect(
      ours.map((r) => ({ offset: r.offset, key: r.key, value: Buffer.from(r.value).toString('hex'), timestamp: r.timestamp, headers: { ...r.headers } })),
      `seed ${seed} (rerun with SEED=${seed}): every record as the client's decoder reads it`,
    ).toEqual(theirs);
  });
});
