import { describe, expect, it } from 'vitest';
import { EventReject, parseEvent, validateEvent, type ValidationPolicy } from '../../src/domain/index.js';

const NOW = Date.UTC(2026, 10, 21, 15);
const policy: ValidationPolicy = { now: NOW, maxFutureMs: 60_000, maxPastMs: 86_400_000, knownSymbols: new Set(['AAPL', 'VNM']) };
const good = { kind: 'trade', symbol: 'AAPL', ts: NOW - 1000, source: 'test', id: 'a1', price: 190.5, size: 100 };

function reject(input: unknown, p: ValidationPolicy = policy): EventReject {
  const r = typeof input === 'string' ? parseEvent(input, p) : validateEvent(input, p);
  expect(r, `expected a reject for ${JSON.stringify(input)}`).toBeInstanceOf(EventReject);
  return r as EventReject;
}

describe('validateEvent', () => {
  it('accepts well-formed trades, quotes and bars', () => {
    expect(validateEvent(good, policy), 'a valid trade passes').not.toBeInstanceOf(EventReject);
    expect(validateEvent({ kind: 'quote', symbol: 'AAPL', ts: NOW, source: 's', id: 'q', bid: 1, ask: 1.01, bidSize: 0, askSize: 3 }, policy), 'a valid quote passes').not.toBeInstanceOf(EventReject);
    expect(validateEvent({ kind: 'bar', symbol: 'VNM', ts: NOW - 60_000, source: 's', id: 'b', interval: '1m', open: 2, high: 3, low: 1, close: 2.5, volume: 10 }, policy), 'a valid bar passes').not.toBeInstanceOf(EventReject);
  });

  const cases: [string, unknown, string, string, RegExp][] = [
    ['malformed JSON', '{"kind":"trade","symbol":', 'malformed', '(json)', /not valid JSON/],
    ['a JSON array', '[1,2]', 'malformed', '(event)', /expected a JSON object, got an array/],
    ['a missing field', { ...good, price: undefined }, 'missing', 'price', /price: expected a number, got nothing/],
    ['a price sent as text', { ...good, price: '190.5' }, 'type', 'price', /send it as a JSON number, not a string/],
    ['a non-finite price', { ...good, price: Number.NaN }, 'non_finite', 'price', /expected a finite number, got NaN/],
    ['a zero price', { ...good, price: 0 }, 'non_positive', 'price', /must be > 0, got 0/],
    ['a negative price', { ...good, price: -3 }, 'non_positive', 'price', /must be > 0, got -3/],
    ['a negative size', { ...good, size: -100 }, 'negative', 'size', /must be >= 0, got -100/],
    ['a timestamp far in the future', { ...good, ts: NOW + 3_600_000 }, 'future', 'ts', /ahead of now; check the source clock or that ts is in milliseconds/],
    ['a timestamp beyond the range of Date (a refusal, not a RangeError)', { ...good, ts: 1e20 }, 'future', 'ts', /^ts: 100000000000000000000 is more than 60000 ms ahead of now/],
    ['a timestamp far in the past', { ...good, ts: NOW - 30 * 86_400_000 }, 'past', 'ts', /before now/],
    ['a timestamp in seconds', { ...good, ts: Math.floor(NOW / 1000) }, 'past', 'ts', /check that ts is in milliseconds/],
    ['an unknown symbol', { ...good, symbol: 'ZZZZ' }, 'unknown_symbol', 'symbol', /not a configured instrument; add it to "instruments" or set ingest.unknownSymbols to "accept"/],
    ['a lower-case symbol', { ...good, symbol: 'aapl' }, 'type', 'symbol', /upper-case/],
    ['an unknown kind', { ...good, kind: 'trades' }, 'unknown_kind', 'kind', /expected "trade", "quote" or "bar", got "trades"/],
    ['a crossed quote', { kind: 'quote', symbol: 'AAPL', ts: NOW, source: 's', id: 'q', bid: 2, ask: 1, bidSize: 1, askSize: 1 }, 'crossed_quote', 'bid', /is above ask/],
    ['an inconsistent bar', { kind: 'bar', symbol: 'AAPL', ts: NOW, source: 's', id: 'b', interval: '1m', open: 5, high: 4, low: 1, close: 2, volume: 1 }, 'ohlc_inconsistent', 'high', /low <= open, close <= high/],
    ['a bad bar interval', { kind: 'bar', symbol: 'AAPL', ts: NOW, source: 's', id: 'b', interval: '2m', open: 1, high: 1, low: 1, close: 1, volume: 1 }, 'type', 'interval', /one of 1s, 1m, 5m, 15m, 1h, 1d, got "2m"/],
  ];
  for (const [what, input, rule, field, message] of cases) {
    it(`refuses ${what}, naming the field, the value and the fix`, () => {
      const r = reject(input);
      expect(r.rule, `${what} breaks rule ${rule}`).toBe(rule);
      expect(r.field, `${what} is blamed on ${field}`).toBe(field);
      expect(r.message, `${what}: the message says what came and what to do`).toMatch(message);
    });
  }

  it('accepts any symbol when no instrument list is enforced, and any age when maxPastMs is infinite', () => {
    expect(validateEvent({ ...good, symbol: 'NEW' }, { ...policy, knownSymbols: null }), 'unknown symbols pass with policy accept').not.toBeInstanceOf(EventReject);
    expect(validateEvent({ ...good, ts: Date.UTC(2001, 0, 2) }, { ...policy, maxPastMs: Number.POSITIVE_INFINITY }), 'history passes for replays').not.toBeInstanceOf(EventReject);
  });
});
