import { type StateRecord, stateArrayInto, stateError, stateNumber } from './state.js';

/**
 * The last `period` values of a series in a circular buffer, slot = push index mod period (the
 * order TA-Lib's circular buffers keep, which CCI's summation depends on), with one level of undo:
 * what `replace` needs to amend the newest bar. Shared by the indicators that read their window
 * (CCI, ROC, WMA); SMA keeps the same arithmetic inlined for speed (sma.ts) and SmaWindow adds a
 * running sum.
 */
export class UndoRing {
  /** The window, by slot; read-only for owners. */
  readonly values: Float64Array;
  readonly #n: number;
  #count = 0;
  #pos = 0;
  #undoSlot = 0;

  constructor(period: number) {
    this.#n = period;
    this.values = new Float64Array(period);
  }

  /** Values pushed so far. */
  get count(): number {
    return this.#count;
  }

  /** The slot the next push overwrites: after a full window, the oldest value. */
  get oldest(): number {
    return this.values[this.#pos] as number;
  }

  /** Adds `x`; returns the value it overwrote (pushed `period` pushes ago; 0 before the window fills). */
  push(x: number): number {
    const pos = this.#pos;
    const old = this.values[pos] as number;
    this.#undoSlot = old;
    this.values[pos] = x;
    this.#pos = pos + 1 === this.#n ? 0 : pos + 1;
    this.#count++;
    return old;
  }

  /** Reverts the last `push` exactly (call only after one). */
  undo(): void {
    this.#count--;
    const pos = this.#pos === 0 ? this.#n - 1 : this.#pos - 1;
    this.#pos = pos;
    this.values[pos] = this.#undoSlot;
  }

  snapshot(): StateRecord {
    return { count: this.#count, pos: this.#pos, ring: Array.from(this.values), undoSlot: this.#undoSlot };
  }

  restore(spec: string, rec: StateRecord): void {
    const pos = stateNumber(spec, rec, 'pos');
    if (!Number.isInteger(pos) || pos < 0 || pos >= this.#n) throw stateError(spec, `field "pos" out of range: ${pos}`);
    stateArrayInto(spec, rec, 'ring', this.values);
    this.#count = stateNumber(spec, rec, 'count');
    this.#pos = pos;
    this.#undoSlot = stateNumber(spec, rec, 'undoSlot');
  }
}
