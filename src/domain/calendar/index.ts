export {
  type SessionPhase,
  type SessionWindow,
  type SessionDay,
  type MarketCalendar,
  type CalendarOptions,
} from './market-calendar.js';
export { calendarFor } from './calendar-for.js';
export { NYSE_HOLIDAYS, NYSE_EARLY_CLOSES, VN_HOLIDAYS } from './holidays.js';
export { zonedToUtc, localDateOf, zoneOffsetMs } from './zoned-time.js';
export { marketStatus, type MarketStatus } from './market-status.js';
