import type { Candle, Interval } from '../domain/index.js';
import type { LiveStore } from '../stores/index.js';
import type { CandleHistory } from './routes/candles-route.js';
import type { LogReader } from './log-view/index.js';
import type { LakeApi } from './routes/lake-routes.js';
import type { MarketsSource } from './routes/markets-route.js';
import type { PipelineSource } from './routes/pipeline-route.js';
import type { LatencyProbe } from './ws/stream-hub.js';

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface HealthReport {
  status: HealthStatus;
  components: Record<string, { status: HealthStatus; lagMs?: number; detail?: string; [k: string]: unknown }>;
}

/** Everything the HTTP/WebSocket layer needs; the composition root (apps/) builds it. */
export interface ApiDeps {
  store: LiveStore;
  health: () => HealthReport;
  /** Prometheus text exposition. */
  metrics: () => Promise<string>;
  metricsContentType: string;
  /** Computes specs not maintained live from the candle ring (oldest first). */
  indicatorFallback?: (symbol: string, interval: Interval, spec: string, candles: Candle[]) => { start: number; value: unknown }[];
  /** Throws StockStreamError SS_INDICATOR_SPEC for a bad spec, which the API answers with 400. */
  validateIndicatorSpec?: (spec: string) => void;
  /** Candles older than the live rings (the warehouse); absent: the rings only. */
  candleHistory?: CandleHistory;
  /** SQL, jobs and models over the lake; absent when the lake is off. */
  lake?: LakeApi;
  /** The log (journal or Kafka): the topic browser and the rejects view; absent, those routes are too. */
  log?: LogReader;
  /** Exchange calendars and the clock for `GET /api/markets`; absent, the route is too. */
  markets?: MarketsSource;
  /** The counters of the stages this instance runs, for `GET /api/pipeline`; absent, the route is too. */
  pipeline?: PipelineSource;
  /**
   * The built dashboard (index.html, assets/) served at `/`; absent, or without index.html, `/`
   * answers 503 with a page saying to run `npm run build`.
   */
  webDir?: string;
  /** Passed to Fastify's `logger` option; off by default. */
  logger?: boolean | object;
  stream?: {
    maxPerSecondPerSymbol?: number;
    maxBufferedBytes?: number;
    latencyProbe?: LatencyProbe;
  };
}
