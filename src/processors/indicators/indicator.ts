/**
 * The indicator contract (ARCHITECTURE.md §4 "Indicator"). Every indicator is a streaming
 * operator over OHLCV bars: `update` appends a bar, `replace` amends the newest (forming) bar,
 * both in O(1) (CCI excepted, see cci.ts). Values equal TA-Lib's (https://ta-lib.org/functions/)
 * for every indicator TA-Lib has: same first valid index, same values to 1e-9 relative.
 */
export interface OhlcvBar {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Session key for VWAP reset, e.g. the exchange-local date 'YYYY-MM-DD'; optional. */
  session?: string;
}

export interface Indicator<V> {
  /** Canonical spec, e.g. 'macd:12:26:9'. */
  readonly spec: string;
  /** ['value'] for single-output indicators; the output names of multi-output ones. */
  readonly outputs: readonly string[];
  /** Bars needed before the first non-null value (= TA-Lib lookback + 1). */
  readonly warmup: number;
  /** Appends a new bar and returns the value after it (null during warm-up). */
  update(bar: OhlcvBar): V | null;
  /**
   * Amends the newest bar (the forming candle) in O(1): the result equals calling `update` with
   * this bar instead of the one it replaces. Before any bar was added it behaves like `update`.
   */
  replace(bar: OhlcvBar): V | null;
  readonly value: V | null;
  /** True once past warm-up. */
  readonly isStable: boolean;
  /** JSON-serialisable state (for checkpoints and late-candle amendments). */
  snapshot(): unknown;
  /** Restores a `snapshot()` of an indicator with the same spec; `replace` keeps working after it. */
  restore(state: unknown): void;
}

export const VALUE_OUTPUTS = Object.freeze(['value'] as const);
export const MACD_OUTPUTS = Object.freeze(['macd', 'signal', 'histogram'] as const);
export const BBANDS_OUTPUTS = Object.freeze(['upper', 'middle', 'lower'] as const);
export const STOCH_OUTPUTS = Object.freeze(['k', 'd'] as const);

export interface MacdValue {
  macd: number;
  signal: number;
  histogram: number;
}

export interface BbandsValue {
  upper: number;
  middle: number;
  lower: number;
}

export interface StochValue {
  k: number;
  d: number;
}

/**
 * TA-Lib's TA_IS_ZERO with TA_EPSILON = 1e-14 (ta_utility.h of the TA-Lib bundled with
 * node talib 1.1.6): RSI and ADX treat sums inside this band as zero.
 */
export const TA_EPSILON = 1e-14;

export function isTaZero(v: number): boolean {
  return -TA_EPSILON < v && v < TA_EPSILON;
}

/**
 * TA-Lib's TRUE_RANGE macro (ta_TRANGE.c): the greatest of high - low, |prevClose - high| and
 * |prevClose - low|, compared in that order so ties resolve like TA-Lib.
 */
export function trueRange(high: number, low: number, prevClose: number): number {
  let greatest = high - low;
  const toHigh = Math.abs(prevClose - high);
  if (toHigh > greatest) greatest = toHigh;
  const toLow = Math.abs(prevClose - low);
  if (toLow > greatest) greatest = toLow;
  return greatest;
}
