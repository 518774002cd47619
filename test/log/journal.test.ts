import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/log/journal/crc32c.js';
import { Journal, type JournalOptions } from '../../src/log/journal/journal.js';
import type { Log, LogRecord, RecordCodec } from '../../src/log/log.js';
import { isStockStreamError } from '../../src/shared/errors.js';
import { logContract } from './log-contract.js';
import { mulberry32 } from '../fixtures/random.js';

const dirs: string[] = [];
async function tmpDir(): Promise<string> {
  const d = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ss-journal-test-'));
  dirs.push(d);
  return d;
}

function journalFactory(extra: Omit<JournalOptions, 'dir'>) {
  return async () => {
    const dir = await tmpDir();
    const opts = { dir, retentionCheckMs: 0, ...extra };
    let current: Journal = await Journal.open(opts);
    return {
      log: current as Log,
      async reopen(): Promise<Log> {
        current = await Journal.open(opts);
        return current;
      },
      async cleanup(): Promise<void> {
        await current.close();
        await fs.promises.rm(dir, { recursive: true, force: true });
      },
    };
  };
}

logContract("journal (fsync 'always')", journalFactory({ fsync: 'always' }));
// Tiny segments and a dense index push every contract case across segment boundaries.
// No memory tail either: every read goes through the segment files, frame decoding and CRC checks.
logContract("journal (fsync 'batch', 2 KiB segments, no memory tail)", journalFactory({ fsync: 'batch', groupCommitMs: 2, segmentBytes: 2048, indexIntervalBytes: 200, tailRecords: 0 }));
// A tail smaller than the contract's batches: reads cross from files into memory mid-request.
logContract("journal (fsync 'never', 3-record memory tail)", journalFactory({ fsync: 'never', tailRecords: 3 }));
logContract("journal (fsync 'never')", journalFactory({ fsync: 'never' }));

const open: Journal[] = [];
afterEach(async () => {
  for (const j of open.splice(0)) await j.close();
  for (const d of dirs.splice(0)) await fs.promises.rm(d, { recursive: true, force: true });
});

async function openJournal(opts: JournalOptions): Promise<Journal> {
  const j = await Journal.open({ retentionCheckMs: 0, ...opts });
  open.push(j);
  return j;
}

async function closeJournal(j: Journal): Promise<void> {
  await j.close();
  open.splice(open.indexOf(j), 1);
}

/**
 * Every record of a partition, as the contract's fields: a record served from the memory tail
 * makes its value on read (an accessor), one read from a file carries it, and both must compare equal.
 */
async function readAll(j: Journal, topic: string, partition: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for (;;) {
    const from = out.length === 0 ? 0 : out[out.length - 1]!.offset + 1;
    const got = await j.read({ topic, partition }, from, 500);
    if (got.length === 0) return out;
    for (const r of got) out.push({ topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers });
  }
}

const value = (i: number, n = 50): Uint8Array => Buffer.from(String(i).padStart(n, '#'));

describe('crc32c', () => {
  it('matches the published CRC-32C check values', () => {
    expect(crc32c(Buffer.from('123456789')), 'the standard check value of CRC-32C').toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32)), 'RFC 3720 B.4: 32 bytes of zeros').toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff)), 'RFC 3720 B.4: 32 bytes of 0xff').toBe(0x62a8ab43);
    const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(crc32c(inc), 'RFC 3720 B.4: incrementing bytes').toBe(0x46dd794e);
    expect(crc32c(Buffer.from('xx123456789yy'), 2, 11), 'a sub-range equals the CRC of its copy').toBe(0xe3069283);
  });
});

