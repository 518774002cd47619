// The S3 adapter is not re-exported: importing it loads the AWS SDK, which the embedded default
// must not. Import it from './s3/index.js', or let createObjectStore load it when configured.
export { type ObjectStore, type ObjectStoreStats, type PutResult, type StoredObject } from './object-store.js';
export { createObjectStore, type LakeStorageSettings } from './create-object-store.js';
export { BucketCatalog, CATALOG_PREFIX, type BucketEntry, type BucketFileRow, type OpenTransaction } from './bucket-catalog.js';
export { LakeMirror, type LakeMirrorOptions, type LakeMirrorStats } from './lake-mirror.js';
export { restoreLake, type RestoreOptions, type RestoreResult } from './lake-restore.js';
