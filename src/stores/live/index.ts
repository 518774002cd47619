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
  type IndicatorPoint,
  type IndicatorProvider,
} from './live-store.js';
export { CandleRing, CANDLE_SLOT_BYTES, UpsertResult, type EvictListener } from './candle-ring.js';
