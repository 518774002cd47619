import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EventReject, parseCanonicalEvent, parseEvent, parseJsonEvent, type ValidationPolicy } from '../../src/domain/index.js';
import { tickMessages } from '../../bench/fixtures.js';
import { mulberry32 } from '../fixtures/random.js';

const NOW = Date.UTC(2026, 0, 6, 15, 0);
const KNOWN = ['AAPL', 'MSFT', 'VNM', 'BRK.B', 'BTC-USD', 'ES=F', '^GSPC', 'X:Y/Z_1'];
const POLICIES: readonly ValidationPolicy[] = [
  { now: NOW, maxFutureMs: 5_000, maxPastMs: 86_400_000, knownSymbols: new Set(KNOWN) },
  { now: NOW, maxFutureMs: 60_000, maxPastMs: Number.POSITIVE_INFINITY, knownSymbols: null },
];

/** Messages in the canonical shape, mostly valid, with every kind of value the rules look at. */
function generator(seed: number) {
  const rand = mulberry32(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const digits = (n: number): string => Array.from({ length: n }, () => String(int(10))).join('');

  const number = (): string => {
    const r = rand();
    if (r < 0.5) return `${1 + int(999)}.${digits(int(4))}`.replace(/\.$/, '');
    if (r < 0.6) return `${int(10)}.${digits(1 + int(25))}`;
    if (r < 0.7) return String(1 + int(9)) + digits(int(20));
    if (r < 0.8) {
      return pick(['9007199254740991', '9007199254740992', '9007199254740993', '18014398509481985.5', '4503599627370495.5', '0.1', '0.30000000000000004', '1.0000000000000002']);
    }
    if (r < 0.88) return pick(['1e3', '1.5E-2', '2e+1', '1e400', '1e-400', '5e-324', '1.7976931348623157e308', '2.2250738585072011e-308', '0e5']);
    if (r < 0.93) return pick(['0', '0.0', '0.000', '-0', '-1.5', '-0.0']);
    return pick(['01', '1.', '.5', '+1', '1e', '1e+', 'NaN', 'Infinity', '"1"', 'null', 'true', '0x10', '1_000', '[]', '{}']);
  };

  const symbol = (): string => {
    const r = rand();
    if (r < 0.7) return pick(KNOWN);
    if (r < 0.85) {
      const first = pick([...'ABCXYZ019']);
      return first + Array.from({ length: int(34) }, () => pick([...'AZ09.-:/^=_'])).join('');
    }
    return pick(['', 'aapl', 'A A', 'A\\"B', 'A\\u0042', 'É', '.A', '-X', 'A\tB', 'A\u2028', 'A\\\\']);
  };

  const text = (): string => {
    const r = rand();
    if (r < 0.8) return pick(['finnhub', 'sim', 'replay', 'b-1', 'id-', 'x']) + (rand() < 0.5 ? String(int(1e6)) : '');
    return pick(['', ' ', 'a b', 'é', '\u2028', '\ud800', 'q\\"uote', 'back\\\\slash', 'uni\\u0041', 'tab\tchar', 'ctl\u0001']);
  };

  const ts = (): string => {
    const r = rand();
    if (r < 0.8) return String(NOW - int(3_600_000));
    if (r < 0.85) return String(NOW + 1_000 + int(120_000));
    if (r < 0.9) return String(NOW - 86_400_000 - 1 - int(1e9));
    return pick([`${NOW}.5`, `${NOW / 1000}e3`, '1e400', '-1', '0', `"${NOW}"`, 'null']);
  };

  const conditions = (): string => {
    const r = rand();
    if (r < 0.6) return '';
    if (r < 0.7) return ',"conditions":[]';
    if (r < 0.9) return `,"conditions":[${Array.from({ length: 1 + int(3) }, () => `"${pick(['@', 'F', 'T', 'I', '', 'é'])}"`).join(',')}]`;
    return pick([',"conditions":[1]', ',"conditions":null', ',"conditions":"@"', ',"conditions":["@",]', ',"conditions":[ "@"]', ',"conditions":["a\\"b"]']);
  };

  const message = (): string => {
    const head = `"symbol":"${symbol()}","ts":${ts()},"source":"${text()}","id":"${text()}"`;
    const r = rand();
    if (r < 0.45) return `{"kind":"trade",${head},"price":${number()},"size":${number()}${conditions()}}`;
    if (r < 0.9) return `{"kind":"quote",${head},"bid":${number()},"ask":${number()},"bidSize":${number()},"askSize":${number()}}`;
    if (r < 0.95) {
      return `{"kind":"bar",${head},"interval":"${pick(['1m', '1h', '2m'])}","open":${number()},"high":${number()},"low":${number()},"close":${number()},"volume":${number()}}`;
    }
    return pick([`{${head},"price":1,"size":1}`, `{"kind":"Trade",${head},"price":1,"size":1}`, `{"kind":null,${head}}`, '[]', '"trade"', 'null', '']);
  };

  /** Damage of the kinds that take a text off the canonical shape, or out of JSON altogether. */
  const damage = (m: string): string => {
    const at = int(m.length + 1);
    switch (int(9)) {
      case 0:
        return m.slice(0, at) + pick([' ', '\n', '\t', '\r']) + m.slice(at);
      case 1:
        return m.slice(0, at) + m.slice(at + 1);
      case 2:
        return m.slice(0, at) + pick([...'{}[]",:0123456789aeE+-.\\ x']) + m.slice(at);
      case 3:
        return m.slice(0, at);
      case 4:
        return m + pick([' ', '\n', 'x', '}', ',']);
      case 5:
        return m.replace(/}$/, pick([',"price":5}', ',"ts":1}', ',"extra":true}', ',"symbol":"MSFT"}', ',"kind":"bar"}']));
      case 6:
        return m.replace(/^\{"kind":"(\w+)",("symbol":"[^"]*")/, '{$2,"kind":"$1"');
      case 7:
        return m.replace(/"(\w+)":/, (_all, k: string) => `"${k.toUpperCase()}":`);
      default:
        return pick([' ', '\ufeff']) + m;
    }
  };

  return (): string => (rand() < 0.7 ? message() : damage(message()));
}

describe('parseCanonicalEvent (the fast path of parseEvent)', () => {
  it('agrees with JSON.parse + validateEvent on every generated message, valid or not', () => {
    const next = generator(20260106);
    const mismatches: string[] = [];
    const rules = new Set<string>();
    let fast = 0;
    let total = 0;
    for (let k = 0; k < 40_000; k++) {
      const m = next();
      for (const policy of POLICIES) {
        total++;
        const general = parseJsonEvent(m, policy);
        const quick = parseCanonicalEvent(m, policy);
        const result = parseEvent(m, policy);
        if (general instanceof EventReject) rules.add(general.rule);
        if (quick !== null) fast++;
        if (!isDeepStrictEqual(result, general) || (quick !== null && !isDeepStrictEqual(quick, general))) {
          if (mismatches.length < 5) mismatches.push(`${JSON.stringify(m)}: fast ${JSON.stringify(quick)} vs general ${JSON.stringify(general)}`);
        }
      }
    }
    expect(mismatches, 'parseEvent must return exactly what JSON.parse + validateEvent return (events field for field, rejects with the same rule and message)').toEqual([]);
    expect(fast / total, 'the fast path must take the canonical share of the messages, else it is not exercised').toBeGreaterThan(0.1);
    expect([...rules].sort(), 'the corpus must reach every reject rule of validateEvent').toEqual(
      ['crossed_quote', 'future', 'malformed', 'missing', 'negative', 'non_finite', 'non_positive', 'ohlc_inconsistent', 'past', 'type', 'unknown_kind', 'unknown_symbol'],
    );
  });

  it('converts numbers exactly as JSON.parse does, fast-path digits and Number() alike', () => {
    const policy = POLICIES[1] as ValidationPolicy;
    const rand = mulberry32(53);
    const cases = ['0.1', '0.3', '190.1', '190.10', '9007199254740991', '9007199254740993', '123456789012345.678', '1.0000000000000002', '0.1234567890123456789012', '0.12345678901234567890123', '5e-324', '1e22', '1.7976931348623157e308'];
    for (let k = 0; k < 20_000; k++) {
      const int = String(Math.floor(rand() * 10 ** Math.floor(rand() * 17)));
      const frac = String(Math.floor(rand() * 1e9)).padStart(9, '0').slice(0, Math.floor(rand() * 10));
      cases.push(frac === '' ? int : `${int}.${frac}`);
      // Small mantissas with long fractions: around the 22-digit limit of exact powers of ten.
      cases.push(`0.${'0'.repeat(Math.floor(rand() * 22))}${String(1 + Math.floor(rand() * 1e9))}`);
    }
    const wrong: string[] = [];
    for (const n of cases) {
      const e = parseCanonicalEvent(`{"kind":"trade","symbol":"AAPL","ts":${NOW},"source":"s","id":"i","price":1,"size":${n}}`, policy);
      const want = JSON.parse(n) as number;
      if (e === null || e.kind !== 'trade' || !Object.is(e.size, want)) wrong.push(`${n}: got ${e === null ? 'no fast path' : String((e as { size: number }).size)}, JSON.parse ${want}`);
    }
    expect(wrong.slice(0, 5), 'every canonical number must take the fast path and equal JSON.parse bit for bit').toEqual([]);
  });

  it('takes every message of the benchmark feed', () => {
    const policy = POLICIES[1] as ValidationPolicy;
    const messages = tickMessages(2_000, { startTs: NOW - 60_000, stepMs: 10 });
    expect(messages.filter((m) => parseCanonicalEvent(m, policy) === null), 'the feed format is canonical').toEqual([]);
  });
});
