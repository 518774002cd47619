import { NO_CONDITIONS, type MarketEvent } from './market-event.js';
import { sharedSlice } from './string-table.js';
import type { ValidationPolicy } from './validate.js';

/**
 * Fast path of `parseEvent` for the canonical wire format, the exact text our feed handlers and
 * replays produce:
 *
 *   {"kind":"trade","symbol":S,"ts":N,"source":S,"id":S,"price":N,"size":N}
 *   {"kind":"trade","symbol":S,"ts":N,"source":S,"id":S,"price":N,"size":N,"conditions":[S,…]}
 *   {"kind":"quote","symbol":S,"ts":N,"source":S,"id":S,"bid":N,"ask":N,"bidSize":N,"askSize":N}
 *
 * S is a JSON string without escapes or control characters, N a non-negative JSON number; keys in
 * this order, no whitespace, nothing after the closing brace. Such a text is read in place, without
 * the intermediate object JSON.parse would build and validateEvent would then copy (that object and
 * its strings were the largest allocation per tick).
 *
 * It returns an event only when the text has exactly this shape and passes every rule of
 * validateEvent; anything else (other shapes, bars, whitespace, escapes, a value a rule refuses)
 * returns null and the caller takes the general path, so results and reject messages are those of
 * JSON.parse + validateEvent by construction. test/domain/canonical-event.test.ts proves the two
 * paths agree over generated valid and damaged messages.
 */

const TRADE_HEAD = '{"kind":"trade","symbol":"';
const QUOTE_HEAD = '{"kind":"quote","symbol":"';
const HEAD_LENGTH = TRADE_HEAD.length;
const AFTER_SYMBOL = '","ts":';
const AFTER_TS = ',"source":"';
const AFTER_SOURCE = '","id":"';
const AFTER_ID_TRADE = '","price":';
const AFTER_PRICE = ',"size":';
const CONDITIONS = ',"conditions":[';
const AFTER_ID_QUOTE = '","bid":';
const AFTER_BID = ',"ask":';
const AFTER_ASK = ',"bidSize":';
const AFTER_BID_SIZE = ',"askSize":';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE_BRACE = 0x7d;

/**
 * Symbol characters, the rule of validateEvent's SYMBOL_RE `^[A-Z0-9][A-Z0-9.\-:/^=_]{0,31}$`:
 * bit 1 = may start a symbol, bit 2 = may follow. Checked while scanning, so no regex runs.
 */
const SYMBOL_CHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) SYMBOL_CHAR[c] = 3;
for (let c = 0x41; c <= 0x5a; c++) SYMBOL_CHAR[c] = 3;
for (const ch of '.-:/^=_') SYMBOL_CHAR[ch.charCodeAt(0)] = 2;
const MAX_SYMBOL_LENGTH = 32;

/** Exact powers of ten: every 10^k up to 10^22 is a double without rounding. */
const POW10: number[] = [];
for (let k = 0, p = 1; k <= 22; k++, p *= 10) POW10.push(p);
const TWO_POW_53 = 2 ** 53;

/** Where the last scanned number or string ended (module state: no result objects on the hot path). */
let end = 0;
/**
 * The last scanned number. Returned through a typed array, not as the function's value: a double
 * returned from a call that is not inlined is boxed, a heap number per field and tick.
 */
const NUM = new Float64Array(1);

/**
 * Reads the JSON number starting at `at` (no sign: negative values are never canonical) into
 * NUM[0] and sets `end` after it. NUM[0] is NaN when the text there is no JSON number. The value equals JSON.parse's:
 * a mantissa below 2^53 with at most 22 fractional digits is exact, as is 10^k, so one IEEE division
 * gives the correctly rounded decimal (Clinger's fast path); any other number goes to Number(),
 * which rounds as JSON.parse does.
 */
function notANumber(): void {
  NUM[0] = Number.NaN;
}

function readNumber(text: string, at: number): void {
  let i = at;
  let c = text.charCodeAt(i);
  let m = 0;
  if (c === 0x30) {
    c = text.charCodeAt(++i);
    // JSON forbids leading zeros ("01").
    if (c >= 0x30 && c <= 0x39) return notANumber();
  } else if (c >= 0x31 && c <= 0x39) {
    do {
      m = m * 10 + (c - 0x30);
      c = text.charCodeAt(++i);
    } while (c >= 0x30 && c <= 0x39);
  } else {
    return notANumber();
  }
  let fraction = 0;
  if (c === 0x2e) {
    c = text.charCodeAt(++i);
    if (!(c >= 0x30 && c <= 0x39)) return notANumber();
    do {
      m = m * 10 + (c - 0x30);
      fraction++;
      c = text.charCodeAt(++i);
    } while (c >= 0x30 && c <= 0x39);
  }
  let exponent = false;
  if (c === 0x65 || c === 0x45) {
    c = text.charCodeAt(++i);
    if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
    if (!(c >= 0x30 && c <= 0x39)) return notANumber();
    do {
      c = text.charCodeAt(++i);
    } while (c >= 0x30 && c <= 0x39);
    exponent = true;
  }
  end = i;
  // m only grows and rounding is monotonic, so a computed m below 2^53 means every step was exact.
  if (!exponent && m < TWO_POW_53 && fraction <= 22) NUM[0] = fraction === 0 ? m : m / (POW10[fraction] as number);
  else NUM[0] = Number(text.slice(at, i));
}

