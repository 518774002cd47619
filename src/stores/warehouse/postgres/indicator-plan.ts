import type { Candle } from '../../../domain/index.js';

/**
 * What the warehouse needs of a streaming indicator: the contract of processors/indicators
 * (ARCHITECTURE.md §4 "Indicator"), restated here because stores must not import processors.
 * Their `Indicator` satisfies it, so the composition root passes `createIndicator` as is.
 */
export interface IndicatorBar {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Session key for session-anchored indicators (VWAP resets when it changes). */
  session?: string | undefined;
}

export interface WarehouseIndicator {
  /** ['value'] for single-output indicators; the output names of multi-output ones. */
  readonly outputs: readonly string[];
  /** Appends a bar; returns the value after it: a number, an object by output, or null in warm-up. */
  update(bar: IndicatorBar): unknown;
  /** JSON-serialisable state. */
  snapshot(): unknown;
  /** Restores a snapshot of an indicator of the same spec; throws on a foreign or damaged one. */
  restore(state: unknown): void;
}

/** The indicators the warehouse writer derives from final candles (injected by apps/). */
export interface WarehouseIndicatorSet {
  /** Specs as configured, e.g. ['rsi:14', 'macd:12:26:9'] (processing.indicators). */
  specs: readonly string[];
  /** createIndicator. */
  create: (spec: string) => WarehouseIndicator;
  /** parseIndicatorSpec: validates a spec and gives its canonical text, the `spec` stored in serving.indicators. */
  parse: (spec: string) => { spec: string };
  /** Session key of a candle (the exchange-local date), as the live indicators use it. */
  sessionOf?: (candle: Candle) => string | undefined;
}

/** One stored value column: serving.indicators has a row per (candle, spec, output). */
export interface IndicatorColumn {
  readonly spec: string;
  readonly output: string;
}

/**
 * The configured indicators, resolved once: canonical specs, their output columns, and the one
 * step every series uses to feed a candle to a set of indicators and read their values.
 */
export class IndicatorPlan {
  readonly specs: readonly string[];
  readonly columns: readonly IndicatorColumn[];
  readonly #create: (spec: string) => WarehouseIndicator;
  readonly #sessionOf: ((candle: Candle) => string | undefined) | null;
  /** Per spec: its outputs, or null for a single `value`. */
  readonly #outputs: readonly (readonly string[] | null)[];
  readonly #bar: IndicatorBar = { open: 0, high: 0, low: 0, close: 0, volume: 0, session: undefined };

  constructor(set: WarehouseIndicatorSet) {
    const specs = [...new Set(set.specs.map((s) => set.parse(s).spec))];
    this.specs = Object.freeze(specs);
    this.#create = set.create;
    this.#sessionOf = set.sessionOf ?? null;
    const outputs = specs.map((spec) => set.create(spec).outputs);
    this.#outputs = outputs.map((o) => (o.length === 1 && o[0] === 'value' ? null : o));
    this.columns = Object.freeze(specs.flatMap((spec, k) => (outputs[k] as readonly string[]).map((output) => Object.freeze({ spec, output }))));
  }

  /** A fresh indicator of the k-th spec. */
  create(k: number): WarehouseIndicator {
    return this.#create(this.specs[k] as string);
  }

  /** Independent copies (snapshot → restore), so replaying into them leaves `from` as it was. */
  copy(from: readonly WarehouseIndicator[]): WarehouseIndicator[] {
    return from.map((ind, k) => {
      const c = this.create(k);
      c.restore(ind.snapshot());
      return c;
    });
  }

  /**
   * Feeds `candle` to every indicator of a set (in spec order) and, when `values` is given, writes
   * each column's value into it (null during warm-up; NaN as null, as the live API serves it).
   */
  step(set: readonly WarehouseIndicator[], candle: Candle, values: (number | null)[] | null): void {
    const bar = this.#bar;
    bar.open = candle.open;
    bar.high = candle.high;
    bar.low = candle.low;
    bar.close = candle.close;
    bar.volume = candle.volume;
    bar.session = this.#sessionOf === null ? undefined : this.#sessionOf(candle);
    let col = 0;
    for (let k = 0; k < set.length; k++) {
      const v = (set[k] as WarehouseIndicator).update(bar);
      if (values === null) continue;
      const outs = this.#outputs[k];
      if (outs === null || outs === undefined) {
        values[col++] = numberOrNull(v);
        continue;
      }
      const rec = v as Record<string, unknown> | null;
      for (let j = 0; j < outs.length; j++) values[col++] = rec === null ? null : numberOrNull(rec[outs[j] as string]);
    }
  }
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && !Number.isNaN(v) ? v : null;
}
