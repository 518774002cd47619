import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type GetObjectCommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { StockStreamError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import type { ObjectStore, ObjectStoreStats, PutResult, StoredObject } from '../object-store.js';

/** S3's smallest part (every part but the last): https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html */
export const MIN_PART_BYTES = 5 * 1_048_576;
/** S3's largest part count per upload. */
const MAX_PARTS = 10_000;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, e.g. `lake/`; a missing trailing `/` is added. Default ''. */
  prefix?: string;
  /** An S3-compatible server (MinIO, S3Proxy); null or unset: AWS S3 of `region`. */
  endpoint?: string | null;
  region: string;
  /** Both null or unset: the AWS default credential chain (environment, profile, instance role). */
  accessKeyId?: string | null;
  secretAccessKey?: string | null;
  /** Path-style URLs (http://host/bucket/key), which MinIO and S3Proxy need. Default true. */
  forcePathStyle?: boolean;
  /** Files of this size or more go up in parts of this size (S3's minimum part is 5 MiB). Default 8 MiB. */
  partSizeBytes?: number;
  /** Attempts per request, the first included, before the operation fails. Default 5. */
  maxAttempts?: number;
  /** Delay before the first retry; it doubles per attempt up to `retryMaxMs`, with full jitter. Default 200. */
  retryBaseMs?: number;
  /** Default 10,000. */
  retryMaxMs?: number;
  /** Parts of one upload in flight at once. Default 2. */
  partConcurrency?: number;
  /** A request whose socket stays idle this long fails (and is retried). Default 60,000. */
  requestTimeoutMs?: number;
  logger?: Logger;
}

/** Thrown when what came back does not match what was stored (a short or corrupted read); retried. */
class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/** What the AWS SDK puts on the errors it throws (modeled S3 errors and network failures). */
interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** S3 error codes worth another attempt: throttling, server trouble, and bodies damaged in transit. */
const RETRYABLE_CODES = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'BadDigest',
  'XAmzContentSHA256Mismatch',
  'IncompleteBody',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
/** Network failures (Node's errno codes and the SDK's timeout). */
const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET']);

function errorCode(err: unknown): string {
  const e = err as SdkError;
  if (e?.code !== undefined && NETWORK_CODES.has(e.code)) return e.code;
  return e?.Code ?? e?.name ?? e?.code ?? 'Error';
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode;
}

/**
 * Whether another attempt may succeed: 5xx, 429 and 408 answers, throttling and digest codes,
 * network failures, integrity failures of what came back, and a good status whose body did not
 * parse (a response cut short).
 */
