import { describe, expect, it } from 'vitest';
import { createIndicator, parseIndicatorSpec } from '../../../src/processors/indicators/index.js';
import { isStockStreamError } from '../../../src/shared/errors.js';

function specError(spec: string): Error {
  try {
    parseIndicatorSpec(spec);
  } catch (err) {
    expect(isStockStreamError(err, 'SS_INDICATOR_SPEC'), `"${spec}" must fail with SS_INDICATOR_SPEC`).toBe(true);
    return err as Error;
  }
  throw new Error(`"${spec}" was accepted but must be rejected`);
}

describe('parseIndicatorSpec', () => {
  it('accepts every documented form and canonicalises it', () => {
    const cases: Record<string, string> = {
      'sma:20': 'sma:20',
      ' EMA:9 ': 'ema:9',
      'wma:2': 'wma:2',
      'rsi:14': 'rsi:14',
      'macd:12:26:9': 'macd:12:26:9',
      'bbands:20:2': 'bbands:20:2',
      'bbands:20:2.0': 'bbands:20:2',
      'bbands:20:.5': 'bbands:20:0.5',
      'atr:1': 'atr:1',
      'stoch:14:3:3': 'stoch:14:3:3',
      'adx:14': 'adx:14',
      'cci:20': 'cci:20',
      'willr:14': 'willr:14',
      'mfi:14': 'mfi:14',
      obv: 'obv',
      'roc:1': 'roc:1',
      vwap: 'vwap',
    };
    for (const [input, canonical] of Object.entries(cases)) {
      expect(parseIndicatorSpec(input).spec, `"${input}" is valid and canonicalises`).toBe(canonical);
      expect(createIndicator(input).spec, `createIndicator("${input}") reports the canonical spec`).toBe(canonical);
    }
  });

  it('names the field, the value and an example in the message', () => {
    expect(specError('rsi:x').message).toBe('indicator "rsi:x": period must be an integer >= 2, got "x"; e.g. rsi:14');
    expect(specError('sma:1').message, 'TA-Lib SMA needs period >= 2').toContain('period must be an integer >= 2');
    expect(specError('rsi').message).toBe('indicator "rsi": expected 1 parameter (period), got 0; e.g. rsi:14');
    expect(specError('macd:12:26').message).toContain('expected 3 parameters (fast period, slow period, signal period), got 2');
    expect(specError('macd:26:12:9').message).toContain('fast period must be smaller than slow period');
    expect(specError('macd:12:26:1').message, 'TA-Lib MACD misbehaves with signal 1').toContain('signal period must be an integer >= 2');
    expect(specError('bbands:20:-2').message).toContain('stddev multiplier must be a positive number, got "-2"');
    expect(specError('bbands:20:abc').message).toContain('got "abc"');
    expect(specError('stoch:0:3:3').message).toContain('fast %K period must be an integer >= 1');
    expect(specError('obv:3').message).toBe('indicator "obv:3": expected no parameters, got 1; e.g. obv');
    expect(specError('foo:3').message).toContain('unknown indicator "foo"; expected one of sma, ema');
    expect(specError('rsi:1.5').message, 'periods are integers').toContain('got "1.5"');
    expect(specError('ema:100001').message, 'TA-Lib caps periods at 100000').toContain('must be at most 100000');
    expect(specError('').message).toContain('unknown indicator ""');
  });
});
