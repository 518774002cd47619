import { INTERVALS, type Interval, type MarketCalendar, type MarketEvent } from '../../domain/index.js';

/** What `onLate` is told about an event that came after its bucket was dropped. */
export interface LateInfo {
  readonly interval: Interval;
  readonly bucketStart: number;
  readonly watermark: number;
}

export interface CandleOperatorOptions {
  /** Intervals to build; default all six. */
  intervals?: readonly Interval[];
  /** The exchange calendar of a symbol; asked once per symbol, the answer is kept. */
  calendarOf: (symbol: string) => MarketCalendar;
  /** How long after the watermark passes a bucket end its candle is kept for amendments (ms). Default 2000. */
  allowedLatenessMs?: number;
  /** Emit flat candles for buckets without trades inside a regular window (see `CandleOperator`). Default true. */
  fillGaps?: boolean;
  /** Candle pre/post-market trades too (buckets aligned to the pre/post window open). Default false. */
  includeExtendedHours?: boolean;
  /** Called for each (event, interval) whose bucket was already dropped; the event is not applied there. */
  onLate?: (event: MarketEvent, info: LateInfo) => void;
  /**
   * Most flat candles one watermark call may create per (symbol, interval). A watermark that
   * jumps over a long idle stretch (a replay catching up, a restart after hours) would otherwise
   * emit up to 86 400 one-second candles per symbol at once; past the cap the remaining passed
   * buckets are skipped (counted in `fillsSkipped`) and filling resumes from the watermark.
   * Default 600 (ten minutes of 1s candles, ten hours of 1m candles).
   */
  maxFillsPerCall?: number;
  /**
   * Push the operator's own candle objects instead of a copy per update. Each is a Candle whose
   * values change in place as later calls amend the same bucket (JSON gives exactly the Candle
   * fields), so a holder always reads the newest version of that bucket: what the live store
   * (which copies at once) and the stream hub (which coalesces to the newest anyway) want, and
   * one object per bucket instead of six per trade. Anything kept as a record of one version
   * (the log) must copy or serialize it during the call. Default false: independent copies.
   */
  liveOutput?: boolean;
}

export interface ResolvedCandleOptions {
  readonly intervals: readonly Interval[];
  readonly calendarOf: (symbol: string) => MarketCalendar;
  readonly allowedLatenessMs: number;
  readonly fillGaps: boolean;
  readonly includeExtendedHours: boolean;
  readonly onLate: ((event: MarketEvent, info: LateInfo) => void) | null;
  readonly maxFillsPerCall: number;
  readonly liveOutput: boolean;
}

/** Applies defaults and checks ranges once, at construction; throws RangeError naming the option. */
export function resolveCandleOptions(o: CandleOperatorOptions): ResolvedCandleOptions {
  const intervals = o.intervals ?? INTERVALS;
  for (const i of intervals) {
    if (!(INTERVALS as readonly string[]).includes(i)) {
      throw new RangeError(`intervals: expected a subset of ${INTERVALS.join(', ')}, got ${JSON.stringify(i)}`);
    }
  }
  const allowedLatenessMs = o.allowedLatenessMs ?? 2000;
  if (!(Number.isFinite(allowedLatenessMs) && allowedLatenessMs >= 0)) {
    throw new RangeError(`allowedLatenessMs: expected a finite number >= 0, got ${allowedLatenessMs}`);
  }
  const maxFillsPerCall = o.maxFillsPerCall ?? 600;
  if (!(Number.isInteger(maxFillsPerCall) && maxFillsPerCall >= 0)) {
    throw new RangeError(`maxFillsPerCall: expected an integer >= 0, got ${maxFillsPerCall}`);
  }
  return {
    // Smallest first, deduplicated: bars feed lanes by rank.
    intervals: INTERVALS.filter((i) => intervals.includes(i)),
    calendarOf: o.calendarOf,
    allowedLatenessMs,
    fillGaps: o.fillGaps ?? true,
    includeExtendedHours: o.includeExtendedHours ?? false,
    onLate: o.onLate ?? null,
    maxFillsPerCall,
    liveOutput: o.liveOutput ?? false,
  };
}
