/**
 * One partition of a topic on disk: a directory of segments, the newest of which takes appends.
 *
 * Appends are staged: `stage()` encodes a record into an in-memory FrameBuffer and gives it its
 * offset at once (so acks are known synchronously); `flush()` later writes everything staged with
 * one write(2) per segment touched (one, unless a segment rolls) and, by policy, one fdatasync.
 * Readers see only what a completed flush published (`size`, `lastOffset`, index entries of each
 * segment), so nothing unacknowledged is ever returned. Flushes of one partition never overlap:
 * the journal runs one flush at a time.
 */

import fs from 'node:fs';
import path from 'node:path';
import { StockStreamError } from '../../shared/errors.js';
import type { LogRecord, ProducerRecord, RecordCodec } from '../log.js';
import { datasync, fileSize, mkdirp, openFile, syncDir, truncateFd, writeAt } from './fs-io.js';
import { FrameBuffer } from './record-frame.js';
import { Segment, segmentFileName } from './segment.js';

export interface PartitionOptions {
  segmentBytes: number;
  indexIntervalBytes: number;
  /** Whether flushes fdatasync (policy 'always' or 'batch'). */
  sync: boolean;
  onWarning: (msg: string) => void;
  /** Newest records kept in memory for readers in this process (0 disables). */
  tailRecords: number;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A record served from the memory tail. Its value view is made on first read: a consumer that
 * has the payload (the tick pipeline) never reads the bytes, so it never pays for the view.
 */
class TailRecord implements LogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: unknown;
  readonly #buffer: ArrayBufferLike;
  readonly #at: number;
  readonly #length: number;
  #value: Buffer | null = null;

  constructor(
    topic: string,
    partition: number,
    offset: number,
    key: string,
    timestamp: number,
    headers: Readonly<Record<string, string>>,
    payload: unknown,
    buffer: ArrayBufferLike,
    at: number,
    length: number,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.key = key;
    this.timestamp = timestamp;
    this.headers = headers;
    this.payload = payload;
    this.#buffer = buffer;
    this.#at = at;
    this.#length = length;
  }

  get value(): Buffer {
    return (this.#value ??= Buffer.from(this.#buffer, this.#at, this.#length));
  }

  /** JSON and structured logs see the same fields as a plain record's. */
  toJSON(): LogRecord {
    const { topic, partition, offset, key, value, timestamp, headers, payload } = this;
    return { topic, partition, offset, key, value, timestamp, headers, payload };
  }
}

/** A run of staged bytes bound for one segment, with what publishing it will change there. */
interface StagedChunk {
  segmentBase: number;
  newSegment: boolean;
  start: number;
  end: number;
  lastOffset: number;
  maxTimestamp: number;
  /** Index entries as flat triples: offset, position, maxTimestampBefore. */
  index: number[];
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  readonly #opts: PartitionOptions;
  readonly #segments: Segment[] = [];
  /** Offset the next staged record gets. */
  #nextOffset = 0;
  /** End offset readers may see. */
  #visibleEnd = 0;
  #staging = new FrameBuffer();
  #spare: FrameBuffer | null = new FrameBuffer();
  /**
   * First offset staged by stageItem since the last flush, or -1. Those records' tail slots hold
   * no buffer yet (their values lie in #staging, which is recycled): the flush gives them a copy.
   */
  #itemsFrom = -1;
  #chunks: StagedChunk[] = [];
  /** Write-side view of the newest segment, including staged bytes. */
  #wBase = 0;
  #wSize = 0;
  #wLastIndexed = -Infinity;
  #wMaxTs = -Infinity;
  #failed: StockStreamError | null = null;
  /** Set by the journal while this partition waits in its dirty list, to skip a Set lookup per record. */
  queued = false;
  #unsyncedDir = false;
  /** Segments are opened O_DSYNC, so a flush's writes are its fdatasync (see #segmentFlags). */
  readonly #dsync: boolean;
  /**
   * Memory tail: the newest records (slot = offset % capacity), so consumers that keep up read
   * them without file I/O, CRC checks or decoding. Valid from #tailLow up; records enter when
   * staged and become readable when their flush publishes them (#visibleEnd). Held as parallel
   * arrays of the producer's fields, and made into LogRecords only when read. A value is kept as
   * its ArrayBuffer (shared by a whole producer batch, or for appendItems the flush's copy of its
   * frames, #tailItems) with its offset and length, not as a view per record: a view per record
   * held for the tail's ~3 s outlived two young-generation
   * GCs, so every one was promoted and then had to be freed by a full mark-compact (measured in
   * the latency bench: ~470 KB of the ~1.3 MB promoted per scavenge, and ~1 ms of its pause).
   * Allocated at the first append, so partitions that never get one in this process (most late,
   * dead-letter and daily candle partitions) cost nothing.
   */
  #tailKey: string[] = [];
  #tailBuffer: (ArrayBufferLike | null)[] = [];
  #tailValueAt = new Float64Array(0);
  #tailValueLength = new Int32Array(0);
  #tailHeaders: (Readonly<Record<string, string>> | undefined)[] = [];
  #tailPayload: unknown[] = [];
  #tailTimestamp = new Float64Array(0);
  #tailLow = 0;

