import { SYMBOL_PATTERN, parseCanonicalEvent } from './canonical-event.js';
import { isInterval } from './interval.js';
import { bar, quote, trade, type MarketEvent } from './market-event.js';
import { shared } from './string-table.js';

/**
 * Why an event was refused at ingress: the field, the value that came, the rule it broke and what
 * to do. Rejects go to the dead-letter topic `ticks.dlq` and are counted by `rule`.
 */
export class EventReject {
  readonly field: string;
  readonly value: unknown;
  readonly rule: RejectRule;
  readonly message: string;
  constructor(field: string, value: unknown, rule: RejectRule, message: string) {
    this.field = field;
    this.value = value;
    this.rule = rule;
    this.message = message;
  }
}

export type RejectRule =
  | 'malformed'
  | 'missing'
  | 'type'
  | 'non_finite'
  | 'non_positive'
  | 'negative'
  | 'crossed_quote'
  | 'ohlc_inconsistent'
  | 'future'
  | 'past'
  | 'unknown_symbol'
  | 'unknown_kind'
  | 'duplicate'
  | 'late';

export interface ValidationPolicy {
  /** Wall clock used for the sanity window, epoch ms. */
  readonly now: number;
  /** Events more than this far ahead of `now` are refused (clock skew guard). */
  readonly maxFutureMs: number;
  /** Events more than this far behind `now` are refused; Infinity accepts any history (replay). */
  readonly maxPastMs: number;
  /** When set, symbols outside it are refused; null accepts every symbol. */
  readonly knownSymbols: ReadonlySet<string> | null;
}

// One rule for both paths: canonical-event.ts checks it inside its shape expression.
const SYMBOL_RE = new RegExp(`^${SYMBOL_PATTERN}$`);

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}

/** A timestamp for a message: ISO text, or the number itself beyond Date's range (toISOString would throw). */
function isoOrNumber(ts: number): string {
  const d = new Date(ts);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(ts);
}

function str(o: Record<string, unknown>, field: string): string | EventReject {
  const v = o[field];
  if (typeof v === 'string' && v.length > 0) return v;
  if (v === undefined || v === null || v === '') {
    return new EventReject(field, v, 'missing', `${field}: expected a non-empty string, got ${describe(v)}; set "${field}" on every event`);
  }
  return new EventReject(field, v, 'type', `${field}: expected a string, got ${describe(v)}; send it as a JSON string`);
}

function num(o: Record<string, unknown>, field: string, positive: boolean): number | EventReject {
  const v = o[field];
  if (typeof v !== 'number') {
    if (v === undefined || v === null) {
      return new EventReject(field, v, 'missing', `${field}: expected a number, got ${describe(v)}; set "${field}" on every event of this kind`);
    }
    return new EventReject(field, v, 'type', `${field}: expected a number, got ${describe(v)}; send it as a JSON number, not a string`);
  }
  if (!Number.isFinite(v)) {
    return new EventReject(field, v, 'non_finite', `${field}: expected a finite number, got ${v}; drop or fix the event at the source`);
  }
  if (positive) {
    if (v <= 0) return new EventReject(field, v, 'non_positive', `${field}: must be > 0, got ${v}; prices are positive`);
  } else if (v < 0) {
    return new EventReject(field, v, 'negative', `${field}: must be >= 0, got ${v}; sizes and volumes are never negative`);
  }
  return v;
}

/**
 * Validates one decoded JSON value as a market event. Called once per event at ingress; nothing
 * downstream re-validates (ARCHITECTURE.md §2.6). Returns the normalised event or the reason.
 *
 * Wire format (one JSON object per event; unknown fields ignored):
 *   {"kind":"trade","symbol":"AAPL","ts":1700000000000,"source":"finnhub","id":"…","price":190.1,"size":100,"conditions":["@"]}
 *   {"kind":"quote","symbol":"AAPL","ts":…,"source":…,"id":…,"bid":190.0,"ask":190.1,"bidSize":3,"askSize":5}
 *   {"kind":"bar","symbol":"AAPL","ts":<bar start>,"source":…,"id":…,"interval":"1m","open":…,"high":…,"low":…,"close":…,"volume":…}
 */
