import type { RawRecord } from '../source.js';

/**
 * A run of records read from a file, with their event times for pacing (NaN where the time is
 * unknown or unreadable: such records travel with their neighbours and ingest rejects them).
 * Readers yield chunks of at most `batchSize` records so memory stays flat on multi-GB files.
 */
export interface ReplayChunk {
  readonly records: RawRecord[];
  readonly times: number[];
}

export interface ReaderOptions {
  readonly file: string;
  readonly source: string;
  readonly batchSize: number;
  /** Whether the pacer needs event times; 'max' speed skips extracting them. */
  readonly needTimes: boolean;
}
