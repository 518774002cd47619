/**
 * The lake's catalog inside its object store: which objects under the store's location are the
 * lake's files, with what content, and which changes are under way. Readers of the bucket go by
 * it; the lake mirror (lake-mirror.ts) is its only writer (one lake role per location).
 *
 * Wire format, under `<prefix>_catalog/` (JSON, UTF-8; <seq> is 20 zero-padded digits so keys sort
 * in sequence order):
 *
 *   checkpoint/<seq>.json  {"format":1,"lake":"<id>","seq":S,"at":ms,"files":{"<path>":Entry,…}}
 *                          every live file as of transaction S (S = 0: the empty lake, written first)
 *   log/<seq>.json         {"format":1,"lake":"<id>","seq":S,"at":ms,"add":{"<path>":Entry,…},"remove":["<path>",…]}
 *                          transaction S committed: its adds are live, its removes are not
 *   open/<seq>.json        {"format":1,"lake":"<id>","seq":S,"at":ms,"add":["<path>",…],"remove":["<path>",…]}
 *                          transaction S is under way: its adds may be present (not live yet),
 *                          its removes may be gone once it committed
 *
 *   Entry = {"size":bytes,"md5":"<hex>","mtimeMs":ms,"file":Row|null}
 *   Row   = the lake catalog's record of a bronze file (meta.lake_files): {"seq","layer","table",
 *           "date","symbol","topic","partition","firstOffset","lastOffset","rows","minTs","maxTs"};
 *           null for files the catalog does not list (silver and gold Parquet exports)
 *
 * `<path>` is the file's path relative to the lake directory, which is also its key under the
 * prefix. A transaction: write open/S (naming the objects about to appear or go), upload the adds,
 * write log/S (the switch: one PUT, so readers see the old file set or the new one), delete the
 * removes, delete open/S. So at every moment each object under the prefix is live or named by an
 * open transaction, and a live object is whole (S3 shows an object only once it is complete).
 * Every `checkpointEvery` commits the full state goes to checkpoint/S and older log entries and
 * checkpoints are deleted; a reader who meets the gap that leaves (log entries no longer following
 * the checkpoint it read) reads again.
 */
import { StockStreamError } from '../../shared/errors.js';
import type { LakeFile } from '../catalog/lake-database.js';
import type { ObjectStore } from './object-store.js';

export const CATALOG_PREFIX = '_catalog/';
const CHECKPOINTS = `${CATALOG_PREFIX}checkpoint/`;
const LOG = `${CATALOG_PREFIX}log/`;
const OPEN = `${CATALOG_PREFIX}open/`;
const FORMAT = 1;
/** Reads that meet a concurrent checkpoint's cleanup start over this many times. */
const READ_ATTEMPTS = 5;

/** A bronze file's catalog record as the bucket keeps it (its path is the entry's key). */
export type BucketFileRow = Omit<LakeFile, 'path'> & { readonly seq: number };

export interface BucketEntry {
  readonly size: number;
  readonly md5: string;
  /** Modification time of the local file uploaded (epoch ms, rounded): tells a changed export. */
  readonly mtimeMs: number;
  readonly file: BucketFileRow | null;
}

