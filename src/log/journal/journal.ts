/**
 * The embedded durable log ("journal"): the `Log` port on local files, for one process.
 *
 *   <dir>/~lock                                   pid of the process that has the journal open
 *   <dir>/~groups/<group>.json                    committed offsets (offset-store.ts)
 *   <dir>/<topic>/topic.json                      { partitions, retentionMs?, retentionBytes? }
 *   <dir>/<topic>/<partition>/<base, 20 digits>.log    record frames (record-frame.ts)
 *   <dir>/<topic>/<partition>/<base>.index        sparse index of a sealed segment (segment.ts)
 *
 * Group commit: `append` encodes its records into per-partition staging buffers at once and waits
 * for the next flush. One flush runs at a time; it takes everything staged, writes each dirty
 * partition with one write(2), fdatasyncs by policy, then resolves every append it carried.
 * Appends arriving during a flush wait for the next. Policies: 'always' starts a flush as soon as
 * the previous one ends; 'batch' starts flushes at most every groupCommitMs; 'never' skips the
 * fdatasync (acks after write(2): survives a process crash, not a power cut).
 */

import fs from 'node:fs';
import path from 'node:path';
import { StockStreamError } from '../../shared/errors.js';
import type {
  AppendAck,
  CommitOffset,
  ConsumerOptions,
  Log,
  LogConsumer,
  LogRecord,
  ProducerRecord,
  RecordCodec,
  TopicConfig,
  TopicInfo,
  TopicPartition,
} from '../log.js';
import { KeyPartitioner } from '../partitioner.js';
import { checkItem } from '../records-of.js';
import { mkdirp, syncDir, writeFileAtomic } from './fs-io.js';
import { type ConsumerHost, JournalConsumer } from './journal-consumer.js';
import { OffsetStore } from './offset-store.js';
import { PartitionLog } from './partition-log.js';

export type FsyncPolicy = 'always' | 'batch' | 'never';

export interface JournalOptions {
  dir: string;
  /** When an append is acknowledged. Default 'batch'. */
  fsync?: FsyncPolicy;
  /** Policy 'batch': the shortest time between two flushes. Default 5 ms. */
  groupCommitMs?: number;
  /** A segment rolls once it would exceed this many bytes. Default 64 MiB. */
  segmentBytes?: number;
  /** Bytes of frames between two sparse index entries. Default 4 KiB. */
  indexIntervalBytes?: number;
  /** How often retention runs; 0 disables the timer (call enforceRetention yourself). Default 60 s. */
  retentionCheckMs?: number;
  /** Called with recovery and other non-fatal findings. */
  onWarning?: (msg: string) => void;
  /**
   * Newest records per partition kept in memory for consumers in this process, which then skip
   * file reads and decoding while they keep up. Default 16,384: enough for a pipeline that trails
   * its ingest by a few 5,000-record batches, which otherwise reads and decodes every record back
   * from the files (measured: 4,096 cost ~15 % of end-to-end throughput in bench/e2e.ts). The tail
   * holds no object of its own per record (partition-log.ts); 0 turns it off.
   */
  tailRecords?: number;
}

export interface JournalStats {
  recordsAppended: number;
  bytesAppended: number;
  flushes: number;
  writes: number;
  fsyncs: number;
  truncatedBytes: number;
  segmentsDeleted: number;
}

