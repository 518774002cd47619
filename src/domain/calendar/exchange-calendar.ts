import type { ExchangeCode } from '../instrument.js';
import type { MarketCalendar, SessionDay, SessionPhase, SessionWindow } from './market-calendar.js';
import { addDays, localDateOf, parseDate, weekday, zonedToUtc } from './zoned-time.js';

/** Minutes after local midnight, [start, end). */
export type ClockWindow = readonly [number, number];

/** What distinguishes one exchange's calendar from another; times are exchange-local minutes. */
export interface ExchangeSpec {
  readonly exchange: ExchangeCode;
  readonly timeZone: string;
  readonly regular: readonly ClockWindow[];
  readonly pre: ClockWindow | null;
  readonly post: ClockWindow | null;
  /** Saturdays and Sundays are closed. */
  readonly weekdaysOnly: boolean;
  readonly holidays: ReadonlySet<string>;
  /** Local date → regular close in minutes. */
  readonly earlyCloses: ReadonlyMap<string, number>;
  /** Every instant is regular session, one window per local day (the demo switch). */
  readonly alwaysOpen: boolean;
}

/** A stretch of one local day with one phase; `day` is null outside the trading day's span. */
interface Segment {
  readonly start: number;
  readonly end: number;
  readonly phase: SessionPhase;
  readonly day: SessionDay | null;
}

/** One local date: its UTC span [from, to) cut into segments that cover it without gaps. */
interface DateEntry {
  readonly date: string;
  readonly from: number;
  readonly to: number;
  readonly day: SessionDay | null;
  readonly segments: readonly Segment[];
}

/** Dates kept in the cache; a replay over decades stays bounded, a live process never hits it. */
const MAX_CACHED_DATES = 4096;
/** nextOpen gives up after this many dates without an open (a holiday list that closes everything). */
const MAX_SCAN_DATES = 3660;

/**
 * A MarketCalendar computed from an ExchangeSpec. Each local date is built once (time-zone
 * conversion through Intl) and cached; the last segment and the last date are checked first so
 * per-tick calls do no time-zone arithmetic.
 */
export class ExchangeCalendar implements MarketCalendar {
  readonly exchange: ExchangeCode;
  readonly timeZone: string;
  readonly #spec: ExchangeSpec;
  readonly #dates = new Map<string, DateEntry>();
  #lastEntry: DateEntry | null = null;
  #lastSegment: Segment | null = null;

  constructor(spec: ExchangeSpec) {
    this.exchange = spec.exchange;
    this.timeZone = spec.timeZone;
    this.#spec = spec;
  }

  phaseAt(ts: number): SessionPhase {
    return this.#segmentAt(ts).phase;
  }

  dayAt(ts: number): SessionDay | null {
    return this.#segmentAt(ts).day;
  }

  day(date: string): SessionDay | null {
    return this.#entry(date).day;
  }

  isTradingDate(date: string): boolean {
    parseDate(date);
    const spec = this.#spec;
    if (spec.alwaysOpen) return true;
    if (spec.weekdaysOnly) {
      const wd = weekday(date);
      if (wd === 0 || wd === 6) return false;
    }
    return !spec.holidays.has(date);
  }

  localDate(ts: number): string {
    const e = this.#lastEntry;
    if (e !== null && ts >= e.from && ts < e.to) return e.date;
    return localDateOf(ts, this.timeZone);
  }

  nextOpen(ts: number): number {
    let date = localDateOf(ts, this.timeZone);
    for (let i = 0; i < MAX_SCAN_DATES; i++) {
      const d = this.day(date);
      if (d !== null) {
        for (const w of d.regular) if (w.start > ts) return w.start;
      }
      date = addDays(date, 1);
    }
    return Number.POSITIVE_INFINITY;
  }

  #segmentAt(ts: number): Segment {
    const s = this.#lastSegment;
    if (s !== null && ts >= s.start && ts < s.end) return s;
    let e = this.#lastEntry;
    if (e === null || ts < e.from || ts >= e.to) {
      e = this.#entry(localDateOf(ts, this.timeZone));
      this.#lastEntry = e;
    }
    const segs = e.segments;
    let found = segs[segs.length - 1] as Segment;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i] as Segment;
      if (ts < seg.end) {
        found = seg;
        break;
      }
    }
    this.#lastSegment = found;
    return found;
  }

  #entry(date: string): DateEntry {
    let e = this.#dates.get(date);
    if (e === undefined) {
      if (this.#dates.size >= MAX_CACHED_DATES) this.#dates.clear();
      e = this.#build(date);
      this.#dates.set(date, e);
    }
    return e;
  }

  #build(date: string): DateEntry {
    const spec = this.#spec;
    const tz = spec.timeZone;
    const from = zonedToUtc(date, 0, tz);
    const to = zonedToUtc(date, 1440, tz);
    if (!this.isTradingDate(date)) {
      return { date, from, to, day: null, segments: [{ start: from, end: to, phase: 'closed', day: null }] };
    }
    if (spec.alwaysOpen) {
      const day: SessionDay = Object.freeze({ date, regular: Object.freeze([Object.freeze({ start: from, end: to })]), pre: null, post: null });
      return { date, from, to, day, segments: [{ start: from, end: to, phase: 'regular', day }] };
    }
    const early = spec.earlyCloses.get(date);
    const regular: SessionWindow[] = [];
    for (const [s, e] of spec.regular) {
      const end = early === undefined ? e : Math.min(e, early);
      if (end > s) regular.push(Object.freeze({ start: zonedToUtc(date, s, tz), end: zonedToUtc(date, end, tz) }));
    }
    const win = (w: ClockWindow | null): SessionWindow | null =>
      w === null ? null : Object.freeze({ start: zonedToUtc(date, w[0], tz), end: zonedToUtc(date, w[1], tz) });
    const pre = win(spec.pre);
    // On an early close the after-hours session starts at the close and keeps its usual length.
    const post =
      spec.post === null ? null : win(early === undefined ? spec.post : [early, early + spec.post[1] - spec.post[0]]);
    const day: SessionDay = Object.freeze({ date, regular: Object.freeze(regular), pre, post });

    const parts: { start: number; end: number; phase: SessionPhase }[] = [];
    if (pre !== null) parts.push({ start: pre.start, end: pre.end, phase: 'pre' });
    for (const w of regular) parts.push({ start: w.start, end: w.end, phase: 'regular' });
    if (post !== null) parts.push({ start: post.start, end: post.end, phase: 'post' });
    parts.sort((a, b) => a.start - b.start);

    const segments: Segment[] = [];
    let cursor = from;
    let inDay = false;
    for (const p of parts) {
      if (p.start > cursor) {
        // Between two regular windows is the lunch break; any other hole inside the day is closed.
        const prev = segments[segments.length - 1];
        const phase: SessionPhase = inDay && prev?.phase === 'regular' && p.phase === 'regular' ? 'lunch' : 'closed';
        segments.push({ start: cursor, end: p.start, phase, day: inDay ? day : null });
      }
      segments.push({ start: p.start, end: p.end, phase: p.phase, day });
      inDay = true;
      cursor = p.end;
    }
    if (cursor < to) segments.push({ start: cursor, end: to, phase: 'closed', day: null });
    return { date, from, to, day, segments };
  }
}
