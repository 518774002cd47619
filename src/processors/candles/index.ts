export { CandleOperator, type CandleStats, type CandleCheckpoint } from './candle-operator.js';
export { type CandleOperatorOptions, type LateInfo } from './candle-options.js';