describe('Journal: persistence and recovery', () => {
  it('reopen after close keeps topics, records, segments and committed offsets', async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'batch', segmentBytes: 4096 });
    await j.ensureTopic('ticks', { partitions: 3, retentionBytes: 1e9 });
    for (let b = 0; b < 10; b++) await j.append('ticks', Array.from({ length: 100 }, (_, i) => ({ key: `S${i % 11}`, value: value(b * 100 + i), timestamp: b * 100 + i })));
    const c = await j.consumer({ group: 'candles', topics: ['ticks'] });
    await c.commit([{ topic: 'ticks', partition: 1, offset: 42 }]);
    const before = await j.topics();
    const recordsBefore = await Promise.all([0, 1, 2].map((p) => readAll(j, 'ticks', p)));
    await closeJournal(j);
    const warnings: string[] = [];
    const j2 = await openJournal({ dir, fsync: 'batch', segmentBytes: 4096, onWarning: (m) => warnings.push(m) });
    expect(await j2.topics(), 'topics, offsets and sizes must be identical after reopen').toEqual(before);
    for (let p = 0; p < 3; p++) {
      expect(await readAll(j2, 'ticks', p), `every record of partition ${p} must read back identically`).toEqual(recordsBefore[p]);
    }
    const c2 = await j2.consumer({ group: 'candles', topics: ['ticks'] });
    expect(await c2.committed({ topic: 'ticks', partition: 1 }), 'a committed offset must survive reopen').toBe(42);
    expect(warnings, 'a clean close leaves nothing to repair').toEqual([]);
    expect(j2.stats().truncatedBytes, 'a clean close leaves nothing to truncate').toBe(0);
  });

  it('refuses a second open of the same directory while the first is open', async () => {
    const dir = await tmpDir();
    await openJournal({ dir });
    let err: unknown = null;
    await Journal.open({ dir }).catch((e: unknown) => (err = e));
    expect(isStockStreamError(err, 'SS_LOG_IO'), `two writers on one journal would corrupt it; got ${String(err)}`).toBe(true);
  });

  // Ten 83-byte frames (32 header + 1 key + 50 value) in one segment, then damage at the tail.
  const FRAME = 83;
  const corruptions: { kind: string; damage: (file: string, size: number) => Promise<void>; survivors: number; truncated: number }[] = [
    { kind: 'truncated mid-frame', damage: (f, size) => fs.promises.truncate(f, size - 20), survivors: 9, truncated: FRAME - 20 },
    { kind: 'torn header (4 bytes of the last frame)', damage: (f, size) => fs.promises.truncate(f, size - FRAME + 4), survivors: 9, truncated: 4 },
    { kind: 'flipped byte in the last payload', damage: (f, size) => flip(f, size - 10), survivors: 9, truncated: FRAME },
    { kind: 'flipped byte in a middle record', damage: (f) => flip(f, 5 * FRAME + 40), survivors: 5, truncated: 5 * FRAME },
    { kind: 'flipped length field', damage: (f, size) => flip(f, size - FRAME + 4), survivors: 9, truncated: FRAME },
    { kind: 'garbage appended', damage: (f) => fs.promises.appendFile(f, Buffer.from('not a frame at all, just noise!')), survivors: 10, truncated: 31 },
    {
      kind: 'garbage claiming a huge length',
      damage: (f) => fs.promises.appendFile(f, Buffer.from([1, 2, 3, 4, 0xff, 0xff, 0xff, 0x03, 9, 9, 9, 9])),
      survivors: 10,
      truncated: 12,
    },
    { kind: 'zero-filled tail', damage: (f) => fs.promises.appendFile(f, new Uint8Array(4096)), survivors: 10, truncated: 4096 },
  ];

  async function flip(file: string, at: number): Promise<void> {
    const buf = await fs.promises.readFile(file);
    buf[at] = buf[at]! ^ 0x5a;
    await fs.promises.writeFile(file, buf);
  }

  for (const c of corruptions) {
    it(`recovers a segment tail damaged by: ${c.kind}`, async () => {
      const dir = await tmpDir();
      const j = await openJournal({ dir, fsync: 'always' });
      await j.ensureTopic('t', { partitions: 1 });
      await j.append('t', Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: value(i), timestamp: 1000 + i })));
      await closeJournal(j);
      const file = path.join(dir, 't', '0', '00000000000000000000.log');
      const size = (await fs.promises.stat(file)).size;
      expect(size, 'the fixture assumes 83-byte frames').toBe(10 * FRAME);
      await c.damage(file, size);

      const warnings: string[] = [];
      const j2 = await openJournal({ dir, fsync: 'always', onWarning: (m) => warnings.push(m) });
      const recs = await readAll(j2, 't', 0);
      expect(recs.map((r) => r.offset), 'only the records before the damage remain, in order').toEqual(Array.from({ length: c.survivors }, (_, i) => i));
      recs.forEach((r, i) => expect(Buffer.from(r.value).equals(Buffer.from(value(i))), `surviving record ${i} must be intact`).toBe(true));
      expect(warnings.length, 'recovery must report what it truncated through onWarning').toBe(1);
      expect(warnings[0], 'the warning names the segment').toContain('00000000000000000000.log');
      expect(j2.stats().truncatedBytes, 'stats count the bytes cut off').toBe(c.truncated);
      expect((await fs.promises.stat(file)).size, 'the file is cut back to the last good frame').toBe(c.survivors * FRAME);
      const [ack] = await j2.append('t', [{ key: 'k', value: value(99) }]);
      expect(ack!.offset, 'appends continue right after the last good record').toBe(c.survivors);
      await closeJournal(j2);

      const again: string[] = [];
      const j3 = await openJournal({ dir, fsync: 'always', onWarning: (m) => again.push(m) });
      expect(again, 'once repaired, the segment opens cleanly').toEqual([]);
      expect((await readAll(j3, 't', 0)).length, 'the repaired log keeps the new record too').toBe(c.survivors + 1);
    });
  }

  it('rebuilds a missing or damaged sealed-segment index by scanning', async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'batch', segmentBytes: 1024, indexIntervalBytes: 100 });
    await j.ensureTopic('t', { partitions: 1 });
    await j.append('t', Array.from({ length: 100 }, (_, i) => ({ key: 'k', value: value(i), timestamp: 5000 + i })));
    const expected = await readAll(j, 't', 0);
    await closeJournal(j);
    const pdir = path.join(dir, 't', '0');
    const indexes = (await fs.promises.readdir(pdir)).filter((n) => n.endsWith('.index')).sort();
    expect(indexes.length, 'rolled segments must have index files').toBeGreaterThan(3);
    await fs.promises.rm(path.join(pdir, indexes[0]!));
    await flip(path.join(pdir, indexes[1]!), 50);
    const j2 = await openJournal({ dir, fsync: 'batch', segmentBytes: 1024, indexIntervalBytes: 100 });
    expect(await readAll(j2, 't', 0), 'reads after an index rebuild must equal reads before').toEqual(expected);
    const c = await j2.consumer({ group: 'g', topics: ['t'] });
    await c.seek({ topic: 't', partition: 0 }, { timestamp: 5000 + 37 });
    expect((await c.poll({ maxRecords: 1 }))[0]?.offset, 'timestamp seek works through a rebuilt index').toBe(37);
    expect(fs.existsSync(path.join(pdir, indexes[0]!)), 'the missing index file is written again').toBe(true);
  });
});

