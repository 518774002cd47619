import { createIndicator } from '../../src/processors/indicators/create-indicator.js';
import type { Indicator, OhlcvBar } from '../../src/processors/indicators/indicator.js';

/**
 * The chart's indicators, computed in the browser by the platform's own indicator classes (the
 * same code as the live pipeline and the batch CLI, equal to TA-Lib), so overlays cover every
 * candle on the chart — older pages loaded on scroll-back included — and follow the forming
 * candle: a new candle is `update`, the forming one changing is `replace` (O(1) each, the
 * indicator contract), and a revision of an older candle recomputes the series.
 */

/** One output of one indicator at one candle: a number, or null during warm-up. */
export type Point = Record<string, number | null>;

export interface ChartBar extends OhlcvBar {
  start: number;
}

export class ChartIndicators {
  readonly specs: readonly string[];
  #live: Indicator<unknown>[] = [];
  /** Per spec, the outputs at each bar, aligned to the bars given. */
  #values: Point[][] = [];
  #lastStart = Number.NEGATIVE_INFINITY;

  constructor(specs: readonly string[]) {
    this.specs = specs;
  }

  /** Recomputes every spec over `bars` (oldest first). */
  reset(bars: readonly ChartBar[]): void {
    this.#live = this.specs.map((s) => createIndicator(s));
    this.#values = this.#live.map((ind) => bars.map((b) => point(ind, ind.update(b))));
    this.#lastStart = bars.length === 0 ? Number.NEGATIVE_INFINITY : (bars[bars.length - 1] as ChartBar).start;
  }

  /** The newest bar: appended when its start is new, else it replaces the forming one. Returns each spec's point for it. */
  next(bar: ChartBar): Point[] {
    const append = bar.start > this.#lastStart;
    this.#lastStart = Math.max(this.#lastStart, bar.start);
    return this.#live.map((ind, i) => {
      const p = point(ind, append ? ind.update(bar) : ind.replace(bar));
      const list = this.#values[i] as Point[];
      if (append || list.length === 0) list.push(p);
      else list[list.length - 1] = p;
      return p;
    });
  }

  /** The points of spec `i`, aligned to the bars. */
  series(i: number): readonly Point[] {
    return this.#values[i] ?? [];
  }

  /** Spec `i`'s point at bar index `at`. */
  at(i: number, at: number): Point | undefined {
    return this.#values[i]?.[at];
  }
}

/** A copy of the value in its outputs' names (multi-output indicators reuse their value object). */
function point(ind: Indicator<unknown>, v: unknown): Point {
  const p: Point = {};
  if (v === null || v === undefined) for (const o of ind.outputs) p[o] = null;
  else if (typeof v === 'number') p['value'] = v;
  else for (const o of ind.outputs) p[o] = (v as Record<string, number>)[o] ?? null;
  return p;
}
