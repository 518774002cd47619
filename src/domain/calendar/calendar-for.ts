import type { ExchangeCode } from '../instrument.js';
import { ExchangeCalendar, type ClockWindow, type ExchangeSpec } from './exchange-calendar.js';
import { NYSE_EARLY_CLOSES, NYSE_HOLIDAYS, VN_HOLIDAYS } from './holidays.js';
import type { CalendarOptions, MarketCalendar } from './market-calendar.js';
import { parseClock, parseDate } from './zoned-time.js';

interface Hours {
  readonly timeZone: string;
  readonly regular: readonly ClockWindow[];
  readonly pre: ClockWindow | null;
  readonly post: ClockWindow | null;
  readonly weekdaysOnly: boolean;
  readonly holidays: readonly string[];
  readonly earlyCloses: Readonly<Record<string, string>>;
}

const US: Hours = {
  timeZone: 'America/New_York',
  regular: [[570, 960]],
  pre: [240, 570],
  post: [960, 1200],
  weekdaysOnly: true,
  holidays: NYSE_HOLIDAYS,
  earlyCloses: NYSE_EARLY_CLOSES,
};

const VN: Hours = {
  timeZone: 'Asia/Ho_Chi_Minh',
  regular: [
    [540, 690],
    [780, 885],
  ],
  pre: null,
  post: null,
  weekdaysOnly: true,
  holidays: VN_HOLIDAYS,
  earlyCloses: {},
};

const CRYPTO: Hours = {
  timeZone: 'UTC',
  regular: [[0, 1440]],
  pre: null,
  post: null,
  weekdaysOnly: false,
  holidays: [],
  earlyCloses: {},
};

const HOURS: Readonly<Record<ExchangeCode, Hours>> = { NYSE: US, NASDAQ: US, HOSE: VN, HNX: VN, CRYPTO };

/**
 * The calendar of an exchange. NYSE/NASDAQ: America/New_York, regular 09:30–16:00, pre
 * 04:00–09:30, post 16:00–20:00. HOSE/HNX: Asia/Ho_Chi_Minh, 09:00–11:30 and 13:00–14:45.
 * CRYPTO: 24/7, days are UTC dates. Options replace the built-in holidays and early closes, or
 * keep every instant open (`alwaysOpen`, the demo switch). Throws RangeError on a malformed
 * date or time in the options, so a bad config fails at start rather than per tick.
 */
export function calendarFor(exchange: ExchangeCode, options: CalendarOptions = {}): MarketCalendar {
  const h = HOURS[exchange];
  if (h === undefined) throw new RangeError(`exchange: expected one of ${Object.keys(HOURS).join(', ')}, got ${JSON.stringify(exchange)}`);
  const holidays = options.holidays ?? h.holidays;
  for (const d of holidays) parseDate(d);
  const early = new Map<string, number>();
  for (const [d, clock] of Object.entries(options.earlyCloses ?? h.earlyCloses)) {
    parseDate(d);
    early.set(d, parseClock(clock));
  }
  const spec: ExchangeSpec = {
    exchange,
    timeZone: h.timeZone,
    regular: h.regular,
    pre: h.pre,
    post: h.post,
    weekdaysOnly: h.weekdaysOnly,
    holidays: new Set(holidays),
    earlyCloses: early,
    alwaysOpen: options.alwaysOpen === true,
  };
  return new ExchangeCalendar(spec);
}
