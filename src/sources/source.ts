/**
 * The source contract (ARCHITECTURE.md §1, §4): feed handlers hand raw records to a sink that makes
 * them durable in the log; validation happens once, at ingest, not here.
 */

/** What a source hands over: raw records (JSON text or plain objects shaped like the market-event wire format in src/domain/validate.ts). The ingest stage validates them once. */
export type RawRecord = string | Record<string, unknown>;
export interface SourceSink {
  /** Resolves once the batch is durable in the log; a source awaits it before producing more (backpressure, ack-after-durable). */
  (batch: RawRecord[]): Promise<void>;
}
export interface Source {
  readonly name: string;
  /** Runs until stop() or the end of input; resolves when done. Errors that end the source reject. */
  run(sink: SourceSink): Promise<void>;
  stop(): Promise<void>;
}