describe('Journal: input checks', () => {
  it('refuses a batch with one bad record whole, so no offset is taken by a refused batch', async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'never' });
    await j.ensureTopic('t', { partitions: 2 });
    const good = { key: 'k', value: value(1) };
    const bad: { name: string; rec: unknown; code: string }[] = [
      { name: 'a non-byte value', rec: { key: 'k', value: 'text' }, code: 'SS_INGEST_REJECT' },
      { name: 'a NaN timestamp', rec: { key: 'k', value: value(2), timestamp: Number.NaN }, code: 'SS_INGEST_REJECT' },
      { name: 'a key over 65535 UTF-8 bytes', rec: { key: 'é'.repeat(40_000), value: value(2) }, code: 'SS_INGEST_REJECT' },
      { name: 'a non-string header', rec: { key: 'k', value: value(2), headers: { n: 1 } }, code: 'SS_INGEST_REJECT' },
      { name: 'a partition out of range', rec: { key: 'k', value: value(2), partition: 2 }, code: 'SS_LOG_TOPIC' },
    ];
    for (const b of bad) {
      let err: unknown = null;
      await j.append('t', [good, b.rec as typeof good, good]).catch((e: unknown) => (err = e));
      expect(isStockStreamError(err) && err.code, `a batch with ${b.name} must be refused with ${b.code}`).toBe(b.code);
    }
    const info = (await j.topics())[0]!.partitions;
    expect(info.map((p) => p.endOffset), 'refused batches must leave no records and take no offsets').toEqual([0, 0]);
    const acks = await j.append('t', [good]);
    expect(acks[0]!.offset, 'the next accepted record gets offset 0').toBe(0);
  });
});

