export { buildApi, streamHubOf } from './build-api.js';
export { buildOpsApi, type OpsApiDeps } from './build-ops-api.js';
export { type ApiDeps, type HealthReport, type HealthStatus } from './api-deps.js';
export { errorBody, type ErrorBody } from './error-reply.js';
export { toCandleRow, type CandleRow } from './routes/candles-route.js';
export { type SymbolRow } from './routes/symbols-route.js';
export { type LakeApi } from './routes/lake-routes.js';
export { type MarketsSource, type MarketRow } from './routes/markets-route.js';
export { type PipelineSource, type PipelineReport } from './routes/pipeline-route.js';
export { type RejectRow } from './routes/rejects-route.js';
export { MAX_SPARKLINE_POINTS, type SparklinesReply } from './routes/sparklines-route.js';
export { MAX_MESSAGES_PER_PAGE, type TopicRow, type MessageRow, type MessagesPage } from './routes/topics-routes.js';
export { recordValue, readRange, MAX_VALUE_BYTES, type LogReader, type RecordValue, type ValueEncoding } from './log-view/index.js';
export { PipelineSampler, type PipelineStage, type StageRate, type PipelineRates, type PipelineSamplerOptions } from './pipeline/index.js';
export { registerWebApp, shippedWebDir } from './web-app/index.js';
export {
  StreamHub,
  StreamClient,
  DEFAULT_STREAM_OPTIONS,
  parseClientMessage,
  STREAM_CHANNELS,
  REFRESH_CHANNEL,
  type StreamHubOptions,
  type StreamHubStats,
  type LatencyProbe,
  type StreamSocket,
  type StreamClock,
  type StreamCounters,
  type ClientMessage,
} from './ws/index.js';