export interface OpenTransaction {
  readonly seq: number;
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

interface Header {
  format: number;
  lake: string;
  seq: number;
  at: number;
}
interface CheckpointDoc extends Header {
  files: Record<string, BucketEntry>;
}
interface CommitDoc extends Header {
  add: Record<string, BucketEntry>;
  remove: string[];
}
interface OpenDoc extends Header {
  add: string[];
  remove: string[];
}

const seqKey = (dir: string, seq: number): string => `${dir}${String(seq).padStart(20, '0')}.json`;
const seqOf = (key: string): number => Number(key.slice(key.lastIndexOf('/') + 1, -'.json'.length));
const DOC_NAME = /\/\d{20}\.json$/;

/** The catalog documents under `dir`, in sequence order. Other keys are not ours and are skipped
 * (e.g. S3Proxy lists a PUT in progress as `<key>-<uuid>`). */
async function documents(store: ObjectStore, dir: string): Promise<string[]> {
  return (await store.list(dir)).map((o) => o.key).filter((k) => DOC_NAME.test(k));
}

function decode<T extends Header>(store: ObjectStore, key: string, bytes: Uint8Array): T {
  let doc: T;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (err) {
    throw conflict(`Expected ${store.location}${key} to be a lake catalog document (JSON), but it does not parse: ${(err as Error).message}`, store, key);
  }
  if (doc.format !== FORMAT || typeof doc.lake !== 'string' || doc.seq !== seqOf(key)) {
    throw conflict(`Expected ${store.location}${key} to be a lake catalog document of format ${FORMAT} for transaction ${seqOf(key)}, but it holds format ${String(doc.format)}, transaction ${String(doc.seq)}`, store, key);
  }
  return doc;
}

function conflict(message: string, store: ObjectStore, key: string): StockStreamError {
  return new StockStreamError('SS_LAKE_STORAGE_CONFLICT', `${message}. Is another program writing under ${store.location}? Give this lake its own lake.storage.s3.prefix.`, { context: { location: store.location, key } });
}

/** Thrown inside a read when a concurrent checkpoint removed what the read was about to use; the read starts over. */
class MovedOn extends Error {}

/**
 * The catalog as read from the store, and (for the mirror) the writer of its transactions.
 * Not safe for two writers on one location.
 */
export class BucketCatalog {
  readonly lakeId: string;
  readonly #store: ObjectStore;
  readonly #files: Map<string, BucketEntry>;
  readonly #open: Map<number, OpenTransaction>;
  #seq: number;
  #checkpointSeq: number;

  private constructor(store: ObjectStore, lakeId: string, seq: number, checkpointSeq: number, files: Map<string, BucketEntry>, open: Map<number, OpenTransaction>) {
    this.#store = store;
    this.lakeId = lakeId;
    this.#seq = seq;
    this.#checkpointSeq = checkpointSeq;
    this.#files = files;
    this.#open = open;
  }