describe('Journal: shutdown', () => {
  it('a poll waiting when the consumer or the journal closes returns empty instead of failing', async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'never' });
    await j.ensureTopic('t', { partitions: 1 });
    const c1 = await j.consumer({ group: 'a', topics: ['t'] });
    const c2 = await j.consumer({ group: 'b', topics: ['t'] });
    const p1 = c1.poll({ timeoutMs: 60_000 });
    const p2 = c2.poll({ timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 10));
    await c1.close();
    expect(await p1, 'closing the consumer ends its wait with no records').toEqual([]);
    await closeJournal(j);
    expect(await p2, 'closing the journal ends every wait with no records').toEqual([]);
  });

  it('close flushes appends still waiting for their group commit', async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'batch', groupCommitMs: 10_000 });
    await j.ensureTopic('t', { partitions: 1 });
    await j.append('t', [{ key: 'k', value: value(0) }]);
    const pending = j.append('t', [{ key: 'k', value: value(1) }]);
    await closeJournal(j);
    expect((await pending)[0]!.offset, 'an append accepted before close is acknowledged by close').toBe(1);
    const j2 = await openJournal({ dir });
    expect((await readAll(j2, 't', 0)).length, 'and it is on disk').toBe(2);
  });
});

describe('Journal: retention', () => {
  it('deletes whole segments whose newest record is older than retentionMs, never the active one', async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'never', segmentBytes: 1024 });
    const now = 1_800_000_000_000;
    const hour = 3_600_000;
    await j.ensureTopic('t', { partitions: 1, retentionMs: hour });
    await j.append('t', Array.from({ length: 40 }, (_, i) => ({ key: 'k', value: value(i), timestamp: now - 5 * hour + i })));
    await j.append('t', Array.from({ length: 40 }, (_, i) => ({ key: 'k', value: value(40 + i), timestamp: now - 60_000 + i })));
    const c = await j.consumer({ group: 'slow', topics: ['t'] });
    await c.commit([{ topic: 't', partition: 0, offset: 3 }]);
    const deleted = await j.enforceRetention(now);
    expect(deleted, 'the old segments must go').toBeGreaterThan(0);
    const [info] = (await j.topics())[0]!.partitions;
    expect(info!.endOffset, 'retention never changes the end offset').toBe(80);
    expect(info!.startOffset, 'the start moves past the deleted segments').toBeGreaterThan(0);
    expect(info!.startOffset, 'segments holding a recent record are kept').toBeLessThanOrEqual(40);
    const fromZero = await j.read({ topic: 't', partition: 0 }, 0, 1);
    expect(fromZero[0]?.offset, 'a read below the start returns from the start').toBe(info!.startOffset);
    const c2 = await j.consumer({ group: 'slow', topics: ['t'] });
    expect((await c2.poll({ maxRecords: 1 }))[0]?.offset, 'a committed offset below the start resets to the start without error').toBe(info!.startOffset);
    expect(j.stats().segmentsDeleted, 'stats count deleted segments').toBe(deleted);

    await j.enforceRetention(now + 100 * hour);
    const [all] = (await j.topics())[0]!.partitions;
    expect(all!.endOffset - all!.startOffset, 'even when everything is old, the active segment stays').toBeGreaterThan(0);
    const files = (await fs.promises.readdir(path.join(dir, 't', '0'))).filter((n) => n.endsWith('.log'));
    expect(files.length, 'only the active segment file remains').toBe(1);
  });

  it('deletes the oldest segments while the partition exceeds retentionBytes', async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'never', segmentBytes: 1024 });
    await j.ensureTopic('t', { partitions: 1, retentionBytes: 3000 });
    for (let b = 0; b < 10; b++) await j.append('t', Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: value(b * 10 + i) })));
    const [before] = (await j.topics())[0]!.partitions;
    expect(before!.bytes, 'the fixture must exceed the limit').toBeGreaterThan(3000);
    await j.enforceRetention();
    const [after] = (await j.topics())[0]!.partitions;
    expect(after!.bytes, 'the partition must fit the size limit after retention').toBeLessThanOrEqual(3000);
    expect(after!.bytes, 'retention deletes whole segments only as far as needed').toBeGreaterThan(3000 - 1024);
    expect(after!.endOffset, 'the end offset is untouched').toBe(100);
    const recs = await readAll(j, 't', 0);
    expect(recs[0]!.offset, 'reads start at the new start offset').toBe(after!.startOffset);
    expect(recs.length, 'every record from the start to the end remains').toBe(100 - after!.startOffset);
    await closeJournal(j);
    const j2 = await openJournal({ dir, fsync: 'never', segmentBytes: 1024 });
    expect((await j2.topics())[0]!.partitions[0], 'the start offset survives reopen: deleted files stay deleted').toEqual(after);
  });
});

