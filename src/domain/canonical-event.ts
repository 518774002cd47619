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

/*
 * The shape is checked by one regular expression per kind before anything is read: irregexp
 * compiles it to native code that scans the ~100 characters in ~80 ns, where a charCodeAt loop
 * with a startsWith per key took ~2 ns a character and ~20 ns a key (~600 ns a tick against ~370 ns,
 * measured over the end-to-end bench's messages). Once a text matches, every key, string and number
 * is where the shape says, so reading the fields only looks for the closing quotes (indexOf) and
 * the digits. Its parts:
 *  - SYMBOL_PATTERN: the symbol rule, also validateEvent's (validate.ts builds its SYMBOL_RE from it);
 *  - TEXT: a JSON string's content without escapes or control characters (JSON.parse's business);
 *    sources and ids must not be empty, conditions may;
 *  - NUMBER: a JSON number without a sign (negative values are never canonical).
 */
/** A symbol: 1 to 32 of upper-case letters, digits and . - : / ^ = _, not starting with punctuation. */
export const SYMBOL_PATTERN = '[A-Z0-9][A-Z0-9.\\-:/^=_]{0,31}';
const TEXT = '[^"\\\\\\x00-\\x1f]';
const NUMBER = '(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?';
const HEAD = (kind: string): string => `^\\{"kind":"${kind}","symbol":"${SYMBOL_PATTERN}","ts":${NUMBER},"source":"${TEXT}+","id":"${TEXT}+"`;
const TRADE_SHAPE = new RegExp(`${HEAD('trade')},"price":${NUMBER},"size":${NUMBER}(?:,"conditions":\\[(?:"${TEXT}*"(?:,"${TEXT}*")*)?\\])?\\}$`);
const QUOTE_SHAPE = new RegExp(`${HEAD('quote')},"bid":${NUMBER},"ask":${NUMBER},"bidSize":${NUMBER},"askSize":${NUMBER}\\}$`);

/** Where the symbol starts: after `{"kind":"trade","symbol":"` (a quote's head has the same length). */
const SYMBOL_AT = '{"kind":"trade","symbol":"'.length;
/** From the character after one field's value to the start of the next one's. */
const TO_TS = '","ts":'.length;
const TO_SOURCE = ',"source":"'.length;
const TO_ID = '","id":"'.length;
const TO_PRICE = '","price":'.length;
const TO_SIZE = ',"size":'.length;
const TO_CONDITIONS = ',"conditions":['.length;
const TO_BID = '","bid":'.length;
const TO_ASK = ',"ask":'.length;
const TO_BID_SIZE = ',"bidSize":'.length;
const TO_ASK_SIZE = ',"askSize":'.length;

const QUOTE = 0x22;
/** The character that tells the kinds apart: `{"kind":"t…` or `{"kind":"q…`. */
const KIND_AT = '{"kind":"'.length;

/** Exact powers of ten: every 10^k up to 10^22 is a double without rounding. */
const POW10: number[] = [];
for (let k = 0, p = 1; k <= 22; k++, p *= 10) POW10.push(p);
const TWO_POW_53 = 2 ** 53;

/** Where the last read number ended (module state: no result objects on the hot path). */
let end = 0;
/**
 * The last read number. Returned through a typed array, not as the function's value: a double
 * returned from a call that is not inlined is boxed, a heap number per field and tick.
 */
const NUM = new Float64Array(1);

/**
 * Reads the JSON number starting at `at`, which the shape has already checked, into NUM[0] and
 * sets `end` after it. The value equals JSON.parse's: a mantissa below 2^53 with at most 22
 * fractional digits is exact, as is 10^k, so one IEEE division gives the correctly rounded decimal
 * (Clinger's fast path); any other number goes to Number(), which rounds as JSON.parse does.
 */
function readNumber(text: string, at: number): void {
  let i = at;
  let c = text.charCodeAt(i);
  let m = 0;
  while (c >= 0x30 && c <= 0x39) {
    m = m * 10 + (c - 0x30);
    c = text.charCodeAt(++i);
  }
  let fraction = 0;
  if (c === 0x2e) {
    c = text.charCodeAt(++i);
    while (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      fraction++;
      c = text.charCodeAt(++i);
    }
  }
  let exponent = false;
  if (c === 0x65 || c === 0x45) {
    exponent = true;
    c = text.charCodeAt(++i);
    if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
    while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
  }
  end = i;
  // m only grows and rounding is monotonic, so a computed m below 2^53 means every step was exact.
  if (!exponent && m < TWO_POW_53 && fraction <= 22) NUM[0] = fraction === 0 ? m : m / (POW10[fraction] as number);
  else NUM[0] = Number(text.slice(at, i));
}

/** The strings of a conditions list the shape has checked, from `at` (after `[`): each is `"…"` then `,` or `]`. */
function readConditions(text: string, at: number): string[] {
  const out: string[] = [];
  for (let i = at; text.charCodeAt(i) === QUOTE; ) {
    const close = text.indexOf('"', i + 1);
    out.push(text.slice(i + 1, close));
    i = close + 2;
  }
  return out;
}

/** A finite number > 0 (prices): a number the shape allows may still be 0 or overflow to Infinity. */
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
  const isTrade = text.charCodeAt(KIND_AT) === 0x74;
  if (isTrade ? !TRADE_SHAPE.test(text) : !QUOTE_SHAPE.test(text)) return null;

  let i = text.indexOf('"', SYMBOL_AT);
  const symbol = sharedSlice(text, SYMBOL_AT, i);
  if (policy.knownSymbols !== null && !policy.knownSymbols.has(symbol)) return null;

  readNumber(text, i + TO_TS);
  const ts = NUM[0] as number;
  if (!(ts <= policy.now + policy.maxFutureMs && ts >= policy.now - policy.maxPastMs && ts < Number.POSITIVE_INFINITY)) return null;

  const sourceAt = end + TO_SOURCE;
  i = text.indexOf('"', sourceAt);
  const source = sharedSlice(text, sourceAt, i);
  const idAt = i + TO_ID;
  i = text.indexOf('"', idAt);
  const id = text.slice(idAt, i);

  if (isTrade) {
    readNumber(text, i + TO_PRICE);
    const price = NUM[0] as number;
    if (!isPositive(price)) return null;
    readNumber(text, end + TO_SIZE);
    const size = NUM[0] as number;
    if (!isNonNegative(size)) return null;
    // The shape ends `}` right after the size unless a conditions list follows.
    const conditions = end === text.length - 1 ? NO_CONDITIONS : readConditions(text, end + TO_CONDITIONS);
    // The literal of trade() written out: a call that is not inlined would box these numbers.
    return { kind: 'trade', symbol, ts, source, id, price, size, conditions };
  }

  readNumber(text, i + TO_BID);
  const bid = NUM[0] as number;
  if (!isPositive(bid)) return null;
  readNumber(text, end + TO_ASK);
  const ask = NUM[0] as number;
  if (!isPositive(ask)) return null;
  readNumber(text, end + TO_BID_SIZE);
  const bidSize = NUM[0] as number;
  if (!isNonNegative(bidSize)) return null;
  readNumber(text, end + TO_ASK_SIZE);
  const askSize = NUM[0] as number;
  if (!isNonNegative(askSize) || bid > ask) return null;
  return { kind: 'quote', symbol, ts, source, id, bid, ask, bidSize, askSize };
}
