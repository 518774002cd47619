import type { ExchangeCode } from '../instrument.js';
import type { MarketCalendar, SessionPhase, SessionWindow } from './market-calendar.js';
import { zoneOffsetMs } from './zoned-time.js';

/**
 * A regular session that runs on into the next one without a gap for this many windows never
 * closes as far as a person can tell (CRYPTO's UTC days, the simulator's always-open demo days,
 * HOSE's morning and afternoon never chain). Eight covers a week of daily windows.
 */
const ALWAYS_OPEN_CHAIN = 8;

/** What an exchange is doing at one instant, for the dashboard's market status strip. */
export interface MarketStatus {
  readonly exchange: ExchangeCode;
  readonly timeZone: string;
  readonly phase: SessionPhase;
  /** The market never closes under this calendar (24/7 markets, the simulator's demo switch). */
  readonly alwaysOpen: boolean;
  /** Exchange-local wall clock 'HH:MM'. */
  readonly localTime: string;
  /** Exchange-local date 'YYYY-MM-DD'. */
  readonly localDate: string;
  /**
   * The next regular open after now, or after the running session's close (a re-open after lunch
   * counts); null when always open or none is known.
   */
  readonly nextOpen: number | null;
  /** End of the regular session now running (windows that touch count as one); null outside one or when always open. */
  readonly nextClose: number | null;
  /** The regular windows of the session day containing now, else of the next trading day; [] when none is known. */
  readonly sessions: readonly SessionWindow[];
}

function regularWindowAt(calendar: MarketCalendar, ts: number): SessionWindow | null {
  const day = calendar.dayAt(ts);
  if (day === null) return null;
  for (const w of day.regular) if (w.start <= ts && ts < w.end) return w;
  return null;
}

/** Follows windows that start where the last one ended; null when they chain past ALWAYS_OPEN_CHAIN. */
function sessionEnd(calendar: MarketCalendar, current: SessionWindow): number | null {
  let end = current.end;
  for (let i = 0; i < ALWAYS_OPEN_CHAIN; i++) {
    const next = regularWindowAt(calendar, end);
    if (next === null || next.start !== end) return end;
    end = next.end;
  }
  return null;
}

function wallClock(ts: number, timeZone: string): string {
  return new Date(ts + zoneOffsetMs(ts, timeZone)).toISOString().slice(11, 16);
}

/**
 * The status of `calendar`'s exchange at `now` (epoch ms). Pure: the same calendar and instant
 * give the same answer, so tests pin time. The phase is the calendar's own (`phaseAt`), so the
 * dashboard agrees with what the candle operator does with a tick at that instant.
 */
export function marketStatus(calendar: MarketCalendar, now: number): MarketStatus {
  const phase = calendar.phaseAt(now);
  const current = phase === 'regular' ? regularWindowAt(calendar, now) : null;
  const close = current === null ? null : sessionEnd(calendar, current);
  const alwaysOpen = current !== null && close === null;
  // From the close, not from now: windows that touch (UTC days of a 24-hour market) are one session.
  const open = alwaysOpen ? Number.POSITIVE_INFINITY : calendar.nextOpen(close ?? now);
  const today = calendar.dayAt(now);
  const upcoming = today ?? (Number.isFinite(open) ? calendar.dayAt(open) : null);
  return {
    exchange: calendar.exchange,
    timeZone: calendar.timeZone,
    phase,
    alwaysOpen,
    localTime: wallClock(now, calendar.timeZone),
    localDate: calendar.localDate(now),
    nextOpen: Number.isFinite(open) ? open : null,
    nextClose: close,
    sessions: upcoming === null ? [] : upcoming.regular.map((w) => ({ start: w.start, end: w.end })),
  };
}
