export {
  type Indicator,
  type OhlcvBar,
  type MacdValue,
  type BbandsValue,
  type StochValue,
  VALUE_OUTPUTS,
  MACD_OUTPUTS,
  BBANDS_OUTPUTS,
  STOCH_OUTPUTS,
} from './indicator.js';
export { parseIndicatorSpec, INDICATOR_KINDS, MAX_PERIOD, type IndicatorSpec, type PeriodKind } from './spec.js';
export { createIndicator } from './create-indicator.js';
export { computeIndicators, type IndicatorTable } from './batch.js';
export { readOhlcvCsv } from './ohlcv-csv.js';
export { Sma } from './sma.js';
export { Ema } from './ema.js';
export { Wma } from './wma.js';
export { Rsi } from './rsi.js';
export { Macd } from './macd.js';
export { Bbands } from './bbands.js';
export { Atr } from './atr.js';
export { Stoch } from './stoch.js';
export { Adx } from './adx.js';
export { Cci } from './cci.js';
export { Willr } from './willr.js';
export { Mfi } from './mfi.js';
export { Obv } from './obv.js';
export { Roc } from './roc.js';
export { Vwap } from './vwap.js';
