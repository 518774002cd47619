export { buildApi, streamHubOf } from './build-api.js';
export { buildOpsApi, type OpsApiDeps } from './build-ops-api.js';
export { type ApiDeps, type HealthReport, type HealthStatus } from './api-deps.js';
export { errorBody, type ErrorBody } from './error-reply.js';
export { toCandleRow, type CandleRow } from './routes/candles-route.js';
export { type SymbolRow } from './routes/symbols-route.js';
export { type LakeApi } from './routes/lake-routes.js';
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
