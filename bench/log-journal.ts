/**
 * Journal append throughput: 100-byte records in batches of 1,000, keyed over many symbols so
 * the Kafka partitioner spreads them across 8 partitions, fsync 'batch', with several appends in
 * flight so group commit has something to group (a feed handler pipelines its batches the same
 * way). Run directly: `node dist/bench/log-journal.js [records]`.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Journal, type FsyncPolicy, type ProducerRecord } from '../src/log/index.js';

export interface BenchJournalOptions {
  /** Total records; default 2,000,000. */
  records?: number;
  batchSize?: number;
  partitions?: number;
  valueBytes?: number;
  /** Appends in flight at once; default 16. */
  concurrency?: number;
  fsync?: FsyncPolicy;
  groupCommitMs?: number;
  /** Parent of the temporary journal directory; default the OS temp dir. */
  tmpDir?: string;
}

export interface BenchJournalResult {
  recordsPerSec: number;
  mbPerSec: number;
  fsyncs: number;
}

export async function benchJournal(opts: BenchJournalOptions = {}): Promise<BenchJournalResult> {
  const total = opts.records ?? 2_000_000;
  const batchSize = opts.batchSize ?? 1_000;
  const partitions = opts.partitions ?? 8;
  const valueBytes = opts.valueBytes ?? 100;
  const concurrency = opts.concurrency ?? 16;
  const dir = await fs.promises.mkdtemp(path.join(opts.tmpDir ?? os.tmpdir(), 'ss-bench-journal-'));
  const journal = await Journal.open({ dir, fsync: opts.fsync ?? 'batch', groupCommitMs: opts.groupCommitMs ?? 5, retentionCheckMs: 0 });
  try {
    await journal.ensureTopic('bench', { partitions });
    // Batches are built once and reused: the bench measures the journal, not record creation.
    const symbols = Array.from({ length: 500 }, (_, i) => `SYM${i}`);
    const value = new Uint8Array(valueBytes).fill(42);
    const batches: ProducerRecord[][] = [];
    for (let b = 0; b < concurrency; b++) {
      const batch: ProducerRecord[] = new Array(batchSize);
      for (let i = 0; i < batchSize; i++) batch[i] = { key: symbols[(b * batchSize + i) % symbols.length]!, value, timestamp: 1_700_000_000_000 + i };
      batches.push(batch);
    }
    const nBatches = Math.ceil(total / batchSize);
    let next = 0;
    const started = process.hrtime.bigint();
    const worker = async (w: number): Promise<void> => {
      while (next < nBatches) {
        next++;
        await journal.append('bench', batches[w]!);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const s = journal.stats();
    return {
      recordsPerSec: s.recordsAppended / seconds,
      mbPerSec: s.bytesAppended / seconds / 1e6,
      fsyncs: s.fsyncs,
    };
  } finally {
    await journal.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const records = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const r = await benchJournal({ records });
  console.log(JSON.stringify({ ...r, recordsPerSec: Math.round(r.recordsPerSec), mbPerSec: Number(r.mbPerSec.toFixed(1)) }));
}
