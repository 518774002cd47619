import type { ExchangeCode } from '../instrument.js';

/** Where a timestamp falls in an exchange's trading day. `lunch` is the break between regular windows. */
export type SessionPhase = 'pre' | 'regular' | 'post' | 'lunch' | 'closed';

/** A half-open time window [start, end), epoch ms (UTC). */
export interface SessionWindow {
  readonly start: number;
  readonly end: number;
}

/** One trading day of one exchange; all times epoch ms (UTC), every window half-open [start, end). */
export interface SessionDay {
  /** Exchange-local date 'YYYY-MM-DD' (the daily bar's key). */
  readonly date: string;
  /** Regular trading windows in order, e.g. NYSE [09:30–16:00], HOSE [09:00–11:30, 13:00–14:45]. */
  readonly regular: readonly SessionWindow[];
  /** Pre-market, e.g. NYSE 04:00–09:30; null where the exchange has none. */
  readonly pre: SessionWindow | null;
  /** After-hours, e.g. NYSE 16:00–20:00; null where the exchange has none. */
  readonly post: SessionWindow | null;
}

/**
 * The trading calendar of one exchange. Called per tick on the hot path: `phaseAt` and `dayAt`
 * are O(1) amortised (a cached segment is checked before any time-zone arithmetic).
 */
export interface MarketCalendar {
  readonly exchange: ExchangeCode;
  /** IANA time zone of the exchange ('UTC' for crypto). */
  readonly timeZone: string;
  /** Start inclusive, end exclusive: 09:30:00.000 is regular, 16:00:00.000 is post on NYSE. */
  phaseAt(ts: number): SessionPhase;
  /**
   * The trading day whose span (pre start, or first regular open, to post end, or last regular
   * close) contains ts, lunch break included; null on holidays, weekends and outside that span.
   */
  dayAt(ts: number): SessionDay | null;
  /** The session day for an exchange-local date 'YYYY-MM-DD', or null if it is not a trading day. */
  day(date: string): SessionDay | null;
  /**
   * The next regular window open strictly after ts (a re-open after lunch counts), or
   * +Infinity when none is found within ten years (a holiday list that closes everything).
   */
  nextOpen(ts: number): number;
  /** True when the exchange-local date 'YYYY-MM-DD' is a trading day. */
  isTradingDate(date: string): boolean;
  /** The exchange-local date 'YYYY-MM-DD' of ts. */
  localDate(ts: number): string;
}

export interface CalendarOptions {
  /**
   * Exchange-local full-day holidays 'YYYY-MM-DD'. Replaces the built-in list when given
   * (pass [] for none).
   */
  holidays?: readonly string[];
  /**
   * Early closes: exchange-local date → regular close 'HH:MM'; post-market (where the exchange
   * has one) then runs from that close for its usual length. Replaces the built-in list when given.
   */
  earlyCloses?: Readonly<Record<string, string>>;
  /**
   * Demo switch: every timestamp is regular session; days are exchange-local dates with one
   * window covering the whole local day (23 or 25 h on DST days), no pre/post, no holidays.
   */
  alwaysOpen?: boolean;
}
