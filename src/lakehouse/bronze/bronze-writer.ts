import bindings from '@duckdb/node-bindings';
import { DuckDBInstance, DuckDBTableFunction, DOUBLE, ENUM, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs/promises';
import path from 'node:path';
import { syncPath, writeFileAtomic } from '../../log/journal/fs-io.js';
import type { CommitOffset, Log, LogConsumer, LogRecord } from '../../log/log.js';
import { StockStreamError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { LakeFile } from '../catalog/lake-database.js';
import { BRONZE_TABLES, ColumnBatch, isText, type BronzeTable, type TextColumn } from './bronze-tables.js';
import { sqlString } from '../../shared/sql.js';

export interface BronzeWriterOptions {
  log: Log;
  /** The lake root; bronze goes to `<lakeDir>/bronze/<table>/date=YYYY-MM-DD/symbol=<S>/`. */
  lakeDir: string;
  /** Flush at least this often while rows are buffered (ms). Default 10,000. */
  flushIntervalMs?: number;
  /** Flush when this many rows are buffered. Default 100,000. */
  flushRows?: number;
  /** Consumer group; default 'lake.bronze'. */
  group?: string;
  tables?: readonly BronzeTable[];
  /**
   * Called with every file of a flush once all are durably in place, before the offsets are
   * committed (the lake catalog records them here). A redone flush calls it again with the same
   * files. If it throws, the flush fails and is retried.
   */
  onCommit?: (files: readonly LakeFile[]) => Promise<void>;
  /** Lands only the records it accepts (a backfill of some dates); the others are read and committed past. */
  accept?: (record: LogRecord) => boolean;
  logger?: Logger;
  now?: () => number;
}

export interface BronzeStats {
  flushes: number;
  rowsWritten: number;
  filesWritten: number;
  /** Rows buffered, not yet in the lake. */
  buffered: number;
  /** Wall time of the last successful flush, epoch ms; null before the first. */
  lastFlushAt: number | null;
  /** The last flush failure, cleared by the next success. */
  lastError: string | null;
}

type Resolved = Required<Omit<BronzeWriterOptions, 'logger' | 'onCommit' | 'accept'>> & { logger: Logger | null; onCommit: BronzeWriterOptions['onCommit'] | null; accept: BronzeWriterOptions['accept'] | null };

/** The log ranges one flush covers: [from, to) per topic partition. Written before any file. */
interface Intent {
  ranges: { topic: string; partition: number; from: number; to: number }[];
}

const INTENT_FILE = 'bronze.intent.json';

/**
 * `<lakeDir>/_state/bronze.start-at.json`: where the files of a lake restored from its object store
 * end, per log partition: `{"group":"lake.bronze","offsets":[{"topic","partition","offset"},…]}`
 * (offset = the next record no restored file holds). The restore writes it; on open, the writer of
 * that group moves the group there (partitions not listed: the log's earliest), so records the
 * old machine landed but never mirrored are landed again, then deletes it.
 */
export const BRONZE_START_AT_FILE = 'bronze.start-at.json';

export interface BronzeStartAt {
  group: string;
  offsets: CommitOffset[];
}

/** Writes the start-at file durably (the lake's restore from its object store). */
export async function writeBronzeStartAt(lakeDir: string, startAt: BronzeStartAt): Promise<void> {
  await fs.mkdir(path.join(lakeDir, '_state'), { recursive: true });
  await writeFileAtomic(path.join(lakeDir, '_state', BRONZE_START_AT_FILE), JSON.stringify(startAt), true);
}
/**
 * File-system jobs (fsync, mkdir, rename) a flush has in libuv's thread pool at once: enough to
 * overlap them, few enough that the journal's own fsyncs do not queue long behind them.
 */
const POOL_PARALLEL = 16;
/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;
/**
 * COPYs a flush runs at once per table, each over the log partitions p with p % LANES = its lane,
 * on a DuckDB connection of its own. One DuckDB thread runs each (see open), and DuckDB's work per
 * row is about twice this JavaScript thread's, so one lane left a core idle: two keep both busy.
 * Files do not depend on the lanes (each log partition is in exactly one).
 */
const LANES = 2;
/** One table's buffered rows, by lane. */
interface Buffered {
  readonly table: BronzeTable;
  batches: ColumnBatch[];
}

/** One lane's rows of one table, detached for a flush. */
interface Part {
  readonly table: BronzeTable;
  readonly lane: number;
  readonly batch: ColumnBatch;
}

/** The batch a (table, lane)'s staging function hands to DuckDB, CHUNK_ROWS at a time. */
interface StageFeed {
  batch: ColumnBatch | null;
  off: number;
  /** Called when DuckDB has pulled the whole batch. */
  drained: (() => void) | null;
}

/** A lane's COPY done: its staging directory and the files in it. */
interface StagedLane {
  staging: string;
  written: WrittenFile[];
}

/** One file `COPY … RETURN_STATS` wrote: its path and what the catalog records of it. */
interface WrittenFile {
  file: string;
  rows: number;
  minTs: number;
  maxTs: number;
}

/** Runs `job` over `items`, POOL_PARALLEL at a time. */
async function inPool<T>(items: readonly T[], job: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += POOL_PARALLEL) await Promise.all(items.slice(i, i + POOL_PARALLEL).map((item) => job(item)));
}

function stageFunctionName(t: BronzeTable, lane: number): string {
  return `bronze_stage_${t.name}_${lane}`;
}

// One chunk's validity mask, written per column and copied into the vector.
const validity = new ArrayBuffer(CHUNK_ROWS / 8);
const validityWords = new Uint32Array(validity);
// One chunk of enum codes, by the enum's storage width (1, 2 or 4 bytes: DuckDB sizes it by the member count).
const codes = { 1: new Uint8Array(CHUNK_ROWS), 2: new Uint16Array(CHUNK_ROWS), 4: new Uint32Array(CHUNK_ROWS) } as const;

/** Bytes per code of a DuckDB ENUM of `members` values (ENUM() in @duckdb/node-api picks the same). */
function enumWidth(members: number): 1 | 2 | 4 {
  return members < 256 ? 1 : members < 65_536 ? 2 : 4;
}

/**
 * A table function DuckDB pulls a batch from, a chunk at a time: number columns (NaN = NULL) are
 * copied into the vector from the batch's Float64Array in one call; coded strings go as ENUM codes
 * (the enum's members are the batch's dictionary, fixed at bind), also in one call per column;
 * other strings are assigned one by one from their UTF-8 bytes. Every row's validity is written (a
 * VARCHAR row left unwritten and not marked NULL would be read as garbage). It runs inside the
 * flush's COPY, so rows go from the batch to Parquet without a staging table.
 * https://duckdb.org/docs/api/c/table_functions
 *
 * ENUM rather than a code looked up in a list by the COPY's SQL: DuckDB partitions and writes an
 * enum by its code, and Parquet gets the same UTF-8 string column either way; a COPY of 210,000
 * bronze rows took 198-218 ms against 227-289 ms (one thread, alone).
 */
function stageFunction(t: BronzeTable, lane: number, feed: StageFeed): DuckDBTableFunction {
  const text = t.columns.map(isText);
  /** Per column: the code width of its enum in the COPY being bound, 0 for other columns. */
  const widths = t.columns.map(() => 0);
  return DuckDBTableFunction.create({
    name: stageFunctionName(t, lane),
    bindFunction: (bind) => {
      for (let c = 0; c < t.columns.length; c++) {
        const name = (t.columns[c] as { name: string }).name;
        const members = feed.batch?.codedValues(c) ?? null;
        if (members !== null) {
          // A batch with rows has a member for every code it holds; an empty list still needs one.
          const values = members.length === 0 ? [''] : members;
          widths[c] = enumWidth(values.length);
          bind.addResultColumn(name, ENUM(values));
        } else {
          widths[c] = 0;
          bind.addResultColumn(name, text[c] ? VARCHAR : DOUBLE);
        }
      }
    },
    // One cursor over the feed: one thread. This is also what keeps rows in source order: one
    // scanning thread feeding a plain projection into the partitioned COPY (see #stageLane).
    initFunction: (init) => init.setMaxThreads(1),
    mainFunction: (_info, out) => {
      const batch = feed.batch;
      const off = feed.off;
      const n = batch === null ? 0 : Math.min(CHUNK_ROWS, batch.n - off);
      if (batch === null || n <= 0) {
        out.rowCount = 0;
        // Once per COPY: a lane counts as pulled only once.
        const drained = feed.drained;
        feed.drained = null;
        drained?.();
        return;
      }
      bindings.data_chunk_set_size(out.chunk, n);
      for (let c = 0; c < text.length; c++) {
        const vec = bindings.data_chunk_get_vector(out.chunk, c);
        validityWords.fill(0xffffffff);
        if (text[c]) {
          const col = batch.texts[c] as TextColumn;
          const { bytes, starts, ends } = col;
          for (let i = 0; i < n; i++) {
            const s = starts[off + i] as number;
            if (s < 0) validityWords[i >>> 5] = (validityWords[i >>> 5] as number) & ~(1 << (i & 31));
            else bindings.vector_assign_string_element_len(vec, i, bytes.subarray(s, ends[off + i]));
          }
        } else {
          const col = batch.nums[c] as Float64Array<ArrayBuffer>;
          for (let i = 0; i < n; i++) {
            const v = col[off + i] as number;
            if (v !== v) validityWords[i >>> 5] = (validityWords[i >>> 5] as number) & ~(1 << (i & 31));
          }
          const width = widths[c] as 0 | 1 | 2 | 4;
          if (width === 0) bindings.copy_data_to_vector(vec, 0, col.buffer, off * 8, n * 8);
          else {
            // Converted in one native call; a NULL's NaN becomes code 0, which its validity bit hides.
            const out = codes[width];
            out.set(col.subarray(off, off + n));
            bindings.copy_data_to_vector(vec, 0, out.buffer, 0, n * width);
          }
        }
        bindings.vector_ensure_validity_writable(vec);
        bindings.copy_data_to_vector_validity(vec, 0, validity, 0, Math.ceil(n / 64) * 8);
      }
      feed.off = off + n;
    },
  });
}

/**
 * The files of a `COPY … RETURN_STATS` result, with row counts and the event-time range from the
 * Parquet column statistics. DuckDB returns maps as lists of {key, value}; column names come quoted.
 */
function writtenFiles(rows: Record<string, unknown>[], dateColumn: string): WrittenFile[] {
  type Entry = { key: string; value: unknown };
  return rows.map((r) => {
    const stats = (r['column_statistics'] as Entry[]).find((e) => e.key.replace(/"/g, '') === dateColumn);
    const field = (k: string): number => Number((stats?.value as Entry[] | undefined)?.find((e) => e.key === k)?.value ?? 0);
    return { file: String(r['filename']), rows: Number(r['count']), minTs: field('min'), maxTs: field('max') };
  });
}

function lakeError(what: string, err: unknown, context: Record<string, unknown> = {}): StockStreamError {
  const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new StockStreamError('SS_LAKE_IO', `Expected to ${what}, but it failed: ${reason}. Check the disk (space, permissions) under the lake directory; nothing was committed, the next flush retries.`, {
    cause: err,
    context,
  });
}

/**
 * Lands every record of the log's `ticks` and `ticks.dlq` topics in Parquet (ARCHITECTURE.md §1,
 * "lake: bronze"), in micro-batches: every `flushIntervalMs` or `flushRows` rows.
 *
 * A flush, in order: (1) durably write an intent naming the log ranges it covers; (2) stage each
 * (table, lane) with DuckDB `COPY … PARTITION_BY (log_partition, date, symbol)` into
 * `_staging/<table>/<lane>/`, the lanes at once (the partition columns are written into the files
 * too, so each file stands alone; `date` is the UTC date of event time); (3) fsync every file and
 * move it to `bronze/<table>/date=D/symbol=S/<topic>-p<P>-<from>-<to>.parquet`, then fsync the
 * directories; (4) hand the files to `onCommit` (the catalog) and commit the offsets; (5) delete
 * the intent. File names come from
 * the offsets, so redoing a flush writes the same files over themselves: after a crash anywhere in
 * (2)–(5), opening the writer redoes the intent's ranges exactly (read back from the log) before
 * consuming anything new. Nothing is duplicated and nothing committed is missing.
 */
export class BronzeWriter {
  readonly #o: Resolved;
  readonly #db: DuckDBInstance;
  /** One connection per lane, so the lanes' COPYs run at once. */
  readonly #conns: readonly DuckDBConnection[];
  readonly #consumer: LogConsumer;
  /** What each table's staging function of each lane reads from during a flush's COPY, by "table/lane". */
  readonly #feeds: Map<string, StageFeed>;
  readonly #byTopic: Map<string, Buffered>;
  /** Flushed batches, cleared, for the next detach to reuse (their arrays are already grown). */
  readonly #spare = new Map<string, ColumnBatch[]>();
  /** Buffered range per "topic/partition": first offset and next offset. */
  #ranges = new Map<string, { topic: string; partition: number; from: number; to: number }>();
  /** Next offset this writer reads per "topic/partition" (known once a record of it was read). */
  readonly #position = new Map<string, number>();
  #buffered = 0;
  #firstBufferedAt = 0;
  #running: Promise<void> | null = null;
  #stopping = false;
  #closed = false;
  /** The last flush failed: before anything else, its ranges are redone exactly (see #recoverIfFailed). */
  #failedIntent: Intent | null = null;
  /** The loop's flush in progress: the loop keeps reading while DuckDB writes. */
  #inflight: Promise<void> | null = null;
  /** Flushes run one at a time. */
  #flushing: Promise<void> = Promise.resolve();
  /** Resolves the loop's wait for DuckDB to pull the batch of the flush it started (see #loop). */
  #onStaged: (() => void) | null = null;
  /** Callers of requestFlush() waiting for the loop's next flush. */
  #flushWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #stats: BronzeStats = { flushes: 0, rowsWritten: 0, filesWritten: 0, buffered: 0, lastFlushAt: null, lastError: null };
  /**
   * The UTC dates whose (empty) partition directories the staging tree keeps between flushes.
   * DuckDB makes `log_partition=P/date=D/symbol=S` for every file it stages; removing them after
   * each flush and making them again in the next one cost ext4 inode allocation in the kernel
   * (its scan past recently deleted inodes): ~4 % of the writer's CPU under `perf`. The tree is
   * removed after a flush once a date in it is not written any more (once a day), and after the
   * first flush that succeeds following a failed one (#stagingDirty).
   */
  readonly #stagingDates = new Set<string>();
  /**
   * A flush failed, or removing the tree did: files may be left in it. They are never moved (a
   * flush moves only the files its own COPY reports, and a retry's COPY overwrites same-named
   * ones), but they are removed with the tree after the next flush that succeeds.
   */
  #stagingDirty = false;

  private constructor(o: Resolved, db: DuckDBInstance, conns: readonly DuckDBConnection[], consumer: LogConsumer, feeds: Map<string, StageFeed>) {
    this.#o = o;
    this.#feeds = feeds;
    this.#db = db;
    this.#conns = conns;
    this.#consumer = consumer;
    this.#byTopic = new Map(o.tables.map((t) => [t.topic, { table: t, batches: Array.from({ length: LANES }, () => new ColumnBatch(t.columns)) }]));
  }

  /** Opens the writer: recovers an interrupted flush, then is ready to `start()`. */
  static async open(options: BronzeWriterOptions): Promise<BronzeWriter> {
    const o: Resolved = {
      log: options.log,
      lakeDir: path.resolve(options.lakeDir),
      flushIntervalMs: options.flushIntervalMs ?? 10_000,
      flushRows: options.flushRows ?? 100_000,
      group: options.group ?? 'lake.bronze',
      tables: options.tables ?? BRONZE_TABLES,
      logger: options.logger ?? null,
      onCommit: options.onCommit ?? null,
      accept: options.accept ?? null,
      now: options.now ?? Date.now,
    };
    if (!(o.flushIntervalMs > 0)) throw new RangeError(`lake.bronze.flushIntervalMs: expected a number > 0, got ${o.flushIntervalMs}`);
    if (!(Number.isInteger(o.flushRows) && o.flushRows > 0)) throw new RangeError(`lake.bronze.flushRows: expected an integer > 0, got ${o.flushRows}`);
    await fs.mkdir(path.join(o.lakeDir, '_state'), { recursive: true });
    // Staged files of an interrupted flush are redone from the intent; anything else there is stale.
    await fs.rm(path.join(o.lakeDir, '_staging'), { recursive: true, force: true });
    // One thread: each query runs on the thread that issued it, so the lanes' COPYs (one connection
    // each) run side by side. With more, a query's own thread busy-waits for tasks while another
    // runs its pull, which is single-threaded and waits on this JavaScript thread (perf: ~20 % of
    // DuckDB's CPU in the scheduler's queue and mutexes). Insertion order is DuckDB's default,
    // spelled out because the files rely on it (see #stageLane).
    const db = await DuckDBInstance.create(':memory:', { threads: '1', preserve_insertion_order: 'true' });
    const conns: DuckDBConnection[] = [];
    const feeds = new Map<string, StageFeed>();
    for (let lane = 0; lane < LANES; lane++) {
      const conn = await db.connect();
      conns.push(conn);
      for (const t of o.tables) {
        const feed: StageFeed = { batch: null, off: 0, drained: null };
        feeds.set(`${t.name}/${lane}`, feed);
        conn.registerTableFunction(stageFunction(t, lane, feed));
      }
    }
    const consumer = await o.log.consumer({ group: o.group, topics: o.tables.map((t) => t.topic), reset: 'earliest' });
    const w = new BronzeWriter(o, db, conns, consumer, feeds);
    await w.#recover();
    await w.#startAt();
    return w;
  }

  stats(): BronzeStats {
    return { ...this.#stats, buffered: this.#buffered };
  }

  /** Consumes in the background until `stop()`; flush failures are logged and retried. */
  start(): void {
    if (this.#running !== null) return;
    this.#running = this.#loop();
  }

  /**
   * Stops the background loop, lands everything the log holds for it by now (buffered or not yet
   * read), commits, and closes the consumer and DuckDB. Calling it again does nothing.
   */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#stopping = true;
    await this.#running;
    this.#running = null;
    try {
      await this.#drainTo(await this.#endOffsets());
      await this.flush();
    } finally {
      this.#closed = true;
      await this.#consumer.close();
      for (const c of this.#conns) c.closeSync();
      this.#db.closeSync();
    }
  }

  /**
   * Asks the background loop to land everything the log holds now, and resolves when that flush
   * is committed (the lake's incremental job calls it first, so a run sees ticks up to its start).
   * Without a running loop it drains and flushes directly.
   */
  async requestFlush(): Promise<void> {
    // Stopping lands everything anyway; a second flush beside stop()'s would stage the same rows twice.
    if (this.#closed || this.#stopping) return;
    if (this.#running === null) {
      await this.#drainTo(await this.#endOffsets());
      await this.flush();
      return;
    }
    await new Promise<void>((resolve, reject) => this.#flushWaiters.push({ resolve, reject }));
  }

  /** Consumes everything available now without flushing (tests, backfill). */
  async drain(maxRecords = Number.POSITIVE_INFINITY): Promise<number> {
    await this.#recoverIfFailed();
    let n = 0;
    while (n < maxRecords) {
      const records = await this.#consumer.poll({ maxRecords: Math.min(10_000, maxRecords - n), timeoutMs: 0 });
      if (records.length === 0) return n;
      this.#add(records);
      n += records.length;
    }
    return n;
  }

  async #seek(topic: string, partition: number, offset: number): Promise<void> {
    await this.#consumer.seek({ topic, partition }, { offset });
    this.#position.set(`${topic}/${partition}`, offset);
  }

  /** Where each partition of the writer's topics ends now (the next offset to be written). */
  async #endOffsets(): Promise<Map<string, number>> {
    const ends = new Map<string, number>();
    for (const info of await this.#o.log.topics()) {
      if (!this.#o.tables.some((t) => t.topic === info.name)) continue;
      for (const p of info.partitions) ends.set(`${info.name}/${p.partition}`, p.endOffset);
    }
    return ends;
  }

  /**
   * Consumes up to `ends` (what the log held when a flush was requested). Draining "until a poll
   * comes back empty" never ends while sources keep writing: a consumer that prefetches (Kafka)
   * always has more.
   */
  async #drainTo(ends: ReadonlyMap<string, number>): Promise<void> {
    await this.#recoverIfFailed();
    // A partition not read from yet stands at the group's committed offset.
    for (const key of ends.keys()) {
      if (this.#position.has(key)) continue;
      const at = key.lastIndexOf('/');
      const committed = await this.#consumer.committed({ topic: key.slice(0, at), partition: Number(key.slice(at + 1)) });
      if (committed !== null) this.#position.set(key, committed);
    }
    const behind = (): boolean => {
      for (const [key, end] of ends) if ((this.#position.get(key) ?? 0) < end) return true;
      return false;
    };
    while (behind()) {
      const records = await this.#consumer.poll({ maxRecords: 10_000, timeoutMs: 200 });
      if (records.length === 0) return;
      this.#add(records);
    }
  }

  /** Writes the buffered rows to the lake and commits their offsets. Returns the files written. */
  async flush(): Promise<number> {
    const previous = this.#flushing;
    let done: () => void = () => undefined;
    this.#flushing = new Promise((r) => (done = r));
    await previous;
    try {
      await this.#recoverIfFailed();
      if (this.#buffered === 0) return 0;
      // The batch leaves the buffer now, so reading can go on while it is written.
      const batch = this.#detach();
      const intent: Intent = { ranges: batch.ranges };
      try {
        return await this.#write(intent, batch.parts);
      } catch (err) {
        // Some files may already be in place under this attempt's names: the retry must write
        // exactly these ranges again (same names, nothing extra). See #recoverIfFailed.
        this.#failedIntent = intent;
        throw err;
      } finally {
        // A failed batch is not kept: the retry reads its ranges back from the log.
        this.#release(batch.parts);
      }
    } finally {
      done();
    }
  }

  /**
   * After a failed flush: forget what was read since, rewind the consumer to it, and redo the
   * failed batch from its intent like a crash recovery (or, if the intent was never written,
   * rewind to the batch's start so it is read again).
   */
  async #recoverIfFailed(): Promise<void> {
    const failed = this.#failedIntent;
    if (failed === null) return;
    const since = [...this.#ranges.values()];
    this.#reset();
    for (const r of since) await this.#seek(r.topic, r.partition, r.from);
    const redone = await this.#recover();
    if (!redone) for (const r of failed.ranges) await this.#seek(r.topic, r.partition, r.from);
    this.#failedIntent = null;
  }


  async #loop(): Promise<void> {
    let backoff = 0;
    let failures = 0;
    const failed = (err: unknown): void => {
      this.#stats.lastError = err instanceof Error ? err.message : String(err);
      this.#o.logger?.error({ err }, 'bronze flush failed; retrying');
      backoff = this.#o.now() + Math.min(30_000, 1000 * 2 ** Math.min(5, failures++));
    };
    while (!this.#stopping) {
      const waiters = this.#flushWaiters;
      try {
        if (this.#failedIntent !== null && this.#inflight === null) {
          // Redo the failed batch before reading anything new (after the backoff).
          if (backoff !== 0 && this.#o.now() < backoff) {
            await new Promise((r) => setTimeout(r, 200));
            continue;
          }
          await this.#recoverIfFailed();
          backoff = 0;
          failures = 0;
        }
        if (waiters.length > 0) {
          this.#flushWaiters = [];
          await this.#inflight;
          await this.#drainTo(await this.#endOffsets());
          await this.flush();
          backoff = 0;
          failures = 0;
          for (const w of waiters) w.resolve();
          continue;
        }
        // Added even when a flush just failed: the recovery rewinds every range in the buffer.
        const records = await this.#consumer.poll({ maxRecords: 10_000, timeoutMs: 200 });
        this.#add(records);
        const due = this.#buffered >= this.#o.flushRows || (this.#buffered > 0 && this.#o.now() - this.#firstBufferedAt >= this.#o.flushIntervalMs);
        if (due && this.#inflight === null && (backoff === 0 || this.#o.now() >= backoff)) {
          // Not awaited: the next batch is read while DuckDB writes this one (one in flight at most).
          // Reading waits until DuckDB has pulled the batch, though: each of its pulls needs this
          // thread, and a pull queued behind a read stalls the whole COPY. (Reading in small slices
          // between pulls measured the same: 270.9k rows/s either way over 6 interleaved pairs.)
          const staged = new Promise<void>((r) => (this.#onStaged = r));
          this.#inflight = this.flush().then(
            () => {
              backoff = 0;
              failures = 0;
            },
            failed,
          );
          void this.#inflight.finally(() => {
            this.#inflight = null;
            this.#stagedNow();
          });
          await staged;
        } else if (this.#inflight !== null && this.#buffered >= 2 * this.#o.flushRows) {
          // Reading runs ahead of writing: wait, so memory stays bounded.
          await this.#inflight;
        }
      } catch (err) {
        for (const w of waiters) w.reject(err);
        failed(err);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await this.#inflight;
    for (const w of this.#flushWaiters.splice(0)) w.resolve();
  }


  /**
   * Buffers the rows of `records` and extends the log range of each partition they come from.
   * A poll returns runs of one partition in offset order, so the range and its map key are looked
   * up when the partition changes, not per record (a key string per record was ~10 % of the
   * writer's own time). Positions are stored at the end of each run: should addRow throw midway,
   * the position lags the range, which is harmless since a retried flush re-reads its ranges.
   */
  #add(records: readonly LogRecord[]): void {
    const accept = this.#o.accept;
    let topic = '';
    let partition = -1;
    let dest: Buffered | undefined;
    let batch: ColumnBatch | undefined;
    let range: Intent['ranges'][number] | undefined;
    let key = '';
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as LogRecord;
      if (r.partition !== partition || r.topic !== topic) {
        if (range !== undefined) this.#position.set(key, range.to);
        topic = r.topic;
        partition = r.partition;
        dest = this.#byTopic.get(topic);
        batch = dest?.batches[partition % LANES];
        key = `${topic}/${partition}`;
        range = dest === undefined ? undefined : this.#ranges.get(key);
        if (dest !== undefined && range === undefined) {
          range = { topic, partition, from: r.offset, to: r.offset };
          this.#ranges.set(key, range);
        }
      }
      if (dest === undefined || range === undefined) continue;
      if (!accept || accept(r)) dest.table.addRow(r, batch as ColumnBatch);
      range.to = r.offset + 1;
      if (this.#buffered++ === 0) this.#firstBufferedAt = this.#o.now();
    }
    if (range !== undefined) this.#position.set(key, range.to);
  }

  #reset(): void {
    for (const d of this.#byTopic.values()) for (const b of d.batches) b.clear();
    this.#ranges = new Map();
    this.#buffered = 0;
  }

  /** Takes the buffered batches out (spare or fresh batches take their place) with the log ranges they cover. */
  #detach(): { parts: Part[]; ranges: Intent['ranges'] } {
    const parts: Part[] = [];
    for (const d of this.#byTopic.values()) {
      d.batches = d.batches.map((batch, lane) => {
        parts.push({ table: d.table, lane, batch });
        return this.#spare.get(d.table.name)?.pop() ?? new ColumnBatch(d.table.columns, batch.capacity);
      });
    }
    const ranges = [...this.#ranges.values()];
    this.#ranges = new Map();
    this.#buffered = 0;
    return { parts, ranges };
  }

  /** Redoes the intent left by an interrupted flush, if there is one; true when it did. */
  async #recover(): Promise<boolean> {
    let intent: Intent;
    try {
      intent = JSON.parse(await fs.readFile(this.#intentPath(), 'utf8')) as Intent;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw lakeError(`read the bronze intent ${this.#intentPath()}`, err);
    }
    // Re-read exactly the ranges the interrupted flush covered, so it writes the same files.
    this.#reset();
    for (const r of intent.ranges) {
      for (let at = r.from; at < r.to; ) {
        const records = await this.#o.log.read({ topic: r.topic, partition: r.partition }, at, Math.min(10_000, r.to - at));
        if (records.length === 0) break;
        this.#add(records.filter((x) => x.offset < r.to));
        at = (records[records.length - 1] as LogRecord).offset + 1;
      }
    }
    this.#o.logger?.warn({ ranges: intent.ranges }, 'bronze: redoing an interrupted flush');
    const parts = this.#detach().parts;
    try {
      await this.#write(intent, parts);
    } finally {
      this.#release(parts);
    }
    for (const r of intent.ranges) await this.#seek(r.topic, r.partition, r.to);
    return true;
  }

  /** Applies a restore's start-at file (see BRONZE_START_AT_FILE): commit the group's offsets there, seek, delete the file. */
  async #startAt(): Promise<void> {
    const file = path.join(this.#o.lakeDir, '_state', BRONZE_START_AT_FILE);
    let at: BronzeStartAt;
    try {
      at = JSON.parse(await fs.readFile(file, 'utf8')) as BronzeStartAt;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw lakeError(`read ${file}`, err);
    }
    if (at.group !== this.#o.group) return;
    const offsets: CommitOffset[] = [];
    for (const info of await this.#o.log.topics()) {
      if (!this.#o.tables.some((t) => t.topic === info.name)) continue;
      for (const p of info.partitions) {
        const want = at.offsets.find((o) => o.topic === info.name && o.partition === p.partition)?.offset ?? p.startOffset;
        if (want > p.endOffset) {
          // The restored files came from another log: landing this one would reuse their names.
          throw new StockStreamError(
            'SS_LAKE_IO',
            `Expected ${info.name} partition ${p.partition} to hold records up to offset ${want}, where the lake restored from its object store ends, but the log ends at ${p.endOffset}: the lake was built from another log. Delete ${file} to land this log's records anyway (files named by the same offsets would replace restored ones).`,
            { context: { file, topic: info.name, partition: p.partition } },
          );
        }
        offsets.push({ topic: info.name, partition: p.partition, offset: Math.max(want, p.startOffset) });
      }
    }
    await this.#consumer.commit(offsets);
    for (const o of offsets) await this.#seek(o.topic, o.partition, o.offset);
    this.#o.logger?.warn({ offsets }, 'bronze: the lake was restored from its object store; landing the log again from where its files end');
    await fs.rm(file, { force: true });
  }

  /** One intent per consumer group: a backfill's writer never redoes the live writer's flush. */
  #intentPath(): string {
    return path.join(this.#o.lakeDir, '_state', this.#o.group === 'lake.bronze' ? INTENT_FILE : `bronze.${this.#o.group}.intent.json`);
  }

  async #write(intent: Intent, parts: readonly Part[]): Promise<number> {
    const intentPath = this.#intentPath();
    try {
      await writeFileAtomic(intentPath, JSON.stringify(intent), true);
    } catch (err) {
      throw lakeError(`write the bronze intent ${intentPath}`, err);
    }
    try {
      return await this.#land(intent, parts, intentPath);
    } catch (err) {
      this.#stagingDirty = true;
      throw err;
    }
  }

  /** #write's steps (2)–(5) once the intent is durable. */
  async #land(intent: Intent, parts: readonly Part[], intentPath: string): Promise<number> {
    let rows = 0;
    const dirs = new Set<string>();
    const committed: LakeFile[] = [];
    for (const table of this.#o.tables) {
      const lanes = parts.filter((p) => p.table === table && p.batch.n > 0);
      if (lanes.length === 0) continue;
      for (const p of lanes) rows += p.batch.n;
      // The loop may read on once DuckDB has pulled every lane's rows (see #loop).
      let pulling = lanes.length;
      const drained = (): void => {
        if (--pulling === 0) this.#stagedNow();
      };
      // Settled, not Promise.all: a failed lane must not leave the other's COPY running on its feed.
      const staged = await Promise.allSettled(lanes.map((p) => this.#stageLane(p, drained)));
      const done: StagedLane[] = [];
      for (const r of staged) {
        if (r.status === 'rejected') throw r.reason;
        done.push(r.value);
      }
      await this.#place(table, intent, done, dirs, committed);
    }
    try {
      await inPool([...dirs], (d) => syncPath(d));
    } catch (err) {
      throw lakeError('fsync the bronze directories', err);
    }
    const onCommit = this.#o.onCommit;
    if (onCommit) await onCommit(committed);
    const offsets: CommitOffset[] = intent.ranges.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.to }));
    await this.#consumer.commit(offsets);
    await fs.rm(intentPath, { force: true });
    const dates = new Set(committed.map((f) => f.date));
    if (this.#stagingDirty || [...this.#stagingDates].some((d) => !dates.has(d))) {
      this.#stagingDates.clear();
      // Committed already: failing to tidy up must not fail (and so redo) the flush.
      this.#stagingDirty = await fs.rm(path.join(this.#o.lakeDir, '_staging'), { recursive: true, force: true }).then(
        () => false,
        () => true,
      );
    } else for (const d of dates) this.#stagingDates.add(d);
    this.#stats.flushes++;
    this.#stats.rowsWritten += rows;
    this.#stats.filesWritten += committed.length;
    this.#stats.lastFlushAt = this.#o.now();
    this.#stats.lastError = null;
    return committed.length;
  }

  /**
   * One lane's COPY: its rows, straight from the batch through the lane's staging function, to
   * `_staging/<table>/<lane>/`, one file per (log partition, date, symbol).
   */
  async #stageLane(part: Part, drained: () => void): Promise<StagedLane> {
    const { table, lane, batch } = part;
    const staging = path.join(this.#o.lakeDir, '_staging', table.name, String(lane));
    const select = table.columns.map((c, i) => `${batch.sqlValue(i)} AS "${c.name}"`).join(', ');
    const feed = this.#feeds.get(`${table.name}/${lane}`) as StageFeed;
    try {
      // Earlier flushes leave empty directories here (#stagingDates), a failed one maybe files
      // (#stagingDirty); neither is ever moved with this COPY's files.
      await fs.mkdir(staging, { recursive: true });
      feed.batch = batch;
      feed.off = 0;
      feed.drained = drained;
      // No ORDER BY: the batch holds each log partition's records in offset order (a poll returns
      // runs of one partition in order), and a single-threaded scan (setMaxThreads(1)) through a
      // plain projection reaches the COPY in that order, so every file is already sorted by
      // offset (tested; the sort was ~1 µs of CPU a row). A join, aggregate, DISTINCT or sort
      // added to this SELECT would need the ORDER BY back.
      // Snappy, not zstd: landing is on the ingest path, and zstd took ~18 % more CPU for the
      // whole writer (5.3 against 4.5 s per million rows, BENCHMARKS.md) for files ~1.7× smaller.
      // The nightly compaction merges a closed day's files of a symbol, when there are several,
      // into one zstd file (maintenance.ts).
      const result = await (this.#conns[lane] as DuckDBConnection).runAndReadAll(
        `COPY (SELECT ${select}, CAST(make_timestamp(CAST("${table.dateColumn}" AS BIGINT) * 1000) AS DATE) AS date FROM ${stageFunctionName(table, lane)}()) ` +
          `TO ${sqlString(staging)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (log_partition, date, symbol), WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part_{i}', RETURN_STATS)`,
      );
      return { staging, written: writtenFiles(result.getRowObjectsJson() as Record<string, unknown>[], table.dateColumn) };
    } catch (err) {
      throw lakeError(`write Parquet for bronze.${table.name} under ${staging}`, err, { table: table.name });
    } finally {
      feed.batch = null;
      feed.drained = null;
    }
  }

  /**
   * Moves the staged `log_partition=P/date=D/symbol=S/part_i.parquet` files to their final names
   * (from the log range of P: `<topic>-p<P>-<first>-<last>.parquet`, with `-i` when DuckDB split a
   * partition into several files), each file made durable before any rename, and adds each to `out`.
   * DuckDB percent-encodes partition values in directory names (BTC/USD → symbol=BTC%2FUSD) and
   * decodes them on read.
   */
  async #place(table: BronzeTable, intent: Intent, lanes: readonly StagedLane[], dirs: Set<string>, out: LakeFile[]): Promise<void> {
    const tableDir = path.join(this.#o.lakeDir, 'bronze', table.name);
    // Lanes hold disjoint log partitions, so their staged directories never collide.
    const byDir = new Map<string, WrittenFile[]>();
    for (const { staging, written } of lanes) {
      for (const w of written) {
        const dir = path.relative(staging, path.dirname(w.file));
        const list = byDir.get(dir);
        if (list === undefined) byDir.set(dir, [w]);
        else list.push(w);
      }
    }
    const moves: { file: string; dest: string; entry: LakeFile }[] = [];
    /** Several log partitions' files may share a date/symbol directory. */
    const destDirs = new Set<string>();
    try {
      for (const [dir, files] of byDir) {
        const [p, date, sym] = dir.split(path.sep) as [string, string, string];
        const partition = Number(p.slice('log_partition='.length));
        const range = intent.ranges.find((r) => r.topic === table.topic && r.partition === partition);
        if (range === undefined) throw new Error(`staged rows of log partition ${partition}, which this flush did not read`);
        const name = `${range.topic}-p${partition}-${range.from}-${range.to - 1}`;
        const destDir = path.join(tableDir, date, sym);
        destDirs.add(destDir);
        // The new names, and any directories just created, are durable once their parents are synced.
        dirs.add(path.dirname(destDir));
        dirs.add(tableDir);
        dirs.add(destDir);
        // part_2 before part_10: DuckDB numbers a directory's files in the order it wrote them.
        files.sort((a, b) => a.file.localeCompare(b.file, 'en', { numeric: true }));
        files.forEach((w, i) => {
          const finalName = files.length === 1 ? `${name}.parquet` : `${name}-${i}.parquet`;
          moves.push({
            file: w.file,
            dest: path.join(destDir, finalName),
            entry: {
              layer: 'bronze',
              table: table.name,
              topic: range.topic,
              partition,
              firstOffset: range.from,
              lastOffset: range.to - 1,
              path: ['bronze', table.name, date, sym, finalName].join('/'),
              date: date.slice('date='.length),
              symbol: decodeURIComponent(sym.slice('symbol='.length)),
              rows: w.rows,
              minTs: w.minTs,
              maxTs: w.maxTs,
            },
          });
        });
      }
      // Directories, fsyncs and renames go to the thread pool POOL_PARALLEL at a time, not one
      // await after another: each completion waits for this thread, which is reading the next
      // batch in ~10 ms slices, so ~35 sequential mkdirs took 50-80 ms of a ~250 ms flush
      // (measured). Every file is durable before any rename; the directories are synced after.
      await inPool([...destDirs], (d) => fs.mkdir(d, { recursive: true }));
      await inPool(moves, (m) => syncPath(m.file));
      await inPool(moves, (m) => fs.rename(m.file, m.dest));
      for (const m of moves) out.push(m.entry);
    } catch (err) {
      throw lakeError(`move staged Parquet files into ${tableDir}`, err);
    }
  }

  #stagedNow(): void {
    const resolve = this.#onStaged;
    this.#onStaged = null;
    resolve?.();
  }

  /** Hands flushed batches back for reuse. */
  #release(parts: readonly Part[]): void {
    for (const { table, batch } of parts) {
      batch.clear();
      const spare = this.#spare.get(table.name);
      if (spare === undefined) this.#spare.set(table.name, [batch]);
      else if (spare.length < LANES) spare.push(batch);
    }
  }
}
