export { DedupOperator, type DedupState } from './dedup-operator.js';
export { IdHashSet, fnv1a, murmurish } from './id-hash-set.js';
