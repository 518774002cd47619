import fs from 'node:fs/promises';
import path from 'node:path';
import { syncDir, syncPath } from '../../log/journal/fs-io.js';
import type { CommitOffset } from '../../log/log.js';
import { StockStreamError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { writeBronzeStartAt } from '../bronze/bronze-writer.js';
import type { LakeDatabase, LakeFile } from '../catalog/lake-database.js';
import type { BucketCatalog } from './bucket-catalog.js';
import type { ObjectStore } from './object-store.js';
import { runPool } from './run-pool.js';

export interface RestoreResult {
  /** Bronze files downloaded (or found already in place from an interrupted restore). */
  files: number;
  bytes: number;
  /** Where the restored files end per log partition: the bronze writer lands the log again from there. */
  startAt: readonly CommitOffset[];
}

export interface RestoreOptions {
  lake: LakeDatabase;
  store: ObjectStore;
  catalog: BucketCatalog;
  /** The bronze writer's consumer group, moved to where the restored files end. */
  bronzeGroup: string;
  concurrency: number;
  logger?: Logger | null;
}

/**
 * Rebuilds an empty local lake from its object store: every live bronze file of the bucket's
 * catalog is downloaded (checked against the MD5 and size the catalog recorded), made durable and
 * moved into the same path, with its recorded modification time; then the files are recorded in
 * `meta.lake_files` (in their original order) and the bronze writer is told where they end per
 * log partition (`writeBronzeStartAt`), so it lands again what the old machine landed but had not
 * mirrored yet. Silver and gold are not downloaded: the models' first run rebuilds them from bronze
 * (there are no model cursors yet, so it is a full refresh), and the exports are rewritten after it.
 *
 * Safe to run again after a crash: files already in place with the recorded size and time are kept,
 * recording is idempotent (by path), and the start-at file is rewritten.
 */
export async function restoreLake(o: RestoreOptions): Promise<RestoreResult> {
  const { lake, store, catalog } = o;
  const entries = [...catalog.files]
    .flatMap(([p, e]) => (e.file === null ? [] : [{ path: p, entry: e, row: e.file }]))
    .sort((a, b) => a.row.seq - b.row.seq || (a.path < b.path ? -1 : 1));
  const staging = path.join(lake.lakeDir, '_restore');
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  o.logger?.warn({ location: store.location, files: entries.length, lake: catalog.lakeId }, 'lake: the local lake is empty; restoring it from its object store');
  const dirs = new Set<string>();
  let bytes = 0;
  await runPool(
    entries.map((e, i) => ({ ...e, i })),
    o.concurrency,
    async ({ path: rel, entry, i }) => {
      const dest = lake.resolve(rel);
      for (let d = path.dirname(dest); d.startsWith(lake.lakeDir) && d !== lake.lakeDir; d = path.dirname(d)) dirs.add(d);
      dirs.add(lake.lakeDir);
      const st = await fs.stat(dest).catch(() => null);
      if (st !== null && st.size === entry.size && Math.round(st.mtimeMs) === entry.mtimeMs) {
        bytes += st.size;
        return;
      }
      const tmp = path.join(staging, `${i}.parquet`);
      const got = await store.getFile(rel, tmp);
      if (got === null) {
        throw new StockStreamError('SS_LAKE_STORAGE_CONFLICT', `Expected ${store.location}${rel}, a live file of the bucket's lake catalog, to exist, but it does not. Something other than the lake deleted it; restore the object, or remove the lake catalog (${store.location}_catalog/) to start a new lake there.`, {
          context: { location: store.location, key: rel },
        });
      }
      if (got.md5 !== entry.md5 || got.size !== entry.size) {
        throw new StockStreamError('SS_LAKE_STORAGE_CONFLICT', `Expected ${store.location}${rel} to hold ${entry.size} bytes with MD5 ${entry.md5}, as the bucket's lake catalog recorded, but it holds ${got.size} bytes with MD5 ${got.md5}: something other than the lake wrote it.`, {
          context: { location: store.location, key: rel },
        });
      }
      await syncPath(tmp);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      await fs.rename(tmp, dest);
      const mtime = new Date(entry.mtimeMs);
      await fs.utimes(dest, mtime, mtime);
      bytes += got.size;
    },
  );
  try {
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) await syncDir(d);
  } catch (err) {
    throw new StockStreamError('SS_LAKE_IO', `Expected to fsync the restored lake's directories under ${lake.lakeDir}, but it failed: ${(err as Error).message}`, { cause: err });
  }
  await lake.registerFiles(
    entries.map(({ path: rel, row }): LakeFile => {
      const { seq: _seq, ...file } = row;
      return { ...file, path: rel };
    }),
  );
  const ends = new Map<string, CommitOffset>();
  for (const { row } of entries) {
    const key = `${row.topic}/${row.partition}`;
    const end = row.lastOffset + 1;
    if ((ends.get(key)?.offset ?? -1) < end) ends.set(key, { topic: row.topic, partition: row.partition, offset: end });
  }
  const startAt = [...ends.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  await writeBronzeStartAt(lake.lakeDir, { group: o.bronzeGroup, offsets: startAt });
  await fs.rm(staging, { recursive: true, force: true });
  return { files: entries.length, bytes, startAt };
}