describe('Journal: group commit', () => {
  it('concurrent appends share flushes and fsyncs', async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'always' });
    await j.ensureTopic('t', { partitions: 4 });
    const base = j.stats();
    const n = 50;
    const acks = await Promise.all(Array.from({ length: n }, (_, i) => j.append('t', [{ key: `k${i}`, value: value(i) }])));
    const s = j.stats();
    expect(acks.flat().length, 'every append is acknowledged').toBe(n);
    expect(s.flushes - base.flushes, `${n} concurrent appends must share flushes`).toBeLessThan(n);
    expect(s.fsyncs - base.fsyncs, `${n} concurrent appends must share fsyncs`).toBeLessThan(n);
    expect(s.writes - base.writes, 'one write per partition per flush, not one per record').toBeLessThanOrEqual(4 * (s.flushes - base.flushes));
    expect(s.recordsAppended - base.recordsAppended, 'stats count records').toBe(n);
  });

  it("policy 'batch' flushes at most once per groupCommitMs window and acks after the fsync", async () => {
    const dir = await tmpDir();
    const j = await openJournal({ dir, fsync: 'batch', groupCommitMs: 500 });
    await j.ensureTopic('t', { partitions: 1 });
    const first = j.append('t', [{ key: 'a', value: value(0) }]);
    await first;
    // Appends issued over several ticks inside one window must ride one flush.
    const later: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      later.push(j.append('t', [{ key: 'b', value: value(i) }]));
      await new Promise((r) => setImmediate(r));
    }
    const before = j.stats().fsyncs;
    await Promise.all(later);
    const s = j.stats();
    expect(s.fsyncs - before, 'the appends spread over ticks inside one window share one fsync').toBeLessThanOrEqual(1);
    expect(s.fsyncs, "under 'batch' every acked flush was fsynced").toBe(s.flushes);
  });
});

