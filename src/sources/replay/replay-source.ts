import { extname } from 'node:path';
import { StockStreamError } from '../../shared/errors.js';
import type { RawRecord, Source, SourceSink } from '../source.js';
import { abortableSleep, SourceLifecycle } from '../source-lifecycle.js';
import { readCsv } from './csv-reader.js';
import { readNdjson } from './ndjson-reader.js';
import { readParquet } from './parquet-reader.js';
import type { ReaderOptions, ReplayChunk } from './replay-chunk.js';

export type ReplayFormat = 'csv' | 'ndjson' | 'parquet';

/** Wall clock for pacing; tests inject a fake one instead of measuring time. */
export interface ReplayClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves after `ms`, or early (never rejecting) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface ReplaySourceOptions {
  file: string;
  /** N replays at N × the file's event-time pace; 'max' as fast as the sink accepts. */
  speed: number | 'max';
  /** Default: from the extension (.csv; .ndjson, .jsonl, .json; .parquet). */
  format?: ReplayFormat;
  /** The `source` field of decoded CSV/Parquet rows. Default 'replay'. */
  source?: string;
  /** Largest batch handed to the sink. Default 1,000. */
  batchSize?: number;
  /** Aborting it stops the replay like stop(). */
  signal?: AbortSignal;
  clock?: ReplayClock;
}

const DEFAULT_BATCH = 1_000;
// Paced replay sends events whose due times fall within this many wall-clock ms as one batch:
// fine enough to keep the file's rhythm, coarse enough to avoid a timer per event.
const PACING_WINDOW_MS = 10;

const SYSTEM_CLOCK: ReplayClock = { now: () => performance.now(), sleep: abortableSleep };

const EXTENSIONS: Readonly<Record<string, ReplayFormat>> = {
  '.csv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'ndjson',
  '.parquet': 'parquet',
};

/**
 * Replays a recorded file of ticks or bars, keeping each event's own time (ARCHITECTURE.md §5
 * `stockstream replay <file> --speed N|max`). Paced replay schedules each batch at
 * start + (event time − first event time) / speed on the wall clock, so a slow sink delays but
 * does not stretch the replay; events out of time order go out as soon as they are read.
 * A malformed line or row is passed on for ingest to reject; only an unreadable file, an unknown
 * format or a header missing required columns ends the replay with SS_CLI_FILE.
 */
export class ReplaySource implements Source {
  readonly name: string;
  readonly file: string;
  readonly format: ReplayFormat;
  readonly #speed: number;
  readonly #batchSize: number;
  readonly #clock: ReplayClock;
  readonly #life: SourceLifecycle;
  #delivered = 0;

  constructor(options: ReplaySourceOptions) {
    const { file, speed } = options;
    const bad = (field: string, value: unknown, want: string): never => {
      throw new StockStreamError('SS_CONFIG_INVALID', `replay.${field}: expected ${want}, got ${String(value)}; fix the replay options (e.g. --speed 10 or --speed max)`, {
        context: { field, value },
      });
    };
    if (typeof file !== 'string' || file === '') bad('file', file, 'a file path');
    if (speed !== 'max' && !(typeof speed === 'number' && Number.isFinite(speed) && speed > 0)) bad('speed', speed, 'a positive number or "max"');
    if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize >= 1)) bad('batchSize', options.batchSize, 'a positive integer');
    this.file = file;
    this.name = options.source ?? 'replay';
    this.#speed = speed === 'max' ? Infinity : speed;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#life = new SourceLifecycle(this.name, options.signal);
    const format = options.format ?? EXTENSIONS[extname(file).toLowerCase()];
    if (format === undefined) {
      throw new StockStreamError(
        'SS_CLI_FILE',
        `${file}: cannot tell the format from the extension "${extname(file)}"; use .csv, .ndjson, .jsonl, .json or .parquet, or pass the format (csv, ndjson, parquet)`,
        { context: { file } },
      );
    }
    this.format = format;
  }

  /** Records handed to the sink so far (for progress reporting). */
  get delivered(): number {
    return this.#delivered;
  }

  run(sink: SourceSink): Promise<void> {
    return this.#life.run(() => this.#loop(sink));
  }

  stop(): Promise<void> {
    return this.#life.stop();
  }

  #reader(): AsyncGenerator<ReplayChunk> {
    const o: ReaderOptions = { file: this.file, source: this.name, batchSize: this.#batchSize, needTimes: this.#speed !== Infinity };
    return this.format === 'csv' ? readCsv(o) : this.format === 'parquet' ? readParquet(o) : readNdjson(o);
  }

  async #loop(sink: SourceSink): Promise<void> {
    const life = this.#life;
    const paced = this.#speed !== Infinity;
    const windowMs = PACING_WINDOW_MS * this.#speed;
    let batch: RawRecord[] = [];
    let batchT = NaN;
    // Anchors of the pacing schedule: first event time and the wall clock when it went out.
    let t0 = NaN;
    let w0 = NaN;

    const flush = async (): Promise<void> => {
      const out = batch;
      batch = [];
      if (paced && Number.isFinite(batchT)) {
        if (Number.isNaN(t0)) {
          t0 = batchT;
          w0 = this.#clock.now();
        } else {
          const wait = w0 + (batchT - t0) / this.#speed - this.#clock.now();
          if (wait > 0) await this.#clock.sleep(wait, life.signal);
        }
      }
      batchT = NaN;
      if (life.stopped || out.length === 0) return;
      await life.deliver(sink, out);
      this.#delivered += out.length;
    };

    for await (const chunk of this.#reader()) {
      if (life.stopped) break;
      if (!paced) {
        await life.deliver(sink, chunk.records);
        this.#delivered += chunk.records.length;
        continue;
      }
      const { records, times } = chunk;
      for (let i = 0; i < records.length; i++) {
        const t = times[i] as number;
        if (batch.length > 0 && (batch.length >= this.#batchSize || (Number.isFinite(t) && Number.isFinite(batchT) && Math.abs(t - batchT) > windowMs))) {
          await flush();
          if (life.stopped) return;
        }
        if (Number.isNaN(batchT) && Number.isFinite(t)) batchT = t;
        batch.push(records[i] as RawRecord);
      }
    }
    if (!life.stopped && batch.length > 0) await flush();
  }
}