  private constructor(topic: string, partition: number, dir: string, opts: PartitionOptions) {
    this.topic = topic;
    this.partition = partition;
    this.dir = dir;
    this.#opts = opts;
    this.#dsync = opts.sync && typeof fs.constants.O_DSYNC === 'number';
  }

  #allocateTail(capacity: number): void {
    this.#tailKey = new Array<string>(capacity);
    this.#tailBuffer = new Array<ArrayBufferLike | null>(capacity);
    this.#tailValueAt = new Float64Array(capacity);
    this.#tailValueLength = new Int32Array(capacity);
    this.#tailHeaders = new Array<Readonly<Record<string, string>> | undefined>(capacity);
    this.#tailPayload = new Array<unknown>(capacity);
    this.#tailTimestamp = new Float64Array(capacity);
  }

  /** Opens (or creates) the partition directory, verifying the tail of the newest segment. */
  static async open(topic: string, partition: number, dir: string, opts: PartitionOptions): Promise<{ log: PartitionLog; truncatedBytes: number }> {
    const p = new PartitionLog(topic, partition, dir, opts);
    await mkdirp(dir);
    let names: string[];
    try {
      names = await fs.promises.readdir(dir);
    } catch (err) {
      throw new StockStreamError('SS_LOG_IO', `Expected to list partition directory ${dir}: ${String(err)}. Check permissions.`, { cause: err });
    }
    for (const n of names) if (n.includes('.tmp-')) await fs.promises.rm(path.join(dir, n), { force: true });
    const bases = names
      .filter((n) => /^\d{20}\.log$/.test(n))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);
    let truncatedBytes = 0;
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const fd = await openFile(path.join(dir, segmentFileName(base)), p.#segmentFlags(false));
      const seg = new Segment(dir, base, fd);
      const size = await fileSize(fd, seg.file);
      const last = i === bases.length - 1;
      // Sealed segments with an index describing their exact size were durable when sealed;
      // the newest segment, or one without a trustworthy index, is verified frame by frame.
      if (last || !(await seg.loadIndexFile(size))) {
        const { validBytes, problem } = await seg.scan(size, opts.indexIntervalBytes);
        if (problem !== null) {
          truncatedBytes += size - validBytes;
          opts.onWarning(
            `journal: ${topic}/${partition} segment ${path.basename(seg.file)}: ${problem}; truncated ${size - validBytes} bytes after the last good record (offset ${seg.lastOffset}). Those records were never acknowledged under 'always' or 'batch'.`,
          );
          await truncateFd(fd, validBytes, seg.file);
          await datasync(fd, seg.file);
        }
        if (!last) await seg.writeIndexFile(opts.sync);
      }
      p.#segments.push(seg);
    }
    if (p.#segments.length === 0) {
      p.#segments.push(await p.#createSegment(0));
      if (opts.sync) await syncDir(dir);
    }
    const active = p.#segments[p.#segments.length - 1]!;
    const lastOffset = active.lastOffset;
    p.#nextOffset = Math.max(lastOffset + 1, active.baseOffset);
    p.#visibleEnd = p.#nextOffset;
    p.#tailLow = p.#nextOffset;
    p.#wBase = active.baseOffset;
    p.#wSize = active.size;
    p.#wMaxTs = active.maxTimestamp;
    p.#wLastIndexed = active.idxPosition.length > 0 ? active.idxPosition[active.idxPosition.length - 1]! : -Infinity;
    return { log: p, truncatedBytes };
  }

  async #createSegment(base: number): Promise<Segment> {
    const fd = await openFile(path.join(this.dir, segmentFileName(base)), this.#segmentFlags(true));
    return new Segment(this.dir, base, fd);
  }

  /**
   * Under 'always' and 'batch' segments are opened O_DSYNC where the platform has it: each
   * write(2) then returns once its data (and the size change) is durable, as write + fdatasync
   * would, but in one thread-pool job instead of two. Measured at 20,000 ticks/s over four
   * partitions: the hand-offs to libuv's pool cost the event loop ~16 µs each.
   */
  #segmentFlags(create: boolean): number {
    const c = fs.constants;
    const base = create ? c.O_RDWR | c.O_CREAT | c.O_TRUNC : c.O_RDWR;
    return this.#dsync ? base | c.O_DSYNC : base;
  }

  get startOffset(): number {
    return this.#segments[0]!.baseOffset;
  }

  get endOffset(): number {
    return this.#visibleEnd;
  }

  get bytes(): number {
    let total = 0;
    for (const s of this.#segments) total += s.size;
    return total;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Offset the next staged record will get. */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  get failure(): StockStreamError | null {
    return this.#failed;
  }

  /** Encodes one record into the staging buffer at offset `nextOffset`; returns its frame length. */
  stage(record: ProducerRecord, timestamp: number): number {
    const at = this.#staging.length;
    const len = this.#staging.append(this.#nextOffset, timestamp, record.key, record.headers, record.value);
    const v = record.value;
    return this.#staged(at, len, record.key, record.headers, record.payload, timestamp, v.buffer, v.byteOffset, v.byteLength);
  }

  /**
   * Encodes one item (Log.appendItems) into the staging buffer at offset `nextOffset`; returns its
   * frame length. Its tail slot gets the value at the flush (#tailItems).
   */
  stageItem<T>(item: T, codec: RecordCodec<T>, key: string, timestamp: number): number {
    const staging = this.#staging;
    const at = staging.length;
    const len = staging.appendItem(this.#nextOffset, timestamp, key, item, codec);
    if (this.#itemsFrom < 0) this.#itemsFrom = this.#nextOffset;
    // No buffer until the flush copies the staged bytes (#tailItems); until then nobody reads the slot.
    return this.#staged(at, len, key, undefined, item, timestamp, null, staging.valueAt, at + len - staging.valueAt);
  }

  /**
   * Gives the tail slots of records staged by stageItem their values: one exact-size copy of the
   * flush's staged frames (small ones from Node's shared pool), so the staging buffer is recycled
   * and the tail holds about 1.5× its values' bytes (frames and keys come along), not a buffer
   * sized for a whole flush. Keeping each flush's staging buffer instead cost the memory bench
   * ~6 KB per symbol and the latency bench GC pauses (a fresh buffer per partition and flush);
   * the copy is one memcpy per flush. #itemsFrom is cleared only once every slot has its buffer.
   */
  #tailItems(staged: FrameBuffer): void {
    const cap = this.#tailTimestamp.length;
    if (cap > 0) {
      const copy = Buffer.allocUnsafe(staged.length);
      staged.buf.copy(copy, 0, 0, staged.length);
      for (let o = Math.max(this.#itemsFrom, this.#nextOffset - cap); o < this.#nextOffset; o++) {
        const slot = o % cap;
        if (this.#tailBuffer[slot] !== null) continue;
        this.#tailBuffer[slot] = copy.buffer;
        this.#tailValueAt[slot] = (this.#tailValueAt[slot] as number) + copy.byteOffset;
      }
    }
    this.#itemsFrom = -1;
  }

  /** Books the record just staged at `at` (its frame `len` bytes): offset, memory tail, segment roll, index. */
  #staged(
    at: number,
    len: number,
    key: string,
    headers: Readonly<Record<string, string>> | undefined,
    payload: unknown,
    timestamp: number,
    valueBuffer: ArrayBufferLike | null,
    valueAt: number,
    valueLength: number,
  ): number {
    const offset = this.#nextOffset;
    this.#nextOffset = offset + 1;
    if (this.#tailTimestamp.length === 0 && this.#opts.tailRecords > 0) this.#allocateTail(this.#opts.tailRecords);
    const cap = this.#tailTimestamp.length;
    if (cap > 0) {
      const slot = offset % cap;
      this.#tailKey[slot] = key;
      this.#tailBuffer[slot] = valueBuffer;
      this.#tailValueAt[slot] = valueAt;
      this.#tailValueLength[slot] = valueLength;
      this.#tailHeaders[slot] = headers;
      this.#tailPayload[slot] = payload;
      this.#tailTimestamp[slot] = timestamp;
      if (offset - this.#tailLow >= cap) this.#tailLow = offset - cap + 1;
    }
    let chunk = this.#chunks[this.#chunks.length - 1];
    if (this.#wSize > 0 && this.#wSize + len > this.#opts.segmentBytes) {
      // Roll: this record starts a new segment named by its offset.
      if (chunk !== undefined) chunk.end = at;
      chunk = { segmentBase: offset, newSegment: true, start: at, end: at, lastOffset: offset, maxTimestamp: -Infinity, index: [] };
      this.#chunks.push(chunk);
      this.#wBase = offset;
      this.#wSize = 0;
      this.#wLastIndexed = -Infinity;
      this.#wMaxTs = -Infinity;
    } else if (chunk === undefined) {
      chunk = { segmentBase: this.#wBase, newSegment: false, start: at, end: at, lastOffset: offset, maxTimestamp: -Infinity, index: [] };
      this.#chunks.push(chunk);
    }
    if (this.#wSize === 0 || this.#wSize - this.#wLastIndexed >= this.#opts.indexIntervalBytes) {
      chunk.index.push(offset, this.#wSize, this.#wMaxTs);
      this.#wLastIndexed = this.#wSize;
    }
    this.#wSize += len;
    if (timestamp > this.#wMaxTs) this.#wMaxTs = timestamp;
    if (timestamp > chunk.maxTimestamp) chunk.maxTimestamp = timestamp;
    chunk.lastOffset = offset;
    chunk.end = at + len;
    return len;
  }

  /**
   * Writes what is staged (one write per segment touched), fdatasyncs when `sync`, then
   * publishes it to readers. Returns the number of fdatasync calls made.
   */
  async flush(sync: boolean): Promise<{ fsyncs: number; writes: number }> {
    if (this.#failed !== null) throw this.#failed;
    const chunks = this.#chunks;
    if (chunks.length === 0) return { fsyncs: 0, writes: 0 };
    const staged = this.#staging;
    if (this.#itemsFrom >= 0) this.#tailItems(staged);
    this.#chunks = [];
    this.#staging = this.#spare ?? new FrameBuffer();
    this.#spare = null;
    const touched: Segment[] = [];
    try {
      const sealed: Segment[] = [];
      let created = false;
      let seg = this.#segments[this.#segments.length - 1]!;
      for (const c of chunks) {
        if (c.newSegment) {
          sealed.push(seg);
          seg = await this.#createSegment(c.segmentBase);
          this.#segments.push(seg);
          created = true;
        }
        // The newest segment is never retired (retention keeps it), so this cannot fail.
        seg.acquire();
        touched.push(seg);
        await writeAt(seg.fd, staged.buf, c.start, c.end, seg.writePos, seg.file);
        seg.writePos += c.end - c.start;
      }
      let fsyncs = 0;
      if (!sync) {
        for (const s of touched) s.unsynced = true;
        if (created) this.#unsyncedDir = true;
      }
      if (sync) {
        const unique = [...new Set(touched)];
        if (!this.#dsync) await Promise.all(unique.map((s) => datasync(s.fd, s.file)));
        fsyncs = unique.length;
        if (created) {
          await syncDir(this.dir);
          fsyncs++;
        }
      }
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i]!;
        const s = touched[i]!;
        // Staged positions are segment positions already: segments are written strictly in order.
        for (let j = 0; j < c.index.length; j += 3) s.addIndexEntry(c.index[j]!, c.index[j + 1]!, c.index[j + 2]!);
        s.size += c.end - c.start;
        s.lastOffset = c.lastOffset;
        if (c.maxTimestamp > s.maxTimestamp) s.maxTimestamp = c.maxTimestamp;
      }
      this.#visibleEnd = chunks[chunks.length - 1]!.lastOffset + 1;
      for (const s of sealed) if (!s.retired) await s.writeIndexFile(sync);
      staged.reset();
      this.#spare = staged;
      return { fsyncs, writes: chunks.length };
    } catch (err) {
      // Offsets were handed out for records that may or may not be on disk: stop accepting
      // appends here; reopening the journal re-verifies the tail and resumes from what is there.
      this.#failed =
        err instanceof StockStreamError
          ? err
          : new StockStreamError('SS_LOG_IO', `Expected to flush ${this.topic}/${this.partition}: ${String(err)}. Close and reopen the journal.`, { cause: err });
      throw this.#failed;
    } finally {
      for (const s of touched) s.release();
    }
  }

  /**
   * Records from `offset`. `takePayload`: a consumer's read, which gets each record's in-memory
   * payload (and takes it: see #readTail); a random-access read (`Log.read`: the topic browser,
   * checkpoint and replay scans) leaves payloads for the consumers and decodes bytes like any other.
   */
  async read(offset: number, max: number, takePayload = false): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    if (max <= 0) return out;
    const from = Math.max(offset, this.startOffset);
    const end = this.#visibleEnd;
    if (from >= end) return out;
    const cap = this.#tailTimestamp.length;
    if (cap > 0 && from >= this.#tailLow) return this.#readTail(from, end, max, out, takePayload);
    // Below the memory tail: read files up to where the tail starts, then continue from memory.
    const fileMax = cap > 0 ? Math.min(max, this.#tailLow - from) : max;
    // Read ahead only for a consumer whose next read goes on in the files, not into the tail.
    await this.#readFiles(from, fileMax, out, takePayload && fileMax === max);
    const next = out.length > 0 ? out[out.length - 1]!.offset + 1 : from;
    if (cap > 0 && out.length < max && next >= this.#tailLow) return this.#readTail(next, end, max, out, takePayload);
    return out;
  }

  #readTail(from: number, end: number, max: number, out: LogRecord[], takePayload: boolean): LogRecord[] {
    const cap = this.#tailTimestamp.length;
    const stop = Math.min(end, from + max - out.length);
    for (let o = from; o < stop; o++) {
      const slot = o % cap;
      out.push(
        new TailRecord(
          this.topic,
          this.partition,
          o,
          this.#tailKey[slot] as string,
          this.#tailTimestamp[slot] as number,
          this.#tailHeaders[slot] ?? NO_HEADERS,
          takePayload ? this.#tailPayload[slot] : undefined,
          this.#tailBuffer[slot] as ArrayBufferLike,
          this.#tailValueAt[slot] as number,
          this.#tailValueLength[slot] as number,
        ),
      );
      // The payload goes to the first consumer only: holding it until the slot is reused would
      // keep every tick object alive through young-generation GCs (long scavenge pauses,
      // promotion). Later readers of the same record decode `value`, as any other consumer does.
      if (takePayload) this.#tailPayload[slot] = undefined;
    }
    return out;
  }

  async #readFiles(offset: number, max: number, out: LogRecord[], readAhead = false): Promise<void> {
    let from = offset;
    const segs = this.#segments;
    let i = this.#segmentIndexFor(from);
    // Snapshot: retention may splice the array while we await.
    const list = segs.slice(i);
    for (i = 0; i < list.length && out.length < max; i++) {
      const s = list[i]!;
      if (s.lastOffset < from) continue;
      const ok = await s.readRecords(from, max, out, this.topic, this.partition, readAhead);
      if (!ok) {
        throw new StockStreamError(
          'SS_LOG_CORRUPT',
          `Expected intact records in ${s.file} from offset ${from}, but a frame failed its CRC or length check. Restore the file or delete the segment; the journal's recovery only repairs the newest segment's tail.`,
          { context: { topic: this.topic, partition: this.partition, file: s.file } },
        );
      }
      if (out.length > 0) from = out[out.length - 1]!.offset + 1;
    }
  }

  /** Offset of the first record with timestamp >= ts; endOffset when there is none. */
  async offsetForTimestamp(ts: number): Promise<number> {
    for (const s of this.#segments.slice()) {
      if (s.maxTimestamp < ts) continue;
      const o = await s.offsetForTimestamp(ts);
      if (o >= 0) return o;
    }
    return this.#visibleEnd;
  }

  #segmentIndexFor(offset: number): number {
    const segs = this.#segments;
    let lo = 0;
    let hi = segs.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.baseOffset <= offset) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  /**
   * Deletes the oldest sealed segments while they are older than retentionMs (by their newest
   * timestamp) or while the partition holds more than retentionBytes. The newest segment, which
   * takes appends, is never deleted. Returns how many segments went.
   */
  async enforceRetention(now: number, retentionMs: number | undefined, retentionBytes: number | undefined): Promise<number> {
    let deleted = 0;
    let total = this.bytes;
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const byAge = retentionMs !== undefined && oldest.maxTimestamp < now - retentionMs;
      const bySize = retentionBytes !== undefined && total > retentionBytes;
      if (!byAge && !bySize) break;
      this.#segments.shift();
      total -= oldest.size;
      await oldest.retire();
      deleted++;
    }
    return deleted;
  }

  async close(): Promise<void> {
    for (const s of this.#segments) await s.close();
  }

  /** For close(): fdatasync whatever policy 'never' left unsynced, segment files and names. */
  async syncAll(): Promise<void> {
    for (const s of this.#segments) {
      if (s.unsynced && s.acquire()) {
        try {
          await datasync(s.fd, s.file);
          s.unsynced = false;
        } finally {
          s.release();
        }
      }
    }
    if (this.#unsyncedDir) {
      await syncDir(this.dir);
      this.#unsyncedDir = false;
    }
  }
}