describe('Journal: randomized reads and timestamp seeks against a model', () => {
  const seeds = process.env.SS_SEED ? [Number(process.env.SS_SEED)] : [1, 2, 3, Date.now() % 1_000_000];
  for (const seed of seeds) {
    it(`agrees with an in-memory model (seed ${seed}; rerun with SS_SEED=${seed})`, async () => {
      const rand = mulberry32(seed);
      const dir = await tmpDir();
      const opts = { dir, fsync: 'never' as const, segmentBytes: 2048, indexIntervalBytes: 150 };
      let j = await openJournal(opts);
      const P = 3;
      await j.ensureTopic('r', { partitions: P });
      const model: { key: string; v: string; ts: number }[][] = Array.from({ length: P }, () => []);
      for (let b = 0; b < 40; b++) {
        const batch = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => {
          // Timestamps drift upward with jitter so they sometimes go backwards, as producers' do.
          const ts = 1_000_000 + b * 1000 + Math.floor(rand() * 3000) - 1000;
          const v = 'x'.repeat(Math.floor(rand() * 200)) + `@${b}`;
          return { key: `K${Math.floor(rand() * 20)}`, value: Buffer.from(v), timestamp: ts, partition: Math.floor(rand() * P) };
        });
        const acks = await j.append('r', batch);
        acks.forEach((a, i) => {
          expect(a.offset, `seed ${seed}: ack offset must match the model`).toBe(model[a.partition]!.length);
          model[a.partition]!.push({ key: batch[i]!.key, v: batch[i]!.value.toString(), ts: batch[i]!.timestamp });
        });
      }
      const check = async (label: string): Promise<void> => {
        for (let p = 0; p < P; p++) {
          const m = model[p]!;
          for (let k = 0; k < 25; k++) {
            const from = Math.floor(rand() * (m.length + 2));
            const max = 1 + Math.floor(rand() * 40);
            const got = (await j.read({ topic: 'r', partition: p }, from, max)).map((r) => ({ key: r.key, v: Buffer.from(r.value).toString(), ts: r.timestamp }));
            expect(got, `seed ${seed} ${label}: read(p${p}, ${from}, ${max}) must equal the model`).toEqual(m.slice(from, from + max));
          }
          const c = await j.consumer({ group: `g-${label}-${p}`, topics: ['r'] });
          for (let k = 0; k < 25; k++) {
            const target = 1_000_000 + Math.floor(rand() * 42_000) - 1500;
            const want = m.findIndex((r) => r.ts >= target);
            await c.seek({ topic: 'r', partition: p }, { timestamp: target });
            const got = (await c.poll({ maxRecords: 100_000 })).filter((r) => r.partition === p);
            expect(got[0]?.offset ?? -1, `seed ${seed} ${label}: seek(p${p}, ts ${target}) must land on the first record with ts >= target`).toBe(want);
            for (let q = 0; q < P; q++) if (q !== p) await c.seek({ topic: 'r', partition: q }, 'latest');
          }
          await c.close();
        }
      };
      await check('live');
      await closeJournal(j);
      j = await openJournal(opts);
      await check('reopened');
      await closeJournal(j);
      const pdir = path.join(dir, 'r', '0');
      for (const n of await fs.promises.readdir(pdir)) if (n.endsWith('.index')) await fs.promises.rm(path.join(pdir, n));
      j = await openJournal(opts);
      await check('rebuilt-index');
    });
  }
});

