export { LiveIndicators, type LiveIndicatorsOptions } from './live-indicators.js';
export { TickTask, candlesTopic, CANDLES_TOPIC_PREFIX, LATE_TOPIC, KPIS_TOPIC, type LiveSink, type TickTaskOptions, type TickTaskState } from './tick-task.js';
export { indicatorSeries } from './indicator-series.js';