  /** The catalog under the store's location; null when there is none (no lake was ever mirrored there). */
  static async read(store: ObjectStore): Promise<BucketCatalog | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await BucketCatalog.#readOnce(store);
      } catch (err) {
        if (!(err instanceof MovedOn) || attempt >= READ_ATTEMPTS) {
          if (err instanceof MovedOn) throw conflict(`Expected to read the lake catalog under ${store.location}${CATALOG_PREFIX}, but it kept changing under the read (${err.message})`, store, CATALOG_PREFIX);
          throw err;
        }
      }
    }
  }

  /** Starts a catalog for lake `lakeId` at an empty location: checkpoint 0, no files. */
  static async create(store: ObjectStore, lakeId: string, now: number): Promise<BucketCatalog> {
    const doc: CheckpointDoc = { format: FORMAT, lake: lakeId, seq: 0, at: now, files: {} };
    await store.putBytes(seqKey(CHECKPOINTS, 0), Buffer.from(JSON.stringify(doc)));
    return new BucketCatalog(store, lakeId, 0, 0, new Map(), new Map());
  }

  static async #readOnce(store: ObjectStore): Promise<BucketCatalog | null> {
    const checkpoints = await documents(store, CHECKPOINTS);
    const last = checkpoints[checkpoints.length - 1];
    if (last === undefined) return null;
    const bytes = await store.getBytes(last);
    if (bytes === null) throw new MovedOn(`checkpoint ${last} was replaced`);
    const cp = decode<CheckpointDoc>(store, last, bytes);
    const files = new Map(Object.entries(cp.files));
    let seq = cp.seq;
    for (const key of await documents(store, LOG)) {
      const s = seqOf(key);
      if (s <= cp.seq) continue;
      if (s !== seq + 1) throw new MovedOn(`log entry ${s} follows ${seq}`);
      const got = await store.getBytes(key);
      if (got === null) throw new MovedOn(`log entry ${s} was removed`);
      const c = decode<CommitDoc>(store, key, got);
      if (c.lake !== cp.lake) throw conflict(`Expected every catalog document under ${store.location} to be of lake ${cp.lake}, but ${key} is of lake ${c.lake}`, store, key);
      for (const p of c.remove) files.delete(p);
      for (const [p, e] of Object.entries(c.add)) files.set(p, e);
      seq = s;
    }
    const open = new Map<number, OpenTransaction>();
    for (const key of await documents(store, OPEN)) {
      const got = await store.getBytes(key);
      if (got === null) continue;
      const o = decode<OpenDoc>(store, key, got);
      open.set(o.seq, { seq: o.seq, add: o.add, remove: o.remove });
    }
    return new BucketCatalog(store, cp.lake, seq, cp.seq, files, open);
  }

  /** The last committed transaction. */
  get seq(): number {
    return this.#seq;
  }

  /** Live files: path → entry. */
  get files(): ReadonlyMap<string, BucketEntry> {
    return this.#files;
  }

  /** Transactions begun and not ended (after a crash, or while one runs). */
  get open(): readonly OpenTransaction[] {
    return [...this.#open.values()].sort((a, b) => a.seq - b.seq);
  }

  /** True when transaction `seq` committed (its log entry is written). */
  committed(seq: number): boolean {
    return seq <= this.#seq;
  }

  /** Every key a reader may find under the location outside `_catalog/`: live files and those open transactions name. */
  referenced(): Set<string> {
    const out = new Set(this.#files.keys());
    for (const t of this.#open.values()) for (const p of [...t.add, ...t.remove]) out.add(p);
    return out;
  }

  /** Writes open/S for the next transaction S and returns S. */
  async begin(add: readonly string[], remove: readonly string[], now: number): Promise<number> {
    const seq = this.#seq + 1;
    const doc: OpenDoc = { format: FORMAT, lake: this.lakeId, seq, at: now, add: [...add], remove: [...remove] };
    await this.#store.putBytes(seqKey(OPEN, seq), Buffer.from(JSON.stringify(doc)));
    this.#open.set(seq, { seq, add: doc.add, remove: doc.remove });
    return seq;
  }

  /** Writes log/S: the adds become live and the removes stop being so. */
  async commit(seq: number, add: ReadonlyMap<string, BucketEntry>, remove: readonly string[], now: number): Promise<void> {
    if (seq !== this.#seq + 1) throw new StockStreamError('SS_INTERNAL', `Expected to commit transaction ${this.#seq + 1} of the lake catalog, got ${seq}`);
    const doc: CommitDoc = { format: FORMAT, lake: this.lakeId, seq, at: now, add: Object.fromEntries(add), remove: [...remove] };
    await this.#store.putBytes(seqKey(LOG, seq), Buffer.from(JSON.stringify(doc)));
    for (const p of remove) this.#files.delete(p);
    for (const [p, e] of add) this.#files.set(p, e);
    this.#seq = seq;
  }

  /** Deletes open/S: the transaction's objects are all in their final state. */
  async end(seq: number): Promise<void> {
    await this.#store.delete([seqKey(OPEN, seq)]);
    this.#open.delete(seq);
  }

  /** Writes a checkpoint when `every` commits have passed since the last one, then drops older log entries and checkpoints. */
  async checkpointIfDue(every: number, now: number): Promise<boolean> {
    if (this.#seq - this.#checkpointSeq < every) return false;
    const seq = this.#seq;
    const doc: CheckpointDoc = { format: FORMAT, lake: this.lakeId, seq, at: now, files: Object.fromEntries(this.#files) };
    await this.#store.putBytes(seqKey(CHECKPOINTS, seq), Buffer.from(JSON.stringify(doc)));
    this.#checkpointSeq = seq;
    const stale = [...(await documents(this.#store, LOG)).filter((k) => seqOf(k) <= seq), ...(await documents(this.#store, CHECKPOINTS)).filter((k) => seqOf(k) < seq)];
    await this.#store.delete(stale);
    return true;
  }
}