interface TopicState {
  name: string;
  config: Readonly<TopicConfig>;
  parts: PartitionLog[];
  partitioner: KeyPartitioner;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const GROUPS_DIR = '~groups';
const LOCK_FILE = '~lock';
const openDirs = new Set<string>();

/** Keys and header names are stored with u16 lengths; below this many chars they always fit. */
const MAX_NAME_BYTES = 0xffff;
const MAX_KEY_CHARS_FAST = Math.floor(MAX_NAME_BYTES / 3);

function checkKeyLength(topic: string, what: string, i: number, key: string): void {
  if (key.length > MAX_KEY_CHARS_FAST && Buffer.byteLength(key) > MAX_NAME_BYTES) {
    throw new StockStreamError('SS_INGEST_REJECT', `Expected ${what} ${i} for '${topic}' to have a key of at most ${MAX_NAME_BYTES} UTF-8 bytes, got ${Buffer.byteLength(key)}; keys are symbols.`);
  }
}

function checkTimestamp(topic: string, i: number, ts: number): void {
  if (!Number.isFinite(ts)) throw new StockStreamError('SS_INGEST_REJECT', `Expected record ${i} for '${topic}' to have a finite epoch-ms timestamp, got ${ts}.`);
}

function validateHeaders(topic: string, i: number, headers: Readonly<Record<string, string>>): void {
  let n = 0;
  for (const name in headers) {
    n++;
    const v = headers[name];
    if (typeof v !== 'string' || Buffer.byteLength(name) > MAX_NAME_BYTES) {
      throw new StockStreamError(
        'SS_INGEST_REJECT',
        `Expected record ${i} for '${topic}' to have string headers with names of at most ${MAX_NAME_BYTES} bytes, got header '${name.slice(0, 40)}' = ${typeof v}.`,
      );
    }
  }
  if (n > 0xffff) throw new StockStreamError('SS_INGEST_REJECT', `Expected record ${i} for '${topic}' to have at most 65535 headers, got ${n}.`);
}

function configError(msg: string): StockStreamError {
  return new StockStreamError('SS_CONFIG_INVALID', msg);
}

function validateOptions(o: JournalOptions): Required<Omit<JournalOptions, 'onWarning'>> & Pick<JournalOptions, 'onWarning'> {
  const fsync = o.fsync ?? 'batch';
  if (fsync !== 'always' && fsync !== 'batch' && fsync !== 'never') throw configError(`Expected journal fsync 'always', 'batch' or 'never', got '${String(fsync)}'.`);
  const num = (name: string, v: number | undefined, dflt: number, min: number): number => {
    const x = v ?? dflt;
    if (!Number.isFinite(x) || x < min) throw configError(`Expected journal option ${name} to be a number >= ${min}, got ${String(v)}.`);
    return x;
  };
  if (typeof o.dir !== 'string' || o.dir === '') throw configError(`Expected journal option dir to be a directory path, got ${String(o.dir)}.`);
  return {
    dir: path.resolve(o.dir),
    fsync,
    groupCommitMs: num('groupCommitMs', o.groupCommitMs, 5, 0),
    segmentBytes: num('segmentBytes', o.segmentBytes, 64 * 1024 * 1024, 1024),
    indexIntervalBytes: num('indexIntervalBytes', o.indexIntervalBytes, 4096, 1),
    retentionCheckMs: num('retentionCheckMs', o.retentionCheckMs, 60_000, 0),
    tailRecords: Math.floor(num('tailRecords', o.tailRecords, 16_384, 0)),
    onWarning: o.onWarning,
  };
}

function validateTopicConfig(name: string, c: TopicConfig): TopicConfig {
  if (!Number.isInteger(c.partitions) || c.partitions < 1 || c.partitions > 10_000) {
    throw new StockStreamError('SS_LOG_TOPIC', `Expected topic '${name}' to have 1..10000 partitions, got ${c.partitions}.`);
  }
  for (const k of ['retentionMs', 'retentionBytes'] as const) {
    const v = c[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new StockStreamError('SS_LOG_TOPIC', `Expected topic '${name}' ${k} to be a non-negative number or absent, got ${v}.`);
    }
  }
  const out: TopicConfig = { partitions: c.partitions };
  if (c.retentionMs !== undefined) out.retentionMs = c.retentionMs;
  if (c.retentionBytes !== undefined) out.retentionBytes = c.retentionBytes;
  return Object.freeze(out);
}

export class Journal implements Log {
  readonly #opts: ReturnType<typeof validateOptions>;
  readonly #warn: (msg: string) => void;
  readonly #topics = new Map<string, TopicState>();
  readonly #offsets: OffsetStore;
  #waiters = new Set<() => void>();
  readonly #stats: JournalStats = { recordsAppended: 0, bytesAppended: 0, flushes: 0, writes: 0, fsyncs: 0, truncatedBytes: 0, segmentsDeleted: 0 };
  #closed = false;
  #topicChain: Promise<unknown> = Promise.resolve();
  #batch: Deferred | null = null;
  #dirty = new Set<PartitionLog>();
  #scheduled: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
  #inFlight: Promise<void> | null = null;
  #lastFlushAt = 0;
  #retentionTimer: ReturnType<typeof setInterval> | null = null;
  readonly #host: ConsumerHost;

