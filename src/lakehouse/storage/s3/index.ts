export { S3ObjectStore, MIN_PART_BYTES, isRetryableS3Error, type S3ObjectStoreOptions } from './s3-object-store.js';
