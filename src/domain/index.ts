export { INTERVALS, INTERVAL_MS, isInterval, type Interval } from './interval.js';
export {
  trade,
  quote,
  bar,
  type TradeEvent,
  type QuoteEvent,
  type BarEvent,
  type MarketEvent,
  type MarketEventKind,
} from './market-event.js';
export { type Candle, candleKey, copyCandle } from './candle.js';
export { type Kpi } from './kpi.js';
export { type Instrument, type ExchangeCode } from './instrument.js';
export { EventReject, validateEvent, parseEvent, parseJsonEvent, type RejectRule, type ValidationPolicy } from './validate.js';
export { parseCanonicalEvent } from './canonical-event.js';
export { sharedSlice, sharedString, stringTableMisses } from './string-table.js';
export { readFloat64LE } from './float64-bytes.js';
export { encodeEvent, encodeEventInto, encodedSize, maxEncodedSize, writeUtf8, decodeEvent, decodeEventFields, eventFields, emptyEventFields, EVENT_KINDS, type EventFields } from './event-codec.js';
export {
  calendarFor,
  NYSE_HOLIDAYS,
  NYSE_EARLY_CLOSES,
  VN_HOLIDAYS,
  zonedToUtc,
  localDateOf,
  zoneOffsetMs,
  type SessionPhase,
  type SessionWindow,
  type SessionDay,
  type MarketCalendar,
  type CalendarOptions,
} from './calendar/index.js';