export function validateEvent(input: unknown, policy: ValidationPolicy): MarketEvent | EventReject {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return new EventReject('(event)', input, 'malformed', `event: expected a JSON object, got ${Array.isArray(input) ? 'an array' : describe(input)}; send one object per event`);
  }
  const o = input as Record<string, unknown>;
  const rawSymbol = str(o, 'symbol');
  if (rawSymbol instanceof EventReject) return rawSymbol;
  // Objects from adapters carry a fresh string per event; the shared copy keeps one per symbol in
  // every structure that holds events or keys (log tail, live store, maps keyed by symbol).
  const symbol = shared(rawSymbol);
  if (!SYMBOL_RE.test(symbol)) {
    return new EventReject('symbol', symbol, 'type', `symbol: expected 1-32 upper-case letters, digits or . - : / ^ = _, got ${describe(symbol)}; normalise the ticker at the source`);
  }
  if (policy.knownSymbols !== null && !policy.knownSymbols.has(symbol)) {
    return new EventReject('symbol', symbol, 'unknown_symbol', `symbol: ${describe(symbol)} is not a configured instrument; add it to "instruments" or set ingest.unknownSymbols to "accept"`);
  }
  const ts = o['ts'];
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    const rule = ts === undefined || ts === null ? 'missing' : typeof ts === 'number' ? 'non_finite' : 'type';
    return new EventReject('ts', ts, rule, `ts: expected event time as epoch milliseconds (a finite number), got ${describe(ts)}`);
  }
  if (ts > policy.now + policy.maxFutureMs) {
    return new EventReject('ts', ts, 'future', `ts: ${isoOrNumber(ts)} is more than ${policy.maxFutureMs} ms ahead of now; check the source clock or that ts is in milliseconds`);
  }
  if (ts < policy.now - policy.maxPastMs) {
    return new EventReject('ts', ts, 'past', `ts: ${isoOrNumber(ts)} is more than ${policy.maxPastMs} ms before now; check that ts is in milliseconds, or raise ingest.maxPastMs for history`);
  }
  const rawSource = str(o, 'source');
  if (rawSource instanceof EventReject) return rawSource;
  const source = shared(rawSource);
  const id = str(o, 'id');
  if (id instanceof EventReject) return id;

  const kind = o['kind'];
  if (kind === 'trade') {
    const price = num(o, 'price', true);
    if (price instanceof EventReject) return price;
    const size = num(o, 'size', false);
    if (size instanceof EventReject) return size;
    const c = o['conditions'];
    if (c !== undefined && !(Array.isArray(c) && c.every((x) => typeof x === 'string'))) {
      return new EventReject('conditions', c, 'type', `conditions: expected an array of strings, got ${describe(c)}; omit it when the source has none`);
    }
    return trade({ symbol, ts, source, id, price, size, conditions: c as string[] | undefined });
  }
  if (kind === 'quote') {
    const bid = num(o, 'bid', true);
    if (bid instanceof EventReject) return bid;
    const ask = num(o, 'ask', true);
    if (ask instanceof EventReject) return ask;
    const bidSize = num(o, 'bidSize', false);
    if (bidSize instanceof EventReject) return bidSize;
    const askSize = num(o, 'askSize', false);
    if (askSize instanceof EventReject) return askSize;
    if (bid > ask) {
      return new EventReject('bid', bid, 'crossed_quote', `bid: ${bid} is above ask ${ask}; a crossed quote is refused, check the field order at the source`);
    }
    return quote({ symbol, ts, source, id, bid, ask, bidSize, askSize });
  }
  if (kind === 'bar') {
    const interval = o['interval'];
    if (!isInterval(interval)) {
      return new EventReject('interval', interval, interval === undefined ? 'missing' : 'type', `interval: expected one of 1s, 1m, 5m, 15m, 1h, 1d, got ${describe(interval)}`);
    }
    const open = num(o, 'open', true);
    if (open instanceof EventReject) return open;
    const high = num(o, 'high', true);
    if (high instanceof EventReject) return high;
    const low = num(o, 'low', true);
    if (low instanceof EventReject) return low;
    const close = num(o, 'close', true);
    if (close instanceof EventReject) return close;
    const volume = num(o, 'volume', false);
    if (volume instanceof EventReject) return volume;
    if (high < low || high < open || high < close || low > open || low > close) {
      return new EventReject('high', high, 'ohlc_inconsistent', `high/low: expected low <= open, close <= high, got open=${open} high=${high} low=${low} close=${close}; fix the bar at the source`);
    }
    return bar({ symbol, ts, source, id, interval, open, high, low, close, volume });
  }
  if (kind === undefined) {
    return new EventReject('kind', kind, 'missing', 'kind: expected "trade", "quote" or "bar", got nothing; set "kind" on every event');
  }
  return new EventReject('kind', kind, 'unknown_kind', `kind: expected "trade", "quote" or "bar", got ${describe(kind)}`);
}

/**
 * Parses one JSON text and validates it; malformed JSON becomes a reject, never a throw. Canonical
 * trades and quotes take the fast path (canonical-event.ts), which yields the same event as the
 * general path or defers to it.
 */
export function parseEvent(text: string, policy: ValidationPolicy): MarketEvent | EventReject {
  return parseCanonicalEvent(text, policy) ?? parseJsonEvent(text, policy);
}

/** The general path of parseEvent for any text: JSON.parse, then validateEvent. */
export function parseJsonEvent(text: string, policy: ValidationPolicy): MarketEvent | EventReject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return new EventReject('(json)', text.length > 80 ? `${text.slice(0, 80)}…` : text, 'malformed', `json: not valid JSON (${(err as Error).message}); send one JSON object per message`);
  }
  return validateEvent(value, policy);
}
