import { Adx } from './adx.js';
import { Atr } from './atr.js';
import { Bbands } from './bbands.js';
import { Cci } from './cci.js';
import { Ema } from './ema.js';
import type { Indicator } from './indicator.js';
import { Macd } from './macd.js';
import { Mfi } from './mfi.js';
import { Obv } from './obv.js';
import { Roc } from './roc.js';
import { Rsi } from './rsi.js';
import { Sma } from './sma.js';
import { type IndicatorSpec, parseIndicatorSpec } from './spec.js';
import { Stoch } from './stoch.js';
import { Vwap } from './vwap.js';
import { Willr } from './willr.js';
import { Wma } from './wma.js';

/** Builds the streaming indicator for a spec string or a parsed spec; throws SS_INDICATOR_SPEC on a bad one. */
export function createIndicator(spec: string | IndicatorSpec): Indicator<unknown> {
  const s = typeof spec === 'string' ? parseIndicatorSpec(spec) : spec;
  switch (s.kind) {
    case 'sma':
      return new Sma(s.period);
    case 'ema':
      return new Ema(s.period);
    case 'wma':
      return new Wma(s.period);
    case 'rsi':
      return new Rsi(s.period);
    case 'atr':
      return new Atr(s.period);
    case 'adx':
      return new Adx(s.period);
    case 'cci':
      return new Cci(s.period);
    case 'willr':
      return new Willr(s.period);
    case 'mfi':
      return new Mfi(s.period);
    case 'roc':
      return new Roc(s.period);
    case 'macd':
      return new Macd(s.fast, s.slow, s.signal);
    case 'bbands':
      return new Bbands(s.period, s.k);
    case 'stoch':
      return new Stoch(s.fastK, s.slowK, s.slowD);
    case 'obv':
      return new Obv();
    case 'vwap':
      return new Vwap();
  }
}