/**
 * Finds the closing quote of a string whose content starts at `at`; returns its index, or -1 when
 * the content has an escape or a control character (JSON.parse's business) or the text ends.
 */
function stringEnd(text: string, at: number): number {
  const n = text.length;
  for (let i = at; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 0x20) return -1;
  }
  return -1;
}

/** Reads `,"conditions":[…]` strings from `at` (after the bracket); sets `end` after `]`, or returns null. */
function readConditions(text: string, at: number): string[] | null {
  const out: string[] = [];
  let i = at;
  if (text.charCodeAt(i) === 0x5d) {
    end = i + 1;
    return out;
  }
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return null;
    const close = stringEnd(text, i + 1);
    if (close < 0) return null;
    out.push(text.slice(i + 1, close));
    const c = text.charCodeAt(close + 1);
    if (c === 0x5d) {
      end = close + 2;
      return out;
    }
    if (c !== 0x2c) return null;
    i = close + 2;
  }
}

/** A finite number > 0 (prices); false for NaN, the "not a number here" mark of readNumber. */
function isPositive(v: number): boolean {
  return v > 0 && v < Number.POSITIVE_INFINITY;
}

/** A finite number >= 0 (sizes). */
function isNonNegative(v: number): boolean {
  return v >= 0 && v < Number.POSITIVE_INFINITY;
}

/**
 * The event `text` describes when it is a canonical trade or quote that validateEvent would accept
 * under `policy` (the same event, field for field); null means "take the general path".
 */
export function parseCanonicalEvent(text: string, policy: ValidationPolicy): MarketEvent | null {
  const isTrade = text.startsWith(TRADE_HEAD);
  if (!isTrade && !text.startsWith(QUOTE_HEAD)) return null;
  const n = text.length;

  // symbol, checked against the symbol rule as it is scanned
  let i = HEAD_LENGTH;
  if (((SYMBOL_CHAR[text.charCodeAt(i)] ?? 0) & 1) === 0) return null;
  i++;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) break;
    if (((SYMBOL_CHAR[c] ?? 0) & 2) === 0) return null;
    i++;
  }
  if (i - HEAD_LENGTH > MAX_SYMBOL_LENGTH) return null;
  const symbol = sharedSlice(text, HEAD_LENGTH, i);
  if (policy.knownSymbols !== null && !policy.knownSymbols.has(symbol)) return null;

  if (!text.startsWith(AFTER_SYMBOL, i)) return null;
  readNumber(text, i + AFTER_SYMBOL.length);
  const ts = NUM[0] as number;
  if (!(ts <= policy.now + policy.maxFutureMs && ts >= policy.now - policy.maxPastMs && ts < Number.POSITIVE_INFINITY)) return null;
  i = end;

  if (!text.startsWith(AFTER_TS, i)) return null;
  const sourceAt = i + AFTER_TS.length;
  i = stringEnd(text, sourceAt);
  if (i <= sourceAt) return null;
  const source = sharedSlice(text, sourceAt, i);

  if (!text.startsWith(AFTER_SOURCE, i)) return null;
  const idAt = i + AFTER_SOURCE.length;
  i = stringEnd(text, idAt);
  if (i <= idAt) return null;
  const id = text.slice(idAt, i);

  if (isTrade) {
    if (!text.startsWith(AFTER_ID_TRADE, i)) return null;
    readNumber(text, i + AFTER_ID_TRADE.length);
    const price = NUM[0] as number;
    if (!isPositive(price) || !text.startsWith(AFTER_PRICE, end)) return null;
    readNumber(text, end + AFTER_PRICE.length);
    const size = NUM[0] as number;
    if (!isNonNegative(size)) return null;
    i = end;
    let conditions: string[] | undefined;
    if (text.startsWith(CONDITIONS, i)) {
      const list = readConditions(text, i + CONDITIONS.length);
      if (list === null) return null;
      conditions = list;
      i = end;
    }
    if (i !== n - 1 || text.charCodeAt(i) !== CLOSE_BRACE) return null;
    // The literal of trade() written out: a call that is not inlined would box these numbers.
    return { kind: 'trade', symbol, ts, source, id, price, size, conditions: conditions ?? NO_CONDITIONS };
  }

  if (!text.startsWith(AFTER_ID_QUOTE, i)) return null;
  readNumber(text, i + AFTER_ID_QUOTE.length);
  const bid = NUM[0] as number;
  if (!isPositive(bid) || !text.startsWith(AFTER_BID, end)) return null;
  readNumber(text, end + AFTER_BID.length);
  const ask = NUM[0] as number;
  if (!isPositive(ask) || !text.startsWith(AFTER_ASK, end)) return null;
  readNumber(text, end + AFTER_ASK.length);
  const bidSize = NUM[0] as number;
  if (!isNonNegative(bidSize) || !text.startsWith(AFTER_BID_SIZE, end)) return null;
  readNumber(text, end + AFTER_BID_SIZE.length);
  const askSize = NUM[0] as number;
  if (!isNonNegative(askSize) || bid > ask) return null;
  if (end !== n - 1 || text.charCodeAt(end) !== CLOSE_BRACE) return null;
  return { kind: 'quote', symbol, ts, source, id, bid, ask, bidSize, askSize };
}