describe('Journal: sequential reads with read-ahead', () => {
  const seeds = process.env.SS_SEED ? [Number(process.env.SS_SEED)] : [7, Date.now() % 1_000_000];
  for (const seed of seeds) {
    it(`a consumer polling a file-only backlog gets every record once, in order, across read-ahead blocks, appends, other reads and large frames (seed ${seed}; rerun with SS_SEED=${seed})`, async () => {
      const rand = mulberry32(seed);
      // No memory tail: every poll reads the segment files, where the read-ahead lives.
      const j = await openJournal({ dir: await tmpDir(), fsync: 'never', tailRecords: 0, segmentBytes: 4 * 1024 * 1024 });
      await j.ensureTopic('s', { partitions: 1 });
      const model: string[] = [];
      const appendSome = async (n: number): Promise<void> => {
        const batch = Array.from({ length: n }, (_, i) => {
          // Mostly small values, some larger than a read-ahead block for a small poll (16 KiB + 256 B a record).
          const big = rand() < 0.02;
          const v = `${model.length + i}:` + 'y'.repeat(big ? 20_000 + Math.floor(rand() * 60_000) : Math.floor(rand() * 120));
          return { key: 'K', value: Buffer.from(v), timestamp: 1_000 + model.length + i };
        });
        await j.append('s', batch);
        for (const r of batch) model.push(r.value.toString());
      };
      await appendSome(3000);
      const c = await j.consumer({ group: 'seq', topics: ['s'] });
      const got: string[] = [];
      while (got.length < model.length) {
        const records = await c.poll({ maxRecords: 1 + Math.floor(rand() * 300) });
        for (const r of records) {
          expect(r.offset, `seed ${seed}: offsets come in order without gaps or repeats`).toBe(got.length);
          got.push(Buffer.from(r.value).toString());
        }
        // Other readers of the same segment in between get their own records, never the read-ahead's.
        if (rand() < 0.2) {
          const from = Math.floor(rand() * model.length);
          const other = await j.read({ topic: 's', partition: 0 }, from, 5);
          expect(other.map((r) => Buffer.from(r.value).toString()), `seed ${seed}: read(${from}, 5) equals the model`).toEqual(model.slice(from, from + 5));
        }
        if (rand() < 0.1 && model.length < 6000) await appendSome(1 + Math.floor(rand() * 200));
      }
      expect(got, `seed ${seed}: every record once, in order`).toEqual(model);
      await c.close();
    });
  }
});

describe('Journal: read-ahead ending inside a frame', () => {
  it('a small poll reads ahead a small block; a larger poll next, whose first frame outgrows that block, reads the frame whole', async () => {
    const j = await openJournal({ dir: await tmpDir(), fsync: 'never', tailRecords: 0 });
    await j.ensureTopic('s', { partitions: 1 });
    const values = [...Array.from({ length: 4 }, (_, i) => `small-${i}`), `big:${'z'.repeat(200_000)}`, 'after'];
    await j.append('s', values.map((v, i) => ({ key: 'K', value: Buffer.from(v), timestamp: i })));
    const c = await j.consumer({ group: 'g', topics: ['s'] });
    const first = await c.poll({ maxRecords: 4 });
    expect(first.map((r) => Buffer.from(r.value).toString()), 'the small records').toEqual(values.slice(0, 4));
    expect(
      JSON.parse(JSON.stringify(first[1])),
      'JSON of a record read from a file has a plain record\'s fields, value included, and not the block it was read from',
    ).toEqual({ topic: 's', partition: 0, offset: 1, key: 'K', value: { type: 'Buffer', data: [...Buffer.from('small-1')] }, timestamp: 1, headers: {} });
    // Read ahead: ~17 KB (a 4-record request's block), which ends inside the 200 KB frame.
    const rest = await c.poll({ maxRecords: 1000 });
    expect(rest.map((r) => Buffer.from(r.value).toString()), 'the large frame is read whole, not taken for damage').toEqual(values.slice(4));
    await c.close();
  });
});

