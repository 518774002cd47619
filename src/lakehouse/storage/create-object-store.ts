import type { Config } from '../../shared/config/schema.js';
import type { Logger } from '../../shared/logger.js';
import type { ObjectStore } from './object-store.js';

/** The `lake.storage` settings (src/shared/config/schema.ts). */
export type LakeStorageSettings = Config['lake']['storage'];

/**
 * The lake's object store for `lake.storage`: null for `local` (the lake directory alone), an
 * S3ObjectStore for `s3`. Hand it to `Lakehouse.open({ objectStore })`, which mirrors the lake
 * into it (and owns it from then on). The AWS SDK is loaded only here and only for `s3`, so the
 * embedded default never loads it.
 */
export async function createObjectStore(storage: LakeStorageSettings, logger?: Logger): Promise<ObjectStore | null> {
  if (storage.kind === 'local') return null;
  const { S3ObjectStore } = await import('./s3/s3-object-store.js');
  const s = storage.s3;
  return new S3ObjectStore({
    bucket: s.bucket,
    prefix: s.prefix,
    endpoint: s.endpoint,
    region: s.region,
    accessKeyId: s.accessKeyId,
    secretAccessKey: s.secretAccessKey,
    forcePathStyle: s.forcePathStyle,
    partSizeBytes: s.partSizeBytes,
    maxAttempts: s.maxAttempts,
    ...(logger ? { logger } : {}),
  });
}
