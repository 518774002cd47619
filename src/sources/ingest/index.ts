export { IngestWriter, TICKS_TOPIC, DLQ_TOPIC, type DeadLetter, type IngestWriterOptions, type IngestResult } from './ingest-writer.js';
export { ReplayResume } from './replay-resume.js';
