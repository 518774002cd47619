import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { calendarFor, type Candle, type Interval, type MarketCalendar } from '../../../src/domain/index.js';
import { CandleOperator } from '../../../src/processors/candles/index.js';
import { operatorTarget } from '../../processors/candles/operator-target.js';
import { ReferenceCandles } from './reference-candles.js';
import { generateSession, ndjsonToSteps, runSteps, stepsToNdjson } from './random-session.js';

/*
 * Golden session: the last 15 minutes of an NYSE day (2025-03-07, EST) and 5 minutes past the
 * close, for AAPL and MSFT (NYSE) and BTC-USD (crypto, with some 1m bars), with out-of-order,
 * late and after-hours events and a silent stretch for MSFT. input.ndjson is the recorded call
 * sequence (events; {"kind":"watermark"} lines end a batch); expected.json holds each call's
 * candles, written by the reference model (reference-candles.ts), never by the operator.
 * Regenerate both with: UPDATE_GOLDEN=1 npx vitest run test/golden/candles
 */
const dir = fileURLToPath(new URL('.', import.meta.url));
const inputPath = `${dir}input.ndjson`;
const expectedPath = `${dir}expected.json`;

const nyse = calendarFor('NYSE');
const crypto = calendarFor('CRYPTO');
const options = {
  intervals: ['1s', '1m', '5m', '15m', '1h', '1d'] as Interval[],
  calendarOf: (s: string): MarketCalendar => (s === 'BTC-USD' ? crypto : nyse),
  allowedLatenessMs: 2000,
  fillGaps: true,
  includeExtendedHours: false,
};

type Row = [string, string, number, number, number, number, number, number, number, number, number, boolean, number];
const toRow = (c: Candle): Row => [c.symbol, c.interval, c.start, c.end, c.open, c.high, c.low, c.close, c.volume, c.vwap, c.trades, c.final, c.rev];

if (process.env['UPDATE_GOLDEN'] === '1') {
  const steps = generateSession({
    seed: 20250307,
    symbols: ['AAPL', 'MSFT', 'BTC-USD'],
    from: Date.parse('2025-03-07T20:45:00Z'),
    to: Date.parse('2025-03-07T21:05:00Z'),
    meanGapMs: 400,
    jitterShare: 0.15,
    lateShare: 0.03,
    quoteShare: 0.05,
    barSymbol: 'BTC-USD',
    silence: [['MSFT', Date.parse('2025-03-07T20:51:10Z'), Date.parse('2025-03-07T20:53:40Z')]],
    watermarkDelayMs: 1000,
  });
  writeFileSync(inputPath, stepsToNdjson(steps));
  const ref = new ReferenceCandles(options);
  const calls = runSteps(ref, ndjsonToSteps(readFileSync(inputPath, 'utf8'))).map((cs) => cs.map(toRow));
  const lines = calls.map((cs) => `[${cs.map((r) => JSON.stringify(r)).join(',\n ')}]`);
  writeFileSync(expectedPath, `{"calls": [\n${lines.join(',\n')}\n]}\n`);
}

describe('golden: recorded NYSE close session → exact candles', () => {
  it('the checked-in files exist', () => {
    expect(existsSync(inputPath) && existsSync(expectedPath), 'input.ndjson and expected.json are checked in (UPDATE_GOLDEN=1 writes them)').toBe(true);
  });

  const steps = ndjsonToSteps(readFileSync(inputPath, 'utf8'));
  const expected = (JSON.parse(readFileSync(expectedPath, 'utf8')) as { calls: Row[][] }).calls;

  it('the operator reproduces every call’s candles exactly', () => {
    expect(expected.length, 'one expected entry per recorded call').toBe(steps.length);
    const got = runSteps(operatorTarget(new CandleOperator(options)), steps).map((cs) => cs.map(toRow));
    for (let i = 0; i < steps.length; i++) {
      expect(got[i], `call ${i} (${steps[i]!.type}) must emit exactly the expected candles`).toEqual(expected[i]);
    }
  });

  it('the expected file still matches the reference model (so it was not hand-edited)', () => {
    const ref = runSteps(new ReferenceCandles(options), steps).map((cs) => cs.map(toRow));
    expect(ref, 'the reference model must reproduce expected.json').toEqual(expected);
  });

  it('the session exercises what it claims to', () => {
    const all = expected.flat();
    expect(all.some((r) => r[12] > 0), 'some candle is amended after final (rev > 0)').toBe(true);
    expect(all.some((r) => r[10] === 0 && r[1] === '1m'), 'some 1m gap is filled').toBe(true);
    expect(all.some((r) => r[0] === 'AAPL' && r[1] === '1h' && r[3] - r[2] === 30 * 60_000), 'the 15:30–16:00 hour bar is cut at the close').toBe(true);
    expect(all.filter((r) => r[0] !== 'BTC-USD').every((r) => r[3] <= Date.parse('2025-03-07T21:00:00Z')), 'no NYSE candle after the 16:00 close').toBe(true);
  });
});
