import type { MarketEvent } from '../../domain/index.js';
import { BaseOperator } from '../runtime/operator.js';

export interface DedupState {
  /** Remembered ids, oldest first. */
  ids: string[];
  dropped: number;
}

/**
 * Drops events whose `id` was seen among the last `window` distinct ids. Sources may redeliver
 * (a reconnect replays the last seconds, a replayed file overlaps the log); dedup by id makes that
 * harmless. Bounded: a ring of ids plus a Set, so memory is O(window) however long it runs.
 */
export class DedupOperator extends BaseOperator<MarketEvent, MarketEvent, DedupState> {
  readonly name = 'dedup';
  readonly #window: number;
  readonly #ring: (string | undefined)[];
  readonly #seen = new Set<string>();
  #next = 0;
  #dropped = 0;
  readonly #onDuplicate: ((event: MarketEvent) => void) | undefined;

  constructor(options: { window: number; onDuplicate?: (event: MarketEvent) => void }) {
    super();
    if (!Number.isInteger(options.window) || options.window < 1) throw new RangeError(`dedup window must be a positive integer, got ${options.window}`);
    this.#window = options.window;
    this.#ring = new Array<string | undefined>(options.window).fill(undefined);
    this.#onDuplicate = options.onDuplicate;
  }

  get dropped(): number {
    return this.#dropped;
  }

  override processBatch(batch: readonly MarketEvent[], out: MarketEvent[]): void {
    const seen = this.#seen;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as MarketEvent;
      if (seen.has(e.id)) {
        this.#dropped++;
        this.#onDuplicate?.(e);
        continue;
      }
      this.#remember(e.id);
      out.push(e);
    }
  }

  #remember(id: string): void {
    const evicted = this.#ring[this.#next];
    if (evicted !== undefined) this.#seen.delete(evicted);
    this.#ring[this.#next] = id;
    this.#seen.add(id);
    this.#next = (this.#next + 1) % this.#window;
  }

  override onCheckpoint(): DedupState {
    const ids: string[] = [];
    for (let i = 0; i < this.#window; i++) {
      const id = this.#ring[(this.#next + i) % this.#window];
      if (id !== undefined) ids.push(id);
    }
    return { ids, dropped: this.#dropped };
  }

  override restore(state: DedupState): void {
    this.#seen.clear();
    this.#ring.fill(undefined);
    this.#next = 0;
    const start = Math.max(0, state.ids.length - this.#window);
    for (let i = start; i < state.ids.length; i++) this.#remember(state.ids[i] as string);
    this.#dropped = state.dropped;
  }
}