  private constructor(opts: ReturnType<typeof validateOptions>, offsets: OffsetStore) {
    this.#opts = opts;
    this.#warn = opts.onWarning ?? (() => undefined);
    this.#offsets = offsets;
    this.#host = {
      checkOpen: () => this.#checkOpen(),
      isOpen: () => !this.#closed,
      start: (tp) => this.#part(tp).startOffset,
      end: (tp) => this.#part(tp).endOffset,
      read: (tp, offset, max) => this.#part(tp).read(offset, max, true),
      offsetForTimestamp: (tp, ts) => this.#part(tp).offsetForTimestamp(ts),
      committed: (group, tp) => this.#offsets.committed(group, tp.topic, tp.partition),
      commit: (group, offsets) => this.#commit(group, offsets),
      waitForAppend: (ms, register) => this.#waitForAppend(ms, register),
    };
  }

  /** Opens the journal in `dir`, creating it if needed and recovering each partition's tail. */
  static async open(options: JournalOptions): Promise<Journal> {
    const opts = validateOptions(options);
    const dir = opts.dir;
    if (openDirs.has(dir)) {
      throw new StockStreamError('SS_LOG_IO', `Expected journal ${dir} to be closed before opening it again in this process; close the other instance first.`);
    }
    await mkdirp(dir);
    await takeLock(dir);
    openDirs.add(dir);
    try {
      const offsets = await OffsetStore.open(path.join(dir, GROUPS_DIR), true);
      const j = new Journal(opts, offsets);
      for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
        if (!entry.isDirectory() || !TOPIC_NAME.test(entry.name)) continue;
        await j.#loadTopic(entry.name);
      }
      if (opts.retentionCheckMs > 0) {
        j.#retentionTimer = setInterval(() => {
          j.enforceRetention().catch((err: unknown) => j.#warn(`journal: retention failed: ${String(err)}`));
        }, opts.retentionCheckMs);
        j.#retentionTimer.unref();
      }
      return j;
    } catch (err) {
      openDirs.delete(dir);
      await fs.promises.rm(path.join(dir, LOCK_FILE), { force: true });
      throw err;
    }
  }

  async #loadTopic(name: string): Promise<void> {
    const topicDir = path.join(this.#opts.dir, name);
    let config: TopicConfig;
    try {
      config = JSON.parse(await fs.promises.readFile(path.join(topicDir, 'topic.json'), 'utf8')) as TopicConfig;
    } catch {
      this.#warn(`journal: ${topicDir} has no readable topic.json (created by a crash mid-ensureTopic?); ignoring it until ensureTopic('${name}') runs again.`);
      return;
    }
    config = validateTopicConfig(name, config);
    const parts: PartitionLog[] = [];
    for (let p = 0; p < config.partitions; p++) {
      const { log, truncatedBytes } = await PartitionLog.open(name, p, path.join(topicDir, String(p)), this.#partitionOptions());
      this.#stats.truncatedBytes += truncatedBytes;
      parts.push(log);
    }
    this.#topics.set(name, { name, config, parts, partitioner: new KeyPartitioner(config.partitions) });
  }

  #partitionOptions() {
    return {
      segmentBytes: this.#opts.segmentBytes,
      indexIntervalBytes: this.#opts.indexIntervalBytes,
      sync: this.#opts.fsync !== 'never',
      onWarning: this.#warn,
      tailRecords: this.#opts.tailRecords,
    };
  }

  #checkOpen(): void {
    if (this.#closed) throw new StockStreamError('SS_LOG_CLOSED', `Journal ${this.#opts.dir} is closed; open it again with Journal.open().`);
  }

  #topic(name: string): TopicState {
    const t = this.#topics.get(name);
    if (t === undefined) {
      throw new StockStreamError('SS_LOG_TOPIC', `Expected an existing topic, got '${name}'; call ensureTopic('${name}', { partitions }) first.`, { context: { topic: name } });
    }
    return t;
  }

  #part(tp: TopicPartition): PartitionLog {
    const t = this.#topic(tp.topic);
    const p = t.parts[tp.partition];
    if (p === undefined || !Number.isInteger(tp.partition)) {
      throw new StockStreamError('SS_LOG_TOPIC', `Expected a partition of '${tp.topic}' in 0..${t.parts.length - 1}, got ${tp.partition}.`, { context: { topic: tp.topic } });
    }
    return p;
  }

  async ensureTopic(name: string, config: TopicConfig): Promise<void> {
    this.#checkOpen();
    if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name === '.' || name === '..') {
      throw new StockStreamError('SS_LOG_TOPIC', `Expected a topic name of 1..249 characters from [a-zA-Z0-9._-] (as in Kafka), got '${String(name)}'.`);
    }
    const valid = validateTopicConfig(name, config);
    // An existing topic keeps its whole config, as Kafka's CreateTopics answers TOPIC_ALREADY_EXISTS.
    if (this.#topics.has(name)) return;
    // Serialize creations so two concurrent ensureTopic calls do not both create files.
    const run = this.#topicChain.then(async () => {
      if (this.#topics.has(name)) return;
      this.#checkOpen();
      const topicDir = path.join(this.#opts.dir, name);
      await mkdirp(topicDir);
      const parts: PartitionLog[] = [];
      for (let p = 0; p < valid.partitions; p++) {
        parts.push((await PartitionLog.open(name, p, path.join(topicDir, String(p)), this.#partitionOptions())).log);
      }
      // topic.json last: a topic directory without it is an unfinished creation.
      await writeFileAtomic(path.join(topicDir, 'topic.json'), JSON.stringify(valid), true);
      await syncDir(this.#opts.dir);
      this.#topics.set(name, { name, config: valid, parts, partitioner: new KeyPartitioner(valid.partitions) });
    });
    this.#topicChain = run.catch(() => undefined);
    await run;
  }

  async topics(): Promise<TopicInfo[]> {
    this.#checkOpen();
    return [...this.#topics.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((t) => ({
        name: t.name,
        config: t.config,
        partitions: t.parts.map((p) => ({ partition: p.partition, startOffset: p.startOffset, endOffset: p.endOffset, bytes: p.bytes })),
      }));
  }

  async append(topic: string, records: readonly ProducerRecord[]): Promise<AppendAck[]> {
    this.#checkOpen();
    const t = this.#topic(topic);
    const n = records.length;
    if (n === 0) return [];
    const nParts = t.parts.length;
    // Small integers only: the GC never traces this array while the append waits for its flush.
    const placed: number[] = new Array<number>(n);
    // Validate the whole batch before staging any of it: a batch is accepted or refused whole.
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      if (typeof r.key !== 'string' || !(r.value instanceof Uint8Array)) {
        throw new StockStreamError('SS_INGEST_REJECT', `Expected record ${i} for '${topic}' to have a string key and a Uint8Array value, got key ${typeof r.key} and value ${Object.prototype.toString.call(r.value)}.`);
      }
      checkKeyLength(topic, 'record', i, r.key);
      if (r.headers !== undefined) validateHeaders(topic, i, r.headers);
      if (r.timestamp !== undefined) checkTimestamp(topic, i, r.timestamp);
      let p: number;
      if (r.partition === undefined) p = t.partitioner.partition(r.key);
      else {
        p = r.partition;
        if (!Number.isInteger(p) || p < 0 || p >= nParts) {
          throw new StockStreamError('SS_LOG_TOPIC', `Expected record ${i} partition in 0..${nParts - 1} for '${topic}', got ${p}.`, { context: { topic } });
        }
      }
      const failed = t.parts[p]!.failure;
      if (failed !== null) throw failed;
      placed[i] = p;
    }
    const now = Date.now();
    // First offset this append takes in each partition; acks are derived from it after the flush
    // so no per-record object lives across the wait (they would survive young-generation GCs).
    const first: number[] = new Array<number>(nParts).fill(-1);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      const p = placed[i]!;
      const part = t.parts[p]!;
      if (first[p] === -1) first[p] = part.nextOffset;
      bytes += part.stage(r, r.timestamp ?? now);
      this.#queue(part);
    }
    await this.#staged(n, bytes);
    // Records of one partition got consecutive offsets: staging is synchronous, nothing interleaves.
    const acks: AppendAck[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = placed[i]!;
      acks[i] = { partition: p, offset: first[p]!++ };
    }
    return acks;
  }

  async appendItems<T>(topic: string, items: readonly T[], codec: RecordCodec<T>): Promise<void> {
    this.#checkOpen();
    const t = this.#topic(topic);
    const n = items.length;
    if (n === 0) return;
    // Small integers only, as in append; the whole batch is checked before any of it is staged.
    const placed: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const key: unknown = codec.key(items[i] as T);
      checkItem(topic, i, key, codec.timestamp(items[i] as T));
      checkKeyLength(topic, 'item', i, key);
      const p = t.partitioner.partition(key);
      const failed = t.parts[p]!.failure;
      if (failed !== null) throw failed;
      placed[i] = p;
    }
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const item = items[i] as T;
      const part = t.parts[placed[i]!]!;
      bytes += part.stageItem(item, codec, codec.key(item), codec.timestamp(item));
      this.#queue(part);
    }
    await this.#staged(n, bytes);
  }

  /** Puts a partition that staged records on the next flush's list. */
  #queue(part: PartitionLog): void {
    if (!part.queued) {
      part.queued = true;
      this.#dirty.add(part);
    }
  }

  /** Counts what an append staged and resolves once the flush that takes it is durable. */
  #staged(records: number, bytes: number): Promise<void> {
    this.#stats.recordsAppended += records;
    this.#stats.bytesAppended += bytes;
    return this.#nextFlush();
  }

  #nextFlush(): Promise<void> {
    let b = this.#batch;
    if (b === null) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      b = this.#batch = { promise, resolve, reject };
    }
    this.#schedule();
    return b.promise;
  }

  #schedule(): void {
    if (this.#scheduled !== null || this.#inFlight !== null) return;
    const wait = this.#opts.fsync === 'batch' ? this.#lastFlushAt + this.#opts.groupCommitMs - Date.now() : 0;
    this.#scheduled = wait > 0 ? setTimeout(() => void this.#flush(), wait) : setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = null;
    const batch = this.#batch;
    // One flush at a time: partitions' writes and publishes must stay in order.
    if (batch === null || this.#inFlight !== null) return;
    this.#batch = null;
    const parts = [...this.#dirty];
    // A new set, not clear(): V8's clear() links the old hash table to the new one, which keeps
    // every later table alive from the old generation once one was promoted (see StreamHub).
    this.#dirty = new Set();
    for (const p of parts) p.queued = false;
    this.#lastFlushAt = Date.now();
    const sync = this.#opts.fsync !== 'never';
    const run = Promise.allSettled(parts.map((p) => p.flush(sync))).then((results) => {
      let failure: unknown = null;
      for (const r of results) {
        if (r.status === 'fulfilled') {
          this.#stats.fsyncs += r.value.fsyncs;
          this.#stats.writes += r.value.writes;
        } else failure ??= r.reason;
      }
      this.#stats.flushes++;
      // Records of a partition that flushed are readable even if another partition failed.
      this.#notify();
      if (failure !== null) batch.reject(failure);
      else batch.resolve();
    });
    this.#inFlight = run;
    await run;
    this.#inFlight = null;
    if (this.#batch !== null) this.#schedule();
  }

  #notify(): void {
    if (this.#waiters.size === 0) return;
    const ws = this.#waiters;
    this.#waiters = new Set();
    for (const w of ws) w();
  }

  #waitForAppend(ms: number, register: (wake: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      register(done);
    });
  }

  async #commit(group: string, offsets: readonly CommitOffset[]): Promise<void> {
    for (const o of offsets) this.#part(o);
    await this.#offsets.commit(group, offsets);
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    this.#checkOpen();
    if (typeof options.group !== 'string' || options.group === '') {
      throw new StockStreamError('SS_LOG_TOPIC', `Expected a non-empty consumer group name, got '${String(options.group)}'.`);
    }
    const assignment: TopicPartition[] = [];
    for (const name of options.topics) {
      const t = this.#topic(name);
      for (let p = 0; p < t.parts.length; p++) assignment.push({ topic: name, partition: p });
    }
    return new JournalConsumer(this.#host, options.group, assignment, options.reset ?? 'earliest');
  }

  async read(tp: TopicPartition, offset: number, max: number): Promise<LogRecord[]> {
    this.#checkOpen();
    const p = this.#part(tp);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new StockStreamError('SS_LOG_OFFSET', `Expected a non-negative integer offset to read ${tp.topic}/${tp.partition} from, got ${offset}.`);
    }
    if (!Number.isInteger(max) || max < 0) {
      throw new StockStreamError('SS_LOG_OFFSET', `Expected max to be a non-negative integer, got ${max}.`);
    }
    return p.read(offset, max);
  }

  /** Applies each topic's retention now; the timer calls this. Returns segments deleted. */
  async enforceRetention(now: number = Date.now()): Promise<number> {
    this.#checkOpen();
    let deleted = 0;
    for (const t of this.#topics.values()) {
      if (t.config.retentionMs === undefined && t.config.retentionBytes === undefined) continue;
      for (const p of t.parts) deleted += await p.enforceRetention(now, t.config.retentionMs, t.config.retentionBytes);
    }
    this.#stats.segmentsDeleted += deleted;
    return deleted;
  }

  stats(): Readonly<JournalStats> {
    return { ...this.#stats };
  }

  /** Flushes and fsyncs everything accepted, then releases files; later calls throw SS_LOG_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retentionTimer !== null) clearInterval(this.#retentionTimer);
    if (this.#scheduled !== null) {
      clearTimeout(this.#scheduled as ReturnType<typeof setTimeout>);
      clearImmediate(this.#scheduled as ReturnType<typeof setImmediate>);
      this.#scheduled = null;
    }
    let flushError: unknown = null;
    while (this.#inFlight !== null || this.#batch !== null) {
      if (this.#inFlight !== null) await this.#inFlight;
      else await this.#flush();
    }
    await this.#offsets.drain();
    await this.#topicChain;
    for (const t of this.#topics.values()) {
      for (const p of t.parts) {
        try {
          if (p.failure === null) await p.syncAll();
        } catch (err) {
          flushError ??= err;
        }
        await p.close();
      }
    }
    this.#notify();
    openDirs.delete(this.#opts.dir);
    await fs.promises.rm(path.join(this.#opts.dir, LOCK_FILE), { force: true });
    if (flushError !== null) throw flushError;
  }
}

/** One process per journal directory: a second opener would interleave writes and corrupt it. */
async function takeLock(dir: string): Promise<void> {
  const file = path.join(dir, LOCK_FILE);
  try {
    const pid = Number((await fs.promises.readFile(file, 'utf8')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new StockStreamError('SS_LOG_IO', `Expected journal ${dir} to be free, but process ${pid} has it open (${file}). Stop that process, or delete the lock file if it is stale.`, {
        retryable: false,
      });
    }
  } catch (err) {
    if (err instanceof StockStreamError) throw err;
  }
  await fs.promises.writeFile(file, String(process.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
