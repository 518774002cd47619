export { DedupOperator, type DedupState } from './dedup-operator.js';
