/**
 * The real S3-compatible server of deploy/local (S3Proxy) for the storage tests: its settings from
 * `source deploy/local/env.sh`, a unique key prefix per test so runs share the bucket, and cleanup.
 */
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import crypto from 'node:crypto';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../../src/lakehouse/storage/s3/index.js';
import { serviceUnavailable } from '../../fixtures/services.js';

export const S3 = {
  endpoint: process.env['STOCKSTREAM_S3_ENDPOINT'] ?? 'http://127.0.0.1:19000',
  bucket: process.env['STOCKSTREAM_S3_BUCKET'] ?? 'stockstream',
  region: process.env['STOCKSTREAM_S3_REGION'] ?? 'us-east-1',
  accessKeyId: process.env['STOCKSTREAM_S3_ACCESS_KEY_ID'] ?? 'stockstream',
  secretAccessKey: process.env['STOCKSTREAM_S3_SECRET_ACCESS_KEY'] ?? 'stockstream-secret',
};

/** null when the S3 server answers; else why the tests skip (throws under STOCKSTREAM_REQUIRE_SERVICES=1). */
export function s3Unavailable(): Promise<string | null> {
  return serviceUnavailable('S3 (S3Proxy)', [new URL(S3.endpoint).host]);
}

/** A prefix no other test or run uses. */
export function uniquePrefix(what: string): string {
  return `test/${what}-${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}/`;
}

/** A store on the local S3 server (or on `endpoint`, e.g. a fault proxy in front of it); fast retries for tests. */
export function openStore(prefix: string, o: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
  return new S3ObjectStore({ ...S3, prefix, partSizeBytes: 5 * 1_048_576, retryBaseMs: 5, retryMaxMs: 50, requestTimeoutMs: 20_000, ...o });
}

/** Multipart uploads in progress under `prefix` (none may linger after a failure). */
export async function multipartUploads(prefix: string): Promise<string[]> {
  const client = new S3Client({ endpoint: S3.endpoint, region: S3.region, forcePathStyle: true, credentials: { accessKeyId: S3.accessKeyId, secretAccessKey: S3.secretAccessKey } });
  try {
    const r = await client.send(new ListMultipartUploadsCommand({ Bucket: S3.bucket, Prefix: prefix }));
    return (r.Uploads ?? []).map((u) => `${u.Key} (${u.UploadId})`);
  } finally {
    client.destroy();
  }
}

/** Deletes everything under `prefix` and aborts its uploads. */
export async function removePrefix(prefix: string): Promise<void> {
  const store = openStore(prefix);
  try {
    await store.abortUploads(Number.POSITIVE_INFINITY);
    await store.delete((await store.list('')).map((o) => o.key));
  } finally {
    store.close();
  }
}
