import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeIndicators, parseIndicatorSpec, readOhlcvCsv } from '../../../src/processors/indicators/index.js';
import { randomWalk } from '../../processors/indicators/helpers/series.js';
import { talibCompute, vwapReference } from '../../processors/indicators/helpers/talib-oracle.js';

/**
 * Golden test for `stockstream indicators` (ARCHITECTURE.md §5): a checked-in OHLCV CSV in, the
 * exact JSON out. The expected values were produced by TA-Lib (node talib 1.1.6) for the TA-Lib
 * indicators and by the per-session reference for VWAP; regenerate both files with
 *   UPDATE_GOLDEN=1 npx vitest run test/golden/indicators
 * The CSV puts the columns out of order and adds one to ignore, as real exports do.
 */
const CSV = fileURLToPath(new URL('./ohlcv-5m.csv', import.meta.url));
const EXPECTED = fileURLToPath(new URL('./ohlcv-5m.expected.json', import.meta.url));
const SEED = 20_260_301;
const SPECS = [
  'sma:20', 'ema:20', 'wma:20', 'rsi:14', 'macd:12:26:9', 'bbands:20:2', 'atr:14', 'stoch:14:3:3',
  'adx:14', 'cci:20', 'willr:14', 'mfi:14', 'obv', 'roc:10', 'vwap',
];

function regenerate(): void {
  // 300 five-minute bars: 78 per NYSE session (14:30-21:00 UTC), so VWAP restarts three times.
  const bars = randomWalk({ seed: SEED, bars: 300, start: 187.5, cents: true, barsPerSession: 78 });
  const lines = ['timestamp,symbol,close,open,high,low,volume'];
  bars.forEach((b, i) => {
    const day = Math.floor(i / 78);
    const ts = Date.UTC(2024, 2, 4 + day, 14, 30) + (i % 78) * 300_000;
    lines.push([new Date(ts).toISOString(), 'AAPL', b.close, b.open, b.high, b.low, b.volume].join(','));
  });
  writeFileSync(CSV, `${lines.join('\n')}\n`);
  const rows = readOhlcvCsv(readFileSync(CSV, 'utf8'));
  const indicators: Record<string, Record<string, (number | null)[]>> = {};
  for (const spec of SPECS) {
    indicators[spec] = spec === 'vwap' ? { value: vwapReference(rows) } : talibCompute(parseIndicatorSpec(spec), rows).outputs;
  }
  // One output array per line keeps diffs readable.
  const body = SPECS.map((spec) => {
    const outs = Object.entries(indicators[spec] ?? {}).map(([o, col]) => `      ${JSON.stringify(o)}: ${JSON.stringify(col)}`);
    return `    ${JSON.stringify(spec)}: {\n${outs.join(',\n')}\n    }`;
  });
  writeFileSync(EXPECTED, `{\n  "rows": ${rows.length},\n  "indicators": {\n${body.join(',\n')}\n  }\n}\n`);
}

describe('golden: stockstream indicators over a recorded 5-minute session file', () => {
  if (process.env.UPDATE_GOLDEN === '1') regenerate();

  it('reproduces the expected JSON exactly', () => {
    const rows = readOhlcvCsv(readFileSync(CSV, 'utf8'));
    const expected = JSON.parse(readFileSync(EXPECTED, 'utf8')) as unknown;
    // Through JSON, as the CLI prints it: the comparison is on what users see.
    const actual = JSON.parse(JSON.stringify(computeIndicators(rows, SPECS))) as unknown;
    expect(actual, 'batch output must equal the TA-Lib-produced golden file value for value').toEqual(expected);
  });
});
