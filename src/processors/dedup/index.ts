export { DedupOperator, type DedupState } from './dedup-operator.js';
export { IdHashSet, fingerprint } from './id-hash-set.js';
