export { ReplaySource, type ReplaySourceOptions, type ReplayFormat, type ReplayClock } from './replay-source.js';
export { RowDecoder, type Cell } from './row-decoder.js';
export { parseEventTime } from './event-time.js';
export { splitCsvLine } from './csv-line.js';
export { openForReading } from './file-error.js';
