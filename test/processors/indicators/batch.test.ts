import { describe, expect, it } from 'vitest';
import { computeIndicators, createIndicator, parseIndicatorSpec, readOhlcvCsv } from '../../../src/processors/indicators/index.js';
import { isStockStreamError } from '../../../src/shared/errors.js';
import { testSeed } from '../../fixtures/random.js';
import { randomWalk } from './helpers/series.js';
import { talibCompute } from './helpers/talib-oracle.js';

describe('computeIndicators', () => {
  const seed = testSeed(4242);
  const bars = randomWalk({ seed, bars: 500, cents: true });

  it(`aligns every output to the input rows and equals the streaming classes and TA-Lib (seed ${seed})`, () => {
    const specs = ['rsi:14', 'macd:12:26:9', 'bbands:20:2', 'stoch:14:3:3', 'obv', 'vwap'];
    const table = computeIndicators(bars, specs);
    expect(table.rows, 'rows counts the input bars').toBe(500);
    expect(Object.keys(table.indicators), 'one entry per spec, in order').toEqual(specs);
    expect(Object.keys(table.indicators['macd:12:26:9'] ?? {}), 'MACD outputs').toEqual(['macd', 'signal', 'histogram']);
    expect(Object.keys(table.indicators['bbands:20:2'] ?? {}), 'Bollinger outputs').toEqual(['upper', 'middle', 'lower']);
    expect(Object.keys(table.indicators['stoch:14:3:3'] ?? {}), 'Stochastic outputs').toEqual(['k', 'd']);
    expect(Object.keys(table.indicators['rsi:14'] ?? {}), 'single-output indicators use "value"').toEqual(['value']);
    for (const spec of specs) {
      const ind = createIndicator(spec);
      const streamed = bars.map((b) => ind.update(b));
      for (const [output, col] of Object.entries(table.indicators[spec] ?? {})) {
        expect(col, `${spec}.${output}: one value per row`).toHaveLength(500);
        const fromStream = streamed.map((v) => (v === null ? null : typeof v === 'number' ? v : (v as Record<string, number>)[output]));
        expect(col, `${spec}.${output}: batch must be the streaming path, value for value`).toEqual(fromStream);
      }
      if (spec !== 'vwap') {
        expect(table.indicators[spec], `${spec}: batch equals TA-Lib bit for bit`).toEqual(talibCompute(parseIndicatorSpec(spec), bars).outputs);
      }
    }
  });

  it('validates every spec before computing and keys results by the spec as given', () => {
    expect(() => computeIndicators(bars, ['sma:20', 'rsi:x']), 'a bad spec fails the whole call').toThrow(/indicator "rsi:x": period/);
    const table = computeIndicators(bars.slice(0, 3), [' SMA:2 ']);
    expect(table.indicators['SMA:2'], 'trimmed spec is the key; warm-up rows are null').toEqual({ value: [null, (bars[0]!.close + bars[1]!.close) / 2, (bars[1]!.close + bars[2]!.close) / 2] });
    expect(computeIndicators([], ['macd:12:26:9']), 'no rows: empty aligned arrays').toEqual({ rows: 0, indicators: { 'macd:12:26:9': { macd: [], signal: [], histogram: [] } } });
  });
});

describe('readOhlcvCsv', () => {
  function fileError(text: string): string {
    try {
      readOhlcvCsv(text);
    } catch (err) {
      expect(isStockStreamError(err, 'SS_CLI_FILE'), 'bad CSV fails with SS_CLI_FILE').toBe(true);
      return (err as Error).message;
    }
    throw new Error('the CSV was accepted but must be rejected');
  }

  it('finds columns by name in any order, ignores others, and derives the session from the time column', () => {
    const csv = '\uFEFFSymbol,Close,TIMESTAMP,Open,High,Low,Volume,note\r\n' +
      'AAPL,10.5,2024-03-01T14:30:00Z,10,11,9.5,1000,"a, quoted ""note"""\r\n' +
      '\r\n' +
      'AAPL,11,2024-03-04 09:30,10.5,11.2,10.4,1e3,x\r\n';
    expect(readOhlcvCsv(csv)).toEqual([
      { open: 10, high: 11, low: 9.5, close: 10.5, volume: 1000, session: '2024-03-01' },
      { open: 10.5, high: 11.2, low: 10.4, close: 11, volume: 1000, session: '2024-03-04' },
    ]);
    const epoch = readOhlcvCsv('time,open,high,low,close,volume\n1709303400000,1,1,1,1,1\n1709303400,1,1,1,1,1\n');
    expect(epoch.map((b) => b.session), 'epoch ms and s both map to the UTC date').toEqual(['2024-03-01', '2024-03-01']);
    expect(readOhlcvCsv('date,open,high,low,close,volume,time\n2024-01-02,1,2,0.5,1.5,10,x\n')[0]?.session, '"date" wins over "time"').toBe('2024-01-02');
  });

  it('names the line, the column and the value in errors', () => {
    const head = 'date,open,high,low,close,volume\n';
    expect(fileError(`${head}2024-01-02,1,2,0.5,1.5,10\n2024-01-03,1,2,0.5,abc,10\n`)).toBe('line 3, column "close": expected a number, got "abc"');
    expect(fileError(`${head}2024-01-02,1,2,0.5,,10\n`)).toBe('line 2, column "close": expected a number, got ""');
    expect(fileError(`${head}2024-01-02,1,2,0.5,1.5,-5\n`)).toBe('line 2, column "volume": expected a non-negative number, got "-5"');
    expect(fileError(`${head}2024-01-02,1,2,0.5,1.5\n`)).toBe('line 2: expected 6 fields like the header, got 5');
    expect(fileError(`${head}yesterday,1,2,0.5,1.5,10\n`)).toContain('line 2, column "date": expected a date or time');
    expect(fileError('date,open,high,low,volume\n')).toContain('the header lacks "close"');
    expect(fileError('open,high,low,close,volume\n')).toContain('the header lacks a time column (date, time or timestamp)');
    expect(fileError('\n\n')).toContain('the file is empty');
    expect(fileError(`${head}"2024-01-02,1,2,0.5,1.5,10\n`)).toContain('line 2: a quoted field is not closed');
  });
});
