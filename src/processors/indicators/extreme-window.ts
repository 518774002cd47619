import { type StateRecord, stateArrayInto, stateError, stateNumber } from './state.js';

/**
 * Sliding-window maximum (or minimum) in amortised O(1) with a monotonic deque: indices whose
 * value can never again be the extreme are dropped from the back, expired ones from the front.
 * Used by STOCH and WILLR for the highest high / lowest low of the last `period` bars; the extreme
 * is the same value TA-Lib finds by rescanning (ta_STOCH.c, ta_WILLR.c), so results match exactly.
 *
 * The deque lives in a power-of-two circular array addressed by ever-growing head/tail counters.
 * Popping only moves a counter and a push writes one slot, so `undo` restores the two counters and
 * that one slot: O(1) even when the push popped many entries.
 */
export class ExtremeWindow {
  readonly #n: number;
  readonly #isMax: boolean;
  readonly #mask: number;
  readonly #index: Float64Array;
  readonly #value: Float64Array;
  #count = 0;
  #head = 0;
  #tail = 0;
  #undoHead = 0;
  #undoTail = 0;
  #undoIndex = 0;
  #undoValue = 0;

  constructor(period: number, isMax: boolean) {
    this.#n = period;
    this.#isMax = isMax;
    let cap = 1;
    while (cap < period) cap *= 2;
    this.#mask = cap - 1;
    this.#index = new Float64Array(cap);
    this.#value = new Float64Array(cap);
  }

  /** Adds a value; returns the extreme of the last `period` values (fewer while warming up). */
  push(x: number): number {
    const t = this.#count++;
    const mask = this.#mask;
    const index = this.#index;
    const value = this.#value;
    let head = this.#head;
    let tail = this.#tail;
    this.#undoHead = head;
    this.#undoTail = tail;
    if (head < tail && (index[head & mask] as number) <= t - this.#n) head++;
    if (this.#isMax) {
      while (tail > head && (value[(tail - 1) & mask] as number) <= x) tail--;
    } else {
      while (tail > head && (value[(tail - 1) & mask] as number) >= x) tail--;
    }
    const slot = tail & mask;
    this.#undoIndex = index[slot] as number;
    this.#undoValue = value[slot] as number;
    index[slot] = t;
    value[slot] = x;
    this.#head = head;
    this.#tail = tail + 1;
    return value[head & mask] as number;
  }

  undo(): void {
    this.#count--;
    // The last push wrote at (its tail before the write) = final tail - 1.
    const slot = (this.#tail - 1) & this.#mask;
    this.#index[slot] = this.#undoIndex;
    this.#value[slot] = this.#undoValue;
    this.#head = this.#undoHead;
    this.#tail = this.#undoTail;
  }

  snapshot(): StateRecord {
    return {
      count: this.#count,
      head: this.#head,
      tail: this.#tail,
      index: Array.from(this.#index),
      value: Array.from(this.#value),
      undoHead: this.#undoHead,
      undoTail: this.#undoTail,
      undoIndex: this.#undoIndex,
      undoValue: this.#undoValue,
    };
  }

  restore(spec: string, rec: StateRecord): void {
    const head = stateNumber(spec, rec, 'head');
    const tail = stateNumber(spec, rec, 'tail');
    if (!(head <= tail && tail - head <= this.#mask + 1)) throw stateError(spec, `deque bounds ${head}..${tail} are invalid`);
    stateArrayInto(spec, rec, 'index', this.#index);
    stateArrayInto(spec, rec, 'value', this.#value);
    this.#count = stateNumber(spec, rec, 'count');
    this.#head = head;
    this.#tail = tail;
    this.#undoHead = stateNumber(spec, rec, 'undoHead');
    this.#undoTail = stateNumber(spec, rec, 'undoTail');
    this.#undoIndex = stateNumber(spec, rec, 'undoIndex');
    this.#undoValue = stateNumber(spec, rec, 'undoValue');
  }
}
