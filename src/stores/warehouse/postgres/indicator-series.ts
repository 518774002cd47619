import type { Candle } from '../../../domain/index.js';
import type { IndicatorPlan, WarehouseIndicator } from './indicator-plan.js';

/** What became of a candle offered to a series. */
export type SeriesOutcome =
  /** Values derived (for it, and for the newer candles a revision changes). */
  | 'applied'
  /** An older revision than the one applied (a replay): nothing changes. */
  | 'stale'
  /** The revision already applied, same bar (a replay): nothing changes. */
  | 'duplicate'
  /** Older than the revision window: the candle row is still upserted, its indicators are not re-derived. */
  | 'outside'
  /** Not final: indicators are derived from final candles only. */
  | 'forming';

/** Receives the values of one candle: one per plan column, in column order. */
export type ValuesSink = (candle: Candle, values: (number | null)[]) => void;

/** The durable part of a series' state: what serving.indicator_state holds. */
export interface SeriesSnapshot {
  /** Start of the newest candle folded into the tail; -Infinity for none. */
  readonly tailStart: number;
  /** Per canonical spec, the tail indicator's snapshot. */
  readonly state: Record<string, unknown>;
}

/**
 * The indicators of one (symbol, interval) in the warehouse writer, in candle order.
 *
 * Two sets of indicators: the *head* has seen every candle (a new candle costs one update per
 * spec), the *tail* every candle but the newest `window`, which are held. A revision (rev > 0 of
 * a held bucket; the pipeline amends a candle only within its allowed lateness, so only the last
 * few of a series) replaces the held candle, and a copy of the tail replays the held candles:
 * the values of the revised candle and of every newer one are re-derived, exactly as a run that
 * saw only the final revision. A revision older than the window is not re-derived ('outside';
 * the candle row itself is still upserted): it would need the indicator state before it, which
 * is gone; the window is sized far beyond the allowed lateness so this does not happen in
 * practice, and the writer counts it if it does.
 *
 * The tail's snapshot plus the held candles (which are in serving.candles, written in the same
 * transaction as the snapshot) are the whole state, so `load` rebuilds the series exactly after a
 * restart: the values continue as in a run without one (OBV's running total and EMA's seed
 * included, which re-reading only the last N candles could not reproduce).
 */
export class IndicatorSeries {
  readonly #plan: IndicatorPlan;
  readonly #window: number;
  readonly #tail: WarehouseIndicator[];
  #tailStart: number;
  /** The newest candles, oldest first, at most `window` (briefly window + 1 inside apply). */
  readonly #held: Candle[];
  #head: WarehouseIndicator[];

  private constructor(plan: IndicatorPlan, window: number, tail: WarehouseIndicator[], tailStart: number, held: Candle[]) {
    this.#plan = plan;
    this.#window = window;
    this.#tail = tail;
    this.#tailStart = tailStart;
    this.#held = held;
    this.#evictOverflow();
    this.#head = this.#replay(this.#held.length, null);
  }

  /**
   * Rebuilds a series from its stored snapshot (null: none) and candles read back from the
   * warehouse, oldest first: every candle after `stored.tailStart`, and for specs the snapshot
   * lacks (a spec added to the configuration, a snapshot that no longer restores) or with no
   * snapshot at all, the newest candles up to it, which warm those specs up. Returns the specs
   * that had no snapshot to restore: when candles older than the read-back exist, their values
   * only approximate a run from the series' first candle (the writer logs it).
   */
  static load(plan: IndicatorPlan, window: number, stored: SeriesSnapshot | null, candles: readonly Candle[]): { series: IndicatorSeries; warmed: string[] } {
    const tailStart = stored?.tailStart ?? Number.NEGATIVE_INFINITY;
    const warmed: string[] = [];
    const tail = plan.specs.map((spec, k) => {
      const ind = plan.create(k);
      const state = stored?.state[spec];
      if (state !== undefined) {
        try {
          ind.restore(state);
          return ind;
        } catch {
          // A snapshot of another indicator version: warm this spec up from the candles instead.
        }
      }
      warmed.push(spec);
      return plan.create(k);
    });
    const warm = tail.filter((_, k) => warmed.includes(plan.specs[k] as string));
    const held: Candle[] = [];
    for (const c of candles) {
      if (c.start > tailStart) held.push(c);
      else if (warm.length > 0) plan.step(warm, c, null);
    }
    return { series: new IndicatorSeries(plan, window, tail, tailStart, held), warmed };
  }

  /** Offers the next candle of the series; `emit` gets the values of every candle whose values it derived. */
  apply(c: Candle, emit: ValuesSink): SeriesOutcome {
    if (!c.final) return 'forming';
    if (c.start <= this.#tailStart) return 'outside';
    const held = this.#held;
    const n = held.length;
    const newest = held[n - 1];
    if (newest === undefined || c.start > newest.start) {
      held.push(c);
      const values = new Array<number | null>(this.#plan.columns.length);
      this.#plan.step(this.#head, c, values);
      emit(c, values);
      this.#evictOverflow();
      return 'applied';
    }
    let i = n - 1;
    while (i > 0 && (held[i] as Candle).start > c.start) i--;
    const at = held[i] as Candle;
    if (at.start === c.start) {
      if (c.rev < at.rev) return 'stale';
      if (c.rev === at.rev && sameBar(c, at)) return 'duplicate';
      held[i] = c;
    } else {
      // A bucket between two held ones (or before them all) that was never seen: insert in order.
      if (at.start < c.start) i++;
      held.splice(i, 0, c);
    }
    this.#head = this.#replay(i, emit);
    this.#evictOverflow();
    return 'applied';
  }

  snapshot(): SeriesSnapshot {
    const state: Record<string, unknown> = {};
    const specs = this.#plan.specs;
    for (let k = 0; k < specs.length; k++) state[specs[k] as string] = (this.#tail[k] as WarehouseIndicator).snapshot();
    return { tailStart: this.#tailStart, state };
  }

  /** A copy of the tail that has replayed the held candles, emitting values from the `from`-th on. */
  #replay(from: number, emit: ValuesSink | null): WarehouseIndicator[] {
    const plan = this.#plan;
    const set = plan.copy(this.#tail);
    const held = this.#held;
    for (let i = 0; i < held.length; i++) {
      const c = held[i] as Candle;
      if (emit === null || i < from) {
        plan.step(set, c, null);
        continue;
      }
      const values = new Array<number | null>(plan.columns.length);
      plan.step(set, c, values);
      emit(c, values);
    }
    return set;
  }

  /** Folds the held candles beyond the window into the tail, oldest first. */
  #evictOverflow(): void {
    const held = this.#held;
    while (held.length > this.#window) {
      const c = held.shift() as Candle;
      this.#plan.step(this.#tail, c, null);
      this.#tailStart = c.start;
    }
  }
}

function sameBar(a: Candle, b: Candle): boolean {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume && a.end === b.end;
}
