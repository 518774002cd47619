export {
  LiveStore,
  DEFAULT_DEPTHS,
  CANDLE_CHANNELS,
  TICKS_CHANNEL,
  KPIS_CHANNEL,
  type LiveStoreOptions,
  type RangeQuery,
  type LastTick,
  type LiveStoreStats,
  type ChangeListener,
} from './live-store.js';
export { CandleRing, CANDLE_SLOT_BYTES, UpsertResult } from './candle-ring.js';
export { IndicatorRing, type IndicatorValue, type IndicatorInput, type IndicatorPoint } from './indicator-ring.js';
