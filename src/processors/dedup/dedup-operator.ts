import type { MarketEvent } from '../../domain/index.js';
import { StockStreamError } from '../../shared/errors.js';
import { BaseOperator } from '../runtime/operator.js';
import { IdHashSet, fingerprint } from './id-hash-set.js';

/** The fingerprint of the event being checked (one scratch pair: no allocation per event). */
const FP = new Uint32Array(2);

export interface DedupState {
  /** Fingerprints of remembered ids, oldest generation first: (h1, h2) uint32 pairs. */
  previous: Uint32Array;
  current: Uint32Array;
  dropped: number;
}

/**
 * Drops events whose `id` was seen recently. Sources may redeliver (a reconnect replays the last
 * seconds, a replayed file overlaps the log); dedup by id makes that harmless.
 *
 * Two generations of fingerprint sets (IdHashSet): ids go into the current one; when it holds
 * `window` ids it becomes the previous one and the old previous is cleared. So every id is
 * remembered for at least the next `window` distinct ids and at most 2 × `window`, memory is fixed
 * (per generation, a table of up to 32 bytes per id, a byte of filter per id and an 8-byte
 * insertion log per id), nothing is retained for the garbage collector, and a checkpoint is two
 * typed arrays copied from the insertion logs (the checkpoint store writes them as raw bytes).
 */
export class DedupOperator extends BaseOperator<MarketEvent, MarketEvent, DedupState> {
  readonly name = 'dedup';
  readonly #window: number;
  #current: IdHashSet;
  #previous: IdHashSet;
  #dropped = 0;
  /**
   * The previous generation's entries as of its last checkpoint. That generation never changes
   * until the next rotation, so checkpoints reuse the array instead of copying its log again.
   * Immutable once made: the checkpoint store may still be writing it in the background.
   */
  #previousEntries: Uint32Array | null = null;
  readonly #onDuplicate: ((event: MarketEvent) => void) | undefined;

  constructor(options: { window: number; onDuplicate?: (event: MarketEvent) => void }) {
    super();
    if (!Number.isInteger(options.window) || options.window < 1) throw new RangeError(`dedup window must be a positive integer, got ${options.window}`);
    this.#window = options.window;
    this.#current = new IdHashSet(options.window);
    this.#previous = new IdHashSet(options.window);
    // Empty and sealed: until the first rotation has() answers from the (zero) filter alone.
    this.#previous.seal();
    this.#onDuplicate = options.onDuplicate;
  }

  get dropped(): number {
    return this.#dropped;
  }

  override processBatch(batch: readonly MarketEvent[], out: MarketEvent[]): void {
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as MarketEvent;
      fingerprint(e.id, FP);
      const h1 = FP[0] as number;
      const h2 = FP[1] as number;
      if (this.#previous.has(h1, h2) || !this.#current.add(h1, h2)) {
        this.#dropped++;
        this.#onDuplicate?.(e);
        continue;
      }
      if (this.#current.size >= this.#window) this.#rotate();
      out.push(e);
    }
  }

  #rotate(): void {
    const old = this.#previous;
    this.#previous = this.#current;
    this.#previous.seal();
    old.clear();
    this.#current = old;
    this.#previousEntries = null;
  }

  override onCheckpoint(): DedupState {
    this.#previousEntries ??= this.#previous.entries();
    return { previous: this.#previousEntries, current: this.#current.entries(), dropped: this.#dropped };
  }

  override restore(state: DedupState): void {
    if (!(state?.previous instanceof Uint32Array) || !(state.current instanceof Uint32Array) || typeof state.dropped !== 'number') {
      throw new StockStreamError(
        'SS_PROCESS_STATE',
        'dedup checkpoint: expected {previous: Uint32Array, current: Uint32Array, dropped: number}; delete the checkpoint to rebuild from the log',
        { context: { operator: this.name } },
      );
    }
    this.#previous.clear();
    this.#current.clear();
    this.#previousEntries = null;
    const prev = state.previous;
    for (let i = 0; i + 1 < prev.length; i += 2) this.#previous.add(prev[i] as number, prev[i + 1] as number);
    this.#previous.seal();
    const cur = state.current;
    for (let i = 0; i + 1 < cur.length; i += 2) this.#current.add(cur[i] as number, cur[i + 1] as number);
    this.#dropped = state.dropped;
  }
}
