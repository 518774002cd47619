import { StockStreamError } from '../shared/errors.js';
import type { RawRecord, SourceSink } from './source.js';

/**
 * The run/stop state every source shares: runs once, stops from outside or from an AbortSignal,
 * interrupts its sleeps, and lets `stop()` resolve only when `run()` has finished.
 *
 * `stop()` called while the sink is being awaited (typically from inside the sink itself) resolves
 * at once instead of waiting for `run()`: `run()` is waiting on that very sink call, so waiting for
 * it there would deadlock. Nothing more is produced after that sink call returns.
 */
export class SourceLifecycle {
  readonly #name: string;
  readonly #abort = new AbortController();
  #running: Promise<void> | null = null;
  #inSink = false;

  constructor(name: string, signal?: AbortSignal) {
    this.#name = name;
    if (signal !== undefined) {
      if (signal.aborted) this.#abort.abort();
      else signal.addEventListener('abort', () => this.#abort.abort(), { once: true });
    }
  }

  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Aborted by stop() or by the caller's signal; hand it to sleeps and readers. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Starts `body` once; a second run() while the first is going is a caller bug. */
  run(body: () => Promise<void>): Promise<void> {
    if (this.#running !== null) {
      return Promise.reject(
        new StockStreamError('SS_INTERNAL', `source ${this.#name}: run() called twice; a source runs once, create a new one to run again`),
      );
    }
    this.#running = body();
    return this.#running;
  }

  async deliver(sink: SourceSink, batch: RawRecord[]): Promise<void> {
    this.#inSink = true;
    try {
      await sink(batch);
    } finally {
      this.#inSink = false;
    }
  }

  /** Sleeps `ms` or until stopped, whichever comes first; never rejects. */
  sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.#abort.signal);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#running === null || this.#inSink) return;
    // run()'s own rejection belongs to whoever awaits run(); stop() only waits for it to end.
    await this.#running.catch(() => undefined);
  }
}

/** setTimeout-based sleep that resolves early (never rejects) when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