export function isRetryableS3Error(err: unknown): boolean {
  if (err instanceof IntegrityError) return true;
  const status = statusOf(err);
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  const e = err as SdkError;
  if (RETRYABLE_CODES.has(e?.Code ?? e?.name ?? '')) return true;
  if (e?.code !== undefined && NETWORK_CODES.has(e.code)) return true;
  if (e?.name === 'TimeoutError') return true;
  if (status !== undefined && status >= 200 && status < 300) return true;
  return status === undefined && /socket hang up|aborted|premature close|ECONNRESET|EPIPE/i.test(e?.message ?? '');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function md5(body: Uint8Array): Buffer {
  return crypto.createHash('md5').update(body).digest();
}

/** Reads `length` bytes at `position` of the content being uploaded. */
type Source = { size: number; mtimeMs: number | null; read(position: number, length: number, into: Buffer): Promise<Buffer> };

/**
 * The lake's object store on S3 or an S3-compatible server (MinIO, S3Proxy), with
 * `@aws-sdk/client-s3` (ARCHITECTURE.md §6).
 *
 * - Content below `partSizeBytes` goes up in one PutObject; larger content as a multipart upload
 *   (CreateMultipartUpload, UploadPart ×N, CompleteMultipartUpload,
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html), which S3 makes
 *   visible only on completion. A failed upload is aborted so no parts linger (and are billed).
 * - Every PutObject and UploadPart carries Content-MD5: S3 refuses a body damaged in transit
 *   (BadDigest) instead of storing it. The whole content's MD5 is stored as metadata `md5`, and
 *   every read is checked against it and its length.
 * - Each request is retried up to `maxAttempts` times with exponential backoff and full jitter
 *   on 5xx, 429/SlowDown, timeouts, network failures and damaged bodies; the SDK's own retries are
 *   off so the count is ours. A CompleteMultipartUpload whose answer was lost and whose retry
 *   finds no upload is checked against the object's `upload` token (set when the upload began),
 *   so a completion that did happen is not reported as a failure.
 * - When every attempt fails the error names the bucket, the key, the S3 error code and status.
 */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #partSize: number;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #partConcurrency: number;
  readonly #logger: Logger | null;
  readonly #stats: ObjectStoreStats = { requests: 0, retries: 0, failures: 0, bytesUp: 0, bytesDown: 0, aborts: 0 };

  constructor(o: S3ObjectStoreOptions) {
    const prefix = o.prefix ?? '';
    if (prefix.startsWith('/')) throw new RangeError(`lake.storage.s3.prefix: must not start with '/', got '${prefix}'`);
    this.bucket = o.bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.location = `s3://${o.bucket}/${this.prefix}`;
    this.#partSize = o.partSizeBytes ?? 8 * 1_048_576;
    if (!(Number.isInteger(this.#partSize) && this.#partSize >= MIN_PART_BYTES)) throw new RangeError(`lake.storage.s3.partSizeBytes: expected an integer >= ${MIN_PART_BYTES} (S3's minimum part), got ${this.#partSize}`);
    this.#maxAttempts = o.maxAttempts ?? 5;
    if (!(Number.isInteger(this.#maxAttempts) && this.#maxAttempts >= 1)) throw new RangeError(`lake.storage.s3.maxAttempts: expected an integer >= 1, got ${this.#maxAttempts}`);
    this.#retryBaseMs = o.retryBaseMs ?? 200;
    this.#retryMaxMs = o.retryMaxMs ?? 10_000;
    this.#partConcurrency = Math.max(1, o.partConcurrency ?? 2);
    this.#logger = o.logger ?? null;
    if ((o.accessKeyId == null) !== (o.secretAccessKey == null)) throw new RangeError('lake.storage.s3: set both accessKeyId and secretAccessKey, or neither (the AWS default credential chain)');
    const config: S3ClientConfig = {
      region: o.region,
      forcePathStyle: o.forcePathStyle ?? true,
      // Retries are ours (counted, and aware of multipart state).
      maxAttempts: 1,
      // Content-MD5 is ours; the SDK's default CRC32 headers are not verified by every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { requestTimeout: o.requestTimeoutMs ?? 60_000, connectionTimeout: 10_000 },
    };
    if (o.endpoint != null) config.endpoint = o.endpoint;
    if (o.accessKeyId != null && o.secretAccessKey != null) config.credentials = { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey };
    this.#client = new S3Client(config);
  }

  stats(): ObjectStoreStats {
    return { ...this.#stats };
  }

  close(): void {
    this.#client.destroy();
  }

  async putFile(key: string, file: string): Promise<PutResult> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, 'r');
    } catch (err) {
      throw new StockStreamError('SS_LAKE_IO', `Expected to read ${file} to upload it to ${this.#url(key)}, but it failed: ${(err as Error).message}`, { cause: err, context: { file, key } });
    }
    try {
      // One descriptor for every read: a file renamed over meanwhile (an export) goes up whole, old or new.
      const { size, mtimeMs } = await fh.stat();
      return await this.#put(key, {
        size,
        mtimeMs: Math.round(mtimeMs),
        read: async (position, length, into) => {
          const { bytesRead } = await fh.read(into, 0, length, position);
          if (bytesRead !== length) throw new StockStreamError('SS_LAKE_IO', `Expected ${length} bytes at ${position} of ${file}, read ${bytesRead}: the file shrank while it was uploaded.`, { context: { file } });
          return into.subarray(0, length);
        },
      });
    } finally {
      await fh.close();
    }
  }

  putBytes(key: string, body: Uint8Array): Promise<PutResult> {
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return this.#put(key, { size: bytes.length, mtimeMs: null, read: async (position, length) => bytes.subarray(position, position + length) });
  }

  /** The object at `full` (prefix included), or null when there is none. */
  async #getObject(full: string): Promise<GetObjectCommandOutput | null> {
    try {
      return await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: full }));
    } catch (err) {
      if (errorCode(err) === 'NoSuchKey') return null;
      throw err;
    }
  }

  async getBytes(key: string): Promise<Uint8Array | null> {
    const full = this.prefix + key;
    return this.#retry('download', key, async () => {
      const res = await this.#getObject(full);
      if (res === null) return null;
      const body = await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      this.#stats.bytesDown += body.length;
      this.#check(key, body.length, md5(body).toString('hex'), res.ContentLength, res.Metadata?.['md5']);
      return body;
    });
  }

  async getFile(key: string, file: string): Promise<{ size: number; md5: string } | null> {
    const full = this.prefix + key;
    return this.#retry('download', key, async () => {
      const res = await this.#getObject(full);
      if (res === null) return null;
      const hash = crypto.createHash('md5');
      let size = 0;
      const out = await fs.open(file, 'w');
      try {
        for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          size += chunk.length;
          await out.write(chunk);
        }
      } finally {
        await out.close();
      }
      this.#stats.bytesDown += size;
      const digest = hash.digest('hex');
      this.#check(key, size, digest, res.ContentLength, res.Metadata?.['md5']);
      return { size, md5: digest };
    });
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.#retry('list', prefix, () => this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) })));
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        out.push({ key: o.Key.slice(this.prefix.length), size: Number(o.Size ?? 0), lastModified: o.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const res = await this.#retry('delete', batch[0] ?? '', () => this.#client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.prefix + k })), Quiet: true } })));
      const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0];
        this.#stats.failures++;
        throw new StockStreamError('SS_LAKE_STORAGE', `Expected to delete ${batch.length} objects under ${this.location}, but S3 refused ${failed.length}: ${first?.Key} ${first?.Code} ${first?.Message ?? ''}. Check the credentials' s3:DeleteObject permission on bucket ${this.bucket}.`, {
          context: { bucket: this.bucket, key: first?.Key, code: first?.Code },
        });
      }
    }
  }

  async abortUploads(before: number): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const page = await this.#retry('list multipart uploads under', '', () =>
        this.#client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(idMarker ? { UploadIdMarker: idMarker } : {}) })),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key === undefined || u.UploadId === undefined || (u.Initiated?.getTime() ?? 0) >= before) continue;
        await this.#abort(u.Key.slice(this.prefix.length), u.UploadId);
        aborted++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      idMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    return aborted;
  }

  async #put(key: string, source: Source): Promise<PutResult> {
    const full = this.prefix + key;
    // The whole content's MD5 goes with the object (readers check it); it must be known up front.
    const whole = crypto.createHash('md5');
    const chunk = Buffer.allocUnsafe(Math.min(this.#partSize, Math.max(1, source.size)));
    for (let at = 0; at < source.size; at += chunk.length) whole.update(await source.read(at, Math.min(chunk.length, source.size - at), chunk));
    const digest = whole.digest('hex');
    const token = crypto.randomUUID();
    const metadata = { md5: digest, upload: token };
    if (source.size < this.#partSize) {
      const body = Buffer.from(await source.read(0, source.size, chunk));
      const contentMd5 = md5(body).toString('base64');
      await this.#retry('upload', key, async () => {
        await this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: full, Body: body, ContentMD5: contentMd5, ContentLength: body.length, Metadata: metadata }));
        this.#stats.bytesUp += body.length;
      });
      return { key, size: source.size, md5: digest, parts: 1, mtimeMs: source.mtimeMs };
    }
    const count = Math.ceil(source.size / this.#partSize);
    if (count > MAX_PARTS) throw new RangeError(`${source.size} bytes need ${count} parts of ${this.#partSize}; S3 allows ${MAX_PARTS}: raise lake.storage.s3.partSizeBytes`);
    // A Create whose answer was lost may still have started an upload: those are aborted below.
    let lostCreates = 0;
    const created = await this.#retry('start a multipart upload of', key, async () => {
      try {
        return await this.#client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: full, Metadata: metadata }));
      } catch (err) {
        lostCreates++;
        throw err;
      }
    }).catch(async (err: unknown) => {
      if (lostCreates > 0) await this.#abortOthers(key, null).catch(() => undefined);
      throw err;
    });
    const uploadId = created.UploadId as string;
    try {
      if (lostCreates > 0) await this.#abortOthers(key, uploadId);
      const etags = await this.#uploadParts(key, uploadId, source, count);
      let sent = false;
      await this.#retry('complete the multipart upload of', key, async () => {
        try {
          await this.#client.send(
            new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: full, UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
          );
        } catch (err) {
          // An earlier attempt may have completed it and lost the answer: the upload is then gone
          // and the object carries this upload's token.
          if (sent && statusOf(err) === 404 && (await this.#uploadedBy(full, token))) return;
          sent = true;
          throw err;
        }
      });
      return { key, size: source.size, md5: digest, parts: count, mtimeMs: source.mtimeMs };
    } catch (err) {
      await this.#abort(key, uploadId).catch((abortErr: unknown) => {
        this.#logger?.error({ err: abortErr, bucket: this.bucket, key: full, uploadId }, 'could not abort a failed multipart upload; its parts linger until aborted (the next mirror start aborts stale uploads)');
      });
      throw err;
    }
  }

  /** Uploads parts 1..count, `partConcurrency` at a time; on a failure lets the others settle, then throws it. */
  async #uploadParts(key: string, uploadId: string, source: Source, count: number): Promise<string[]> {
    const full = this.prefix + key;
    const etags: string[] = new Array<string>(count);
    let next = 0;
    let failure: unknown = null;
    const worker = async (): Promise<void> => {
      const buffer = Buffer.allocUnsafe(this.#partSize);
      while (failure === null && next < count) {
        const i = next++;
        const at = i * this.#partSize;
        try {
          const body = await source.read(at, Math.min(this.#partSize, source.size - at), buffer);
          const contentMd5 = md5(body).toString('base64');
          const res = await this.#retry(`upload part ${i + 1}/${count} of`, key, () =>
            this.#client.send(new UploadPartCommand({ Bucket: this.bucket, Key: full, UploadId: uploadId, PartNumber: i + 1, Body: body, ContentMD5: contentMd5, ContentLength: body.length })),
          );
          this.#stats.bytesUp += body.length;
          etags[i] = res.ETag as string;
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#partConcurrency, count) }, worker));
    if (failure !== null) throw failure;
    return etags;
  }

  async #abort(key: string, uploadId: string): Promise<void> {
    await this.#retry('abort the multipart upload of', key, async () => {
      try {
        await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.prefix + key, UploadId: uploadId }));
      } catch (err) {
        // Already gone (an earlier attempt's answer was lost).
        if (statusOf(err) === 404) return;
        throw err;
      }
    });
    this.#stats.aborts++;
  }

  /**
   * Aborts the multipart uploads of `key` other than `keep`: ones started by Create requests whose
   * answers were lost (one writer per location, so no one else's upload of the key is in progress).
   */
  async #abortOthers(key: string, keep: string | null): Promise<void> {
    const full = this.prefix + key;
    const page = await this.#retry('list multipart uploads of', key, () => this.#client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: full })));
    for (const u of page.Uploads ?? []) if (u.Key === full && u.UploadId !== undefined && u.UploadId !== keep) await this.#abort(key, u.UploadId);
  }

  /** True when the object at `full` was written by the upload that set `token`. */
  async #uploadedBy(full: string, token: string): Promise<boolean> {
    const head = await this.#retry('check the completed upload of', full.slice(this.prefix.length), async () => {
      try {
        return await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: full }));
      } catch (err) {
        if (statusOf(err) === 404) return null;
        throw err;
      }
    });
    return head?.Metadata?.['upload'] === token;
  }

  #check(key: string, size: number, digest: string, expectedSize: number | undefined, expectedMd5: string | undefined): void {
    if (expectedSize !== undefined && size !== expectedSize) throw new IntegrityError(`read ${size} of ${expectedSize} bytes of ${this.#url(key)}`);
    if (expectedMd5 !== undefined && digest !== expectedMd5) throw new IntegrityError(`the MD5 of ${this.#url(key)} is ${digest}, but ${expectedMd5} was stored with it`);
  }

  /** Runs one request, again after retryable failures (up to maxAttempts in all, exponential backoff with full jitter). */
  async #retry<T>(what: string, key: string, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.#stats.requests++;
      try {
        return await request();
      } catch (err) {
        if (err instanceof StockStreamError) throw err;
        const retry = isRetryableS3Error(err);
        if (!retry || attempt >= this.#maxAttempts) {
          this.#stats.failures++;
          throw this.#error(what, key, err, attempt, retry);
        }
        this.#stats.retries++;
        const delay = Math.random() * Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** (attempt - 1));
        this.#logger?.debug({ bucket: this.bucket, key: this.prefix + key, code: errorCode(err), status: statusOf(err), attempt, delay }, `S3: ${what} failed; retrying`);
        await sleep(delay);
      }
    }
  }

  #error(what: string, key: string, err: unknown, attempts: number, retryable: boolean): StockStreamError {
    const code = errorCode(err);
    const status = statusOf(err);
    const answer = status === undefined ? `the request failed with ${code}` : `S3 answered ${code} (HTTP ${status})`;
    const tries = attempts > 1 ? ` on all ${attempts} attempts` : '';
    const reason = ((err as Error)?.message?.split('\n')[0] ?? String(err)).replace(/\.+$/, '');
    let hint: string;
    if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'].includes(code)) hint = 'Check lake.storage.s3.accessKeyId and secretAccessKey and their permissions on the bucket.';
    else if (code === 'NoSuchBucket') hint = `Create bucket ${this.bucket}, or set lake.storage.s3.bucket to an existing one.`;
    else if (status === undefined && !(err instanceof IntegrityError)) hint = 'Check that lake.storage.s3.endpoint is reachable from here.';
    else if (/^(upload|start|complete)/.test(what)) hint = 'S3 shows no partial object under that key; the lake mirror tries again later.';
    else hint = 'The lake mirror tries again later.';
    return new StockStreamError('SS_LAKE_STORAGE', `Expected to ${what} ${this.#url(key)}, but ${answer}${tries}: ${reason}. ${hint}`, {
      cause: err,
      retryable,
      context: { bucket: this.bucket, key: this.prefix + key, code, status: status ?? null, attempts },
    });
  }

  #url(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }
}
