import type { DuckDBConnection } from '@duckdb/node-api';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { StockStreamError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { sqlString } from '../../shared/sql.js';
import { BRONZE_TABLES } from '../bronze/bronze-tables.js';
import { queryRows, type LakeDatabase, type LakeFilesChange } from '../catalog/lake-database.js';
import { BucketCatalog, type BucketEntry, type BucketFileRow } from './bucket-catalog.js';
import { restoreLake, type RestoreResult } from './lake-restore.js';
import type { ObjectStore, ObjectStoreStats } from './object-store.js';
import { runPool } from './run-pool.js';

export interface LakeMirrorOptions {
  lake: LakeDatabase;
  /** Where the lake's files are kept. The mirror owns it from now on and closes it. */
  store: ObjectStore;
  /** The bronze writer's consumer group (a restore moves it to where the restored files end). Default 'lake.bronze'. */
  bronzeGroup?: string;
  /**
   * Changed files waiting at most; beyond, the queue is dropped and the mirror compares the whole
   * lake with the bucket instead (memory stays bounded however long the store is down). Default 100,000.
   */
  maxQueuedFiles?: number;
  /** Files per bucket transaction (one catalog commit). Default 500. */
  batchFiles?: number;
  /** Files uploaded or downloaded at once. Default 4. */
  concurrency?: number;
  /** A full catalog checkpoint every this many commits. Default 100. */
  checkpointEvery?: number;
  /** Pause after a failed transaction; doubles per failure in a row up to `retryMaxMs`. Default 1,000. */
  retryBaseMs?: number;
  /** Default 60,000. */
  retryMaxMs?: number;
  logger?: Logger;
  now?: () => number;
}

export interface LakeMirrorStats {
  location: string;
  lakeId: string;
  /** Changed files not yet in the bucket (added or removed). */
  pendingFiles: number;
  /** How long the oldest change not yet in the bucket has waited (ms); 0 when all is in. */
  lagMs: number;
  /** A full comparison of the lake with the bucket is due (at start, after a failure or a queue overflow). */
  comparing: boolean;
  commits: number;
  uploadedFiles: number;
  uploadedBytes: number;
  deletedFiles: number;
  /** Failed transactions (each retried). */
  failures: number;
  /** Times the queue overflowed into a full comparison. */
  overflows: number;
  lastCommitAt: number | null;
  /** The last failure, cleared by the next commit. */
  lastError: string | null;
  /** What the start restored from the bucket; null when the local lake was not empty. */
  restored: RestoreResult | null;
  store: ObjectStoreStats;
}

type Resolved = Required<Omit<LakeMirrorOptions, 'logger'>> & { logger: Logger | null };
type Change = 'add' | 'remove';

/** The local lake's side of the pairing: which bucket lake it is, and whether a restore is under way. */
const MIRROR_DDL = `CREATE TABLE IF NOT EXISTS meta.lake_mirror (lake_id VARCHAR NOT NULL, location VARCHAR NOT NULL, state VARCHAR NOT NULL, since BIGINT NOT NULL)`;

const FILE_COLUMNS = `seq, layer, tbl, path, CAST(date AS VARCHAR) AS date, symbol, topic, log_partition, first_offset, last_offset, rows, min_ts, max_ts`;

function rowOf(r: Record<string, unknown>): BucketFileRow {
  return {
    seq: Number(r.seq),
    layer: String(r.layer) as BucketFileRow['layer'],
    table: String(r.tbl),
    date: String(r.date),
    symbol: String(r.symbol),
    topic: String(r.topic),
    partition: Number(r.log_partition),
    firstOffset: Number(r.first_offset),
    lastOffset: Number(r.last_offset),
    rows: Number(r.rows),
    minTs: Number(r.min_ts),
    maxTs: Number(r.max_ts),
  };
}

function conflict(message: string, location: string): StockStreamError {
  return new StockStreamError('SS_LAKE_STORAGE_CONFLICT', message, { context: { location } });
}

/**
 * Keeps the lake's files in its object store (ARCHITECTURE.md §2.1, lake = local directory | S3):
 * the local lake directory stays the working copy DuckDB reads (its httpfs extension is not
 * available offline); the bucket holds the same layout under the store's prefix and is the
 * durable home a new machine restores from.
 *
 * Writers never wait for it: the lake database tells it of every committed change
 * (`LakeDatabase.onFilesChanged`: bronze flushes, compaction, retention, exports) and it uploads
 * and deletes in the background, in transactions of the bucket's catalog (bucket-catalog.ts), so a
 * reader of the bucket sees a file only once it is whole and the catalog lists it, and sees the
 * file set before a compaction or after it, never a mix. Uploads happen strictly after the local
 * commit: a file the local catalog does not (or no longer) list is not uploaded.
 *
 * On open it pairs the local lake with the bucket's (`meta.lake_mirror`): a new location gets a
 * catalog; an empty local lake is restored from the bucket (lake-restore.ts); a lake that is not
 * the bucket's is refused. Then, and after any failure or queue overflow, it compares the whole
 * lake with the bucket (files missing or changed go up, bronze files the lake dropped are deleted),
 * so nothing depends on the in-memory queue surviving a crash. Failed transactions are rolled back
 * (objects not yet live are deleted) and retried with exponential backoff; multipart uploads a
 * crash left are aborted on open. One lake role per location.
 */
export class LakeMirror {
  readonly #o: Resolved;
  readonly #conn: DuckDBConnection;
  #catalog: BucketCatalog;
  /** Changes not yet in the bucket, in arrival order (a later change of a path replaces the earlier). */
  readonly #pending = new Map<string, Change>();
  #pendingSince = 0;
  /** A full comparison with the bucket is due. */
  #compare = true;
  /** Counts requests for a comparison, so one asked for while a comparison runs is not lost when it ends. */
  #compareAsked = 0;
  /** #catalog was just read (by open): the first comparison need not read it again. */
  #catalogFresh = true;
  #busy = true;
  #closing = false;
  #closed = false;
  #wake: (() => void) | null = null;
  #interrupt: (() => void) | null = null;
  #waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  readonly #unsubscribe: () => void;
  readonly #loop: Promise<void>;
  readonly #stats: Omit<LakeMirrorStats, 'pendingFiles' | 'lagMs' | 'comparing' | 'store' | 'location' | 'lakeId'>;

  private constructor(o: Resolved, conn: DuckDBConnection, catalog: BucketCatalog, restored: RestoreResult | null) {
    this.#o = o;
    this.#conn = conn;
    this.#catalog = catalog;
    this.#stats = { commits: 0, uploadedFiles: 0, uploadedBytes: 0, deletedFiles: 0, failures: 0, overflows: 0, lastCommitAt: null, lastError: null, restored };
    this.#unsubscribe = o.lake.onFilesChanged((c) => this.#onChange(c));
    this.#loop = this.#run();
  }

  /**
   * Pairs the lake with its object store (restoring an empty lake from it) and starts mirroring in
   * the background. Call before the bronze writer opens: a restore tells it where to start.
   */
  static async open(options: LakeMirrorOptions): Promise<LakeMirror> {
    const o: Resolved = {
      lake: options.lake,
      store: options.store,
      bronzeGroup: options.bronzeGroup ?? 'lake.bronze',
      maxQueuedFiles: options.maxQueuedFiles ?? 100_000,
      batchFiles: options.batchFiles ?? 500,
      concurrency: options.concurrency ?? 4,
      checkpointEvery: options.checkpointEvery ?? 100,
      retryBaseMs: options.retryBaseMs ?? 1000,
      retryMaxMs: options.retryMaxMs ?? 60_000,
      logger: options.logger ?? null,
      now: options.now ?? Date.now,
    };
    for (const k of ['maxQueuedFiles', 'batchFiles', 'concurrency', 'checkpointEvery'] as const) {
      if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new RangeError(`LakeMirror ${k}: expected an integer >= 1, got ${o[k]}`);
    }
    const { lake, store } = o;
    let conn: DuckDBConnection | null = null;
    try {
      conn = await lake.connect();
      await conn.run(MIRROR_DDL);
      // One lake role per location: any multipart upload there now was left by a crash.
      const aborted = await store.abortUploads(Number.POSITIVE_INFINITY);
      if (aborted > 0) o.logger?.warn({ location: store.location, aborted }, 'lake mirror: aborted multipart uploads a previous run left');
      const [paired] = await queryRows(conn, 'SELECT lake_id, state FROM meta.lake_mirror LIMIT 1');
      const localId = paired === undefined ? null : String(paired.lake_id);
      let catalog = await BucketCatalog.read(store);
      let restored: RestoreResult | null = null;
      const restore = async (c: BucketCatalog): Promise<void> => {
        await setPairing(conn as DuckDBConnection, c.lakeId, store.location, 'restoring', o.now());
        restored = await restoreLake({ lake, store, catalog: c, bronzeGroup: o.bronzeGroup, concurrency: o.concurrency, logger: o.logger });
        await setPairing(conn as DuckDBConnection, c.lakeId, store.location, 'mirrored', o.now());
      };
      if (catalog === null) {
        if (paired?.state === 'restoring') throw conflict(`Expected ${store.location} to hold the lake this lake directory was being restored from (${localId}), but it holds no lake catalog any more. Restore it there, or delete the lake directory ${lake.lakeDir} to start afresh.`, store.location);
        const id = localId ?? crypto.randomUUID();
        // Paired first: a crash before the catalog is written leaves a pairing the next start completes.
        await setPairing(conn, id, store.location, 'mirrored', o.now());
        catalog = await BucketCatalog.create(store, id, o.now());
        o.logger?.info({ location: store.location, lake: id }, 'lake mirror: new lake catalog in the object store');
      } else if (localId === null && catalog.files.size === 0 && catalog.open.length === 0) {
        // An empty bucket lake (e.g. made by a start that crashed before pairing): nothing there to lose.
        await setPairing(conn, catalog.lakeId, store.location, 'mirrored', o.now());
      } else if (localId === null) {
        if (!(await isEmpty(lake, conn))) {
          throw conflict(
            `Expected ${store.location} to be empty or to hold this lake, but it holds lake ${catalog.lakeId} (${catalog.files.size} files) and the lake directory ${lake.lakeDir} has files of its own that were never mirrored. Set lake.storage.s3.prefix to an empty location to mirror this lake there, or move ${lake.lakeDir} aside to restore the bucket's lake.`,
            store.location,
          );
        }
        await restore(catalog);
      } else if (localId !== catalog.lakeId) {
        throw conflict(`Expected ${store.location} to hold this lake (${localId}), but it holds lake ${catalog.lakeId}. Set lake.storage.s3.prefix to this lake's location (or an empty one).`, store.location);
      } else if (paired?.state === 'restoring') {
        await restore(catalog);
      }
      return new LakeMirror(o, conn, catalog, restored);
    } catch (err) {
      conn?.closeSync();
      store.close();
      throw err;
    }
  }

  stats(): LakeMirrorStats {
    return {
      location: this.#o.store.location,
      lakeId: this.#catalog.lakeId,
      pendingFiles: this.#pending.size,
      lagMs: this.#pendingSince === 0 ? 0 : Math.max(0, this.#o.now() - this.#pendingSince),
      comparing: this.#compare,
      ...this.#stats,
      store: this.#o.store.stats(),
    };
  }

  /**
   * Resolves once every change made before the call is in the bucket; rejects with the error of a
   * transaction that fails meanwhile (the mirror goes on retrying), or after `timeoutMs`.
   */
  sync(timeoutMs = 60_000): Promise<void> {
    if (this.#closed) return Promise.reject(new StockStreamError('SS_LAKE_STORAGE', 'The lake mirror is closed.'));
    if (!this.#busy && this.#pending.size === 0 && !this.#compare) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new StockStreamError('SS_LAKE_STORAGE', `Expected the lake mirror to bring ${this.#o.store.location} up to date within ${timeoutMs} ms, but ${this.#pending.size} changes are still waiting${this.#stats.lastError ? `; last error: ${this.#stats.lastError}` : ''}.`));
      }, timeoutMs);
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiters.push(waiter);
      this.#wake?.();
    });
  }

  /**
   * Stops mirroring: waits up to `drainMs` for the changes made so far to reach the bucket, then
   * stops after the step in progress. What is left is found by the next start's comparison.
   */
  async close(drainMs = 10_000): Promise<void> {
    if (this.#closed) return;
    this.#unsubscribe();
    if (drainMs > 0) await this.sync(drainMs).catch(() => undefined);
    this.#closed = true;
    this.#closing = true;
    this.#wake?.();
    this.#interrupt?.();
    await this.#loop;
    for (const w of this.#waiters.splice(0)) w.reject(new StockStreamError('SS_LAKE_STORAGE', 'The lake mirror closed before the bucket was up to date.'));
    this.#conn.closeSync();
    this.#o.store.close();
  }

  #onChange(c: LakeFilesChange): void {
    // Deleted first so that the map's order stays the order of the changes.
    for (const p of c.added) {
      this.#pending.delete(p);
      this.#pending.set(p, 'add');
    }
    for (const p of c.removed) {
      this.#pending.delete(p);
      this.#pending.set(p, 'remove');
    }
    if (this.#pending.size > this.#o.maxQueuedFiles) {
      this.#pending.clear();
      this.#compare = true;
      this.#compareAsked++;
      this.#stats.overflows++;
    }
    if (this.#pendingSince === 0) this.#pendingSince = this.#o.now();
    this.#busy = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closing) {
      try {
        if (this.#compare) await this.#compareAll();
        else if (this.#pending.size > 0) await this.#transaction();
        else {
          this.#busy = false;
          this.#pendingSince = 0;
          for (const w of this.#waiters.splice(0)) w.resolve();
          await new Promise<void>((r) => (this.#wake = r));
          this.#wake = null;
          continue;
        }
        failures = 0;
        this.#stats.lastError = null;
      } catch (err) {
        failures++;
        this.#stats.failures++;
        this.#stats.lastError = err instanceof Error ? err.message : String(err);
        this.#o.logger?.error({ err, location: this.#o.store.location }, 'lake mirror: a transaction failed; retrying');
        for (const w of this.#waiters.splice(0)) w.reject(err);
        const pause = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(16, failures - 1));
        await new Promise<void>((r) => {
          const timer = setTimeout(r, pause);
          this.#interrupt = () => {
            clearTimeout(timer);
            r();
          };
        });
        this.#interrupt = null;
      }
    }
  }

  /**
   * Reads the bucket's catalog again, finishes or rolls back transactions left open, and queues
   * every difference between the lake and the bucket.
   */
  async #compareAll(): Promise<void> {
    const { store, lake } = this.#o;
    const asked = this.#compareAsked;
    this.#pending.clear();
    const catalog = this.#catalogFresh ? this.#catalog : await BucketCatalog.read(store);
    this.#catalogFresh = false;
    if (catalog === null || catalog.lakeId !== this.#catalog.lakeId) {
      throw conflict(`Expected ${store.location} to hold this lake's catalog (${this.#catalog.lakeId}), but it ${catalog === null ? 'holds none any more' : `holds lake ${catalog.lakeId}`}: is another program writing there?`, store.location);
    }
    this.#catalog = catalog;
    for (const t of catalog.open) {
      // Committed: only its deletes may be missing. Not committed: its uploads are not live; remove them.
      await store.delete(catalog.committed(t.seq) ? t.remove : t.add.filter((p) => !catalog.files.has(p)));
      await catalog.end(t.seq);
    }
    const bronze = new Set((await queryRows(this.#conn, 'SELECT path FROM meta.lake_files')).map((r) => String(r.path)));
    const local = [...bronze, ...(await this.#exports())];
    const changed: string[] = [];
    await runPool(local, 16, async (p) => {
      const st = await fs.stat(lake.resolve(p)).catch(() => null);
      const cur = catalog.files.get(p);
      if (st !== null && (cur === undefined || cur.size !== st.size || cur.mtimeMs !== Math.round(st.mtimeMs))) changed.push(p);
    });
    // Changes told while this ran are newer than what it read: they stand.
    for (const p of changed.sort()) if (!this.#pending.has(p)) this.#pending.set(p, 'add');
    // Exports are only ever replaced, and a restored lake has none yet: only bronze files are deleted here.
    for (const [p, e] of catalog.files) if (e.file !== null && !bronze.has(p) && !this.#pending.has(p)) this.#pending.set(p, 'remove');
    if (this.#pending.size > 0 && this.#pendingSince === 0) this.#pendingSince = this.#o.now();
    // An overflow while this ran dropped changes this comparison may not have seen: compare again.
    this.#compare = this.#compareAsked !== asked;
  }

  /** Paths of the silver and gold Parquet exports the lake recorded. */
  async #exports(): Promise<string[]> {
    const [has] = await queryRows(this.#conn, "SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'meta' AND table_name = 'exports'");
    if (Number(has?.n ?? 0) === 0) return [];
    return (await queryRows(this.#conn, 'SELECT DISTINCT path FROM meta.exports')).map((r) => String(r.path));
  }

  /** One bucket transaction over the oldest `batchFiles` changes. */
  async #transaction(): Promise<void> {
    const batch: [string, Change][] = [];
    for (const entry of this.#pending) {
      batch.push(entry);
      if (batch.length >= this.#o.batchFiles) break;
    }
    for (const [p] of batch) this.#pending.delete(p);
    try {
      await this.#apply(batch);
    } catch (err) {
      // Queued again (behind newer changes of the same paths): a change that did reach the bucket
      // is a no-op the next time (same size and time, or no longer live).
      for (const [p, c] of batch) if (!this.#pending.has(p)) this.#pending.set(p, c);
      throw err;
    }
    if (this.#pending.size === 0) this.#pendingSince = 0;
  }

  /** Applies a batch of changes as one bucket transaction (none when nothing differs from the bucket). */
  async #apply(batch: readonly [string, Change][]): Promise<void> {
    const { store, lake } = this.#o;
    const catalog = this.#catalog;
    const adds = batch.filter(([, c]) => c === 'add').map(([p]) => p);
    const rows = new Map<string, BucketFileRow>();
    const exported = new Set<string>();
    if (adds.length > 0) {
      for (const r of await queryRows(this.#conn, `SELECT ${FILE_COLUMNS} FROM meta.lake_files WHERE path IN (${adds.map((p) => sqlString(p)).join(', ')})`)) rows.set(String(r.path), rowOf(r));
      const exportPaths = new Set(await this.#exports());
      for (const p of adds) if (exportPaths.has(p)) exported.add(p);
    }
    const uploads: { path: string; row: BucketFileRow | null }[] = [];
    for (const p of adds) {
      const row = rows.get(p) ?? null;
      // Strictly after the local commit: what the lake's catalog does not list is not uploaded.
      if (row === null && !exported.has(p)) continue;
      const st = await fs.stat(lake.resolve(p)).catch(() => null);
      if (st === null) continue;
      const cur = catalog.files.get(p);
      if (cur !== undefined && cur.size === st.size && cur.mtimeMs === Math.round(st.mtimeMs)) continue;
      uploads.push({ path: p, row });
    }
    const removes = batch.filter(([p, c]) => c === 'remove' && catalog.files.has(p)).map(([p]) => p);
    if (uploads.length === 0 && removes.length === 0) return;

    const seq = await catalog.begin(
      uploads.map((u) => u.path),
      removes,
      this.#o.now(),
    );
    const added = new Map<string, BucketEntry>();
    let bytes = 0;
    try {
      await runPool(uploads, this.#o.concurrency, async (u) => {
        const r = await store.putFile(u.path, lake.resolve(u.path));
        added.set(u.path, { size: r.size, md5: r.md5, mtimeMs: r.mtimeMs ?? 0, file: u.row });
        bytes += r.size;
      });
    } catch (err) {
      // Roll back: delete what may have gone up under keys that are not live, but leave open/S in
      // place for the comparison after the pause to delete them again and close it. A PUT the
      // client gave up on (its answer lost) can still complete on the server after this delete;
      // closing the transaction now would leave that object in the bucket unreferenced.
      await store.delete(uploads.filter((u) => !catalog.files.has(u.path)).map((u) => u.path)).catch(() => undefined);
      this.#compare = true;
      throw err;
    }
    try {
      // In path order, so the log entry does not depend on which upload finished first.
      await catalog.commit(seq, new Map([...added].sort((a, b) => (a[0] < b[0] ? -1 : 1))), removes, this.#o.now());
    } catch (err) {
      // Whether the commit landed is unknown: read the catalog again and compare.
      this.#compare = true;
      throw err;
    }
    this.#stats.commits++;
    this.#stats.uploadedFiles += uploads.length;
    this.#stats.uploadedBytes += bytes;
    this.#stats.lastCommitAt = this.#o.now();
    try {
      await store.delete(removes);
      await catalog.end(seq);
    } catch (err) {
      // Committed; the comparison after the pause finishes the deletes (open transactions first).
      this.#compare = true;
      throw err;
    }
    this.#stats.deletedFiles += removes.length;
    try {
      await catalog.checkpointIfDue(this.#o.checkpointEvery, this.#o.now());
    } catch (err) {
      // The log stays readable without it; the next commit tries again.
      this.#o.logger?.warn({ err, location: store.location }, 'lake mirror: could not write a catalog checkpoint');
    }
  }
}

async function setPairing(conn: DuckDBConnection, lakeId: string, location: string, state: 'restoring' | 'mirrored', now: number): Promise<void> {
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run('DELETE FROM meta.lake_mirror');
    await conn.run(`INSERT INTO meta.lake_mirror VALUES (${sqlString(lakeId)}, ${sqlString(location)}, ${sqlString(state)}, ${now})`);
    await conn.run('COMMIT');
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** True when the lake has recorded no file and holds no bronze Parquet. */
async function isEmpty(lake: LakeDatabase, conn: DuckDBConnection): Promise<boolean> {
  const [n] = await queryRows(conn, 'SELECT count(*) AS n FROM meta.lake_files');
  if (Number(n?.n ?? 0) > 0) return false;
  for (const t of BRONZE_TABLES) if (await lake.hasBronzeFiles(t.name)) return false;
  return true;
}
