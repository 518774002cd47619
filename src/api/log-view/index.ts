export { recordValue, MAX_VALUE_BYTES, type RecordValue, type ValueEncoding } from './record-value.js';
export { readRange, type LogReader } from '../../log/read-range.js';
