import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { useErrorReplies } from './error-reply.js';
import { KPI_PAGE_HTML } from './page/kpi-page.js';
import { registerCandlesRoute } from './routes/candles-route.js';
import { registerHealthRoute } from './routes/health-route.js';
import { registerIndicatorsRoute } from './routes/indicators-route.js';
import { registerKpisRoute } from './routes/kpis-route.js';
import { registerLakeRoutes } from './routes/lake-routes.js';
import { registerMetricsRoute } from './routes/metrics-route.js';
import { registerSymbolsRoute } from './routes/symbols-route.js';
import { StreamHub } from './ws/stream-hub.js';
import { registerStreamRoute } from './ws/stream-route.js';

/** Client messages are small subscriptions; this bounds what one frame can make the server parse. */
const MAX_CLIENT_MESSAGE_BYTES = 256 * 1024;

const hubs = new WeakMap<FastifyInstance, StreamHub>();

/** The stream hub of an app built by buildApi, for metrics (`stats()`) and benchmarks. */
export function streamHubOf(app: FastifyInstance): StreamHub {
  const hub = hubs.get(app);
  if (hub === undefined) throw new TypeError('streamHubOf: this Fastify instance was not built by buildApi');
  return hub;
}

/**
 * The HTTP API, WebSocket stream and KPI page (ARCHITECTURE.md §5). Returns the app without
 * listening: the composition root owns ports and lifecycle. Closing the app closes the hub.
 */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({ logger: (deps.logger ?? false) as boolean }) as unknown as FastifyInstance;
  const hub = new StreamHub(deps.store, deps.stream);
  hubs.set(app, hub);

  useErrorReplies(app, (method, path) =>
    deps.lake === undefined
      ? `route: no ${method} ${path}; routes are GET /api/health, /api/symbols, /api/candles, /api/indicators, /api/kpis, /metrics, / and WebSocket /api/stream; SQL, jobs and models are served where the lake runs (up --role all, or the lake instance)`
      : `route: no ${method} ${path}; routes are GET /api/health, /api/symbols, /api/candles, /api/indicators, /api/kpis, /api/jobs, /api/jobs/runs, /metrics, /, POST /api/sql, /api/jobs/<job>/run, /api/models/run, /api/models/test and WebSocket /api/stream`,
  );
  app.addHook('onClose', async () => hub.close());

  void app.register(websocket, { options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES } });
  void app.register(async (scoped) => registerStreamRoute(scoped, hub));

  registerHealthRoute(app, deps);
  registerSymbolsRoute(app, deps.store);
  registerCandlesRoute(app, deps.store, deps.candleHistory);
  registerIndicatorsRoute(app, deps);
  registerKpisRoute(app, deps.store);
  registerMetricsRoute(app, deps);
  if (deps.lake !== undefined) registerLakeRoutes(app, deps.lake);
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(KPI_PAGE_HTML));
  return app;
}
