export {
  LiveStore,
  DEFAULT_DEPTHS,
  CANDLE_CHANNELS,
  TICKS_CHANNEL,
  KPIS_CHANNEL,
  CandleRing,
  CANDLE_SLOT_BYTES,
  UpsertResult,
  type EvictListener,
  type LiveStoreOptions,
  type RangeQuery,
  type LastTick,
  type LiveStoreStats,
  type ChangeListener,
  type IndicatorPoint,
  type IndicatorProvider,
} from './live/index.js';
export { CandleWarehouse, type CandleWarehouseOptions } from './warehouse/candle-warehouse.js';
export { LiveFanoutPublisher, RedisFanout, MemoryCache, cached, parseLiveMessage, type LiveMessage, type LivePublish, type RedisFanoutOptions, type RefreshNotice, type ResponseCache } from './fanout/index.js';
export { PgWarehouse, PgWarehouseWriter, migrate, WAREHOUSE_MIGRATIONS, type PgWarehouseOptions, type PgWarehouseWriterOptions, type PgWarehouseWriterStats, type WarehouseIndicatorSet, type WarehouseAlert, type AlertQuery, type Migration } from './warehouse/postgres/index.js';