describe('journal memory tail', () => {
  it('hands in-process consumers the producer payload while the record is in the tail, and only then', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ss-tail-'));
    dirs.push(dir);
    const j = await openJournal({ dir, fsync: 'never', tailRecords: 4 });
    await j.ensureTopic('t', { partitions: 1 });
    const payloads = Array.from({ length: 6 }, (_, i) => ({ n: i }));
    await j.append('t', payloads.map((p) => ({ key: 'k', value: Buffer.from(String(p.n)), payload: p })));
    // A random-access read (the topic browser, checkpoint scans) first: it must not take the payloads from the consumers.
    const browsed = await j.read({ topic: 't', partition: 0 }, 0, 10);
    expect(browsed.map((r) => Buffer.from(r.value).toString()), 'reads return every record in order, from files then memory').toEqual(['0', '1', '2', '3', '4', '5']);
    expect(browsed.map((r) => r.payload), 'a random-access read decodes bytes like any reader and leaves payloads to consumers').toEqual(Array(6).fill(undefined));
    const consumer = await j.consumer({ group: 'g', topics: ['t'] });
    const all = await consumer.poll({ maxRecords: 10, timeoutMs: 100 });
    await consumer.close();
    expect(all.map((r) => Buffer.from(r.value).toString()), 'a consumer gets every record in order, from files then memory').toEqual(['0', '1', '2', '3', '4', '5']);
    expect(all.slice(2).map((r) => r.payload), 'the newest 4 come from memory with the very payload objects').toEqual(payloads.slice(2));
    expect(all[2]?.payload, 'same object, not a copy').toBe(payloads[2]);
    expect(all.slice(0, 2).map((r) => r.payload), 'records older than the tail are read from disk, without payload').toEqual([undefined, undefined]);
  });

  it('mixes append and appendItems in one flush of a partition: every value and payload served from the tail is its own', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ss-tail-'));
    dirs.push(dir);
    const j = await openJournal({ dir, fsync: 'batch', groupCommitMs: 5, tailRecords: 8 });
    await j.ensureTopic('t', { partitions: 1 });
    const codec: RecordCodec<string> = {
      key: () => 'k',
      timestamp: () => 1,
      maxBytes: (s) => 3 * s.length,
      write: (s, buf, _view, pos) => pos + buf.write(s, pos, 'utf8'),
    };
    // Not awaited one by one: the calls share flushes, and the buffers the staging grew through.
    const expected: string[] = [];
    const pending: Promise<unknown>[] = [];
    for (let round = 0; round < 5; round++) {
      const items = Array.from({ length: 3 }, (_, i) => `item-${round}-${i}-${'x'.repeat(round * 400)}`);
      pending.push(j.appendItems('t', items, codec));
      const plain = `plain-${round}`;
      pending.push(j.append('t', [{ key: 'k', value: Buffer.from(plain), payload: plain }]));
      expected.push(...items, plain);
    }
    await Promise.all(pending);
    const consumer = await j.consumer({ group: 'g', topics: ['t'] });
    const got = await consumer.poll({ maxRecords: 100, timeoutMs: 100 });
    await consumer.close();
    expect(got.map((r) => Buffer.from(r.value).toString()), 'values in log order, from files then the 8-record tail').toEqual(expected);
    expect(got.slice(-8).map((r) => r.payload), 'the tail hands back each item or payload itself').toEqual(expected.slice(-8));
    const browsed = await j.read({ topic: 't', partition: 0 }, 0, 100);
    expect(browsed.map((r) => Buffer.from(r.value).toString()), 'a random-access read sees the same bytes').toEqual(expected);
  });

  it('serves a tail record whose value is a Buffer of exactly its own bytes, even when a batch shares one buffer', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ss-tail-'));
    dirs.push(dir);
    const j = await openJournal({ dir, fsync: 'never', tailRecords: 16 });
    await j.ensureTopic('t', { partitions: 1 });
    // As the ingest writer encodes a batch: one buffer, each record's value a view of its part.
    const shared = Buffer.from('alpha|beta|gamma');
    const parts: [number, number][] = [[0, 5], [6, 10], [11, 16]];
    await j.append('t', parts.map(([a, b]) => ({ key: 'k', value: shared.subarray(a, b), payload: a })));
    const consumer = await j.consumer({ group: 'g', topics: ['t'] });
    const got = await consumer.poll({ maxRecords: 10, timeoutMs: 100 });
    await consumer.close();
    expect(got.map((r) => r.value.toString()), 'each value is its own slice of the shared buffer, decodable as a Buffer').toEqual(['alpha', 'beta', 'gamma']);
    expect(got.map((r) => r.value.length), 'no value runs into its neighbour').toEqual([5, 4, 5]);
    expect(
      JSON.parse(JSON.stringify(got[1])),
      'JSON of a tail record has the same fields as a plain record, value included',
    ).toEqual({ topic: 't', partition: 0, offset: 1, key: 'k', value: { type: 'Buffer', data: [...Buffer.from('beta')] }, timestamp: got[1]?.timestamp, headers: {}, payload: 6 });
  });
});
