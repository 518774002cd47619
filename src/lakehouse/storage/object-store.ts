/**
 * The lake's object-store port (ARCHITECTURE.md §2.1: lake = local directory | S3): where the
 * lake's files are kept durably, away from the machine that writes them. Keys are relative to
 * the store's location (an S3 bucket and key prefix) and use the lake's own layout
 * (`bronze/ticks/date=…/symbol=…/….parquet`), so the bucket reads like the lake directory.
 *
 * Every write is whole or absent: an object appears only once all of its bytes are stored and
 * checked, and a write that fails leaves the previous object (or none) in place, never a part.
 */

export interface StoredObject {
  readonly key: string;
  readonly size: number;
  /** Last modification, epoch ms. */
  readonly lastModified: number;
}

export interface PutResult {
  readonly key: string;
  readonly size: number;
  /** MD5 of the whole content, lowercase hex (also stored with the object as metadata `md5`). */
  readonly md5: string;
  /** 1 for a single request; the part count of a multipart upload. */
  readonly parts: number;
  /** putFile: the modification time of the file as uploaded (epoch ms, rounded to whole ms); putBytes: null. */
  readonly mtimeMs: number | null;
}

/** What a store has done since it was made: requests, retries, bytes. */
export interface ObjectStoreStats {
  requests: number;
  /** Requests sent again after a retryable failure. */
  retries: number;
  /** Operations that failed after every attempt. */
  failures: number;
  bytesUp: number;
  bytesDown: number;
  /** Multipart uploads aborted (after a failure, or stale ones left by a crash). */
  aborts: number;
}

export interface ObjectStore {
  /** Where the objects live, for messages and logs, e.g. `s3://stockstream/lake/`. */
  readonly location: string;
  /** Uploads a local file whole under `key` (in parts when it is large); replaces any object there. */
  putFile(key: string, file: string): Promise<PutResult>;
  /** Uploads bytes whole under `key`; replaces any object there. */
  putBytes(key: string, body: Uint8Array): Promise<PutResult>;
  /** The object's bytes, checked against the MD5 stored with it; null when there is no such object. */
  getBytes(key: string): Promise<Uint8Array | null>;
  /**
   * Downloads the object into `file` (created or truncated), checked against its MD5; returns its
   * size and MD5, or null when there is no such object (`file` is then not created).
   */
  getFile(key: string, file: string): Promise<{ size: number; md5: string } | null>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deletes the objects; keys that do not exist are fine. */
  delete(keys: readonly string[]): Promise<void>;
  /** Aborts multipart uploads under the store's location started before `before` (epoch ms): parts a crash left. Returns how many. */
  abortUploads(before: number): Promise<number>;
  stats(): ObjectStoreStats;
  /** Releases connections. */
  close(): void;
}
