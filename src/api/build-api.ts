import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { useErrorReplies } from './error-reply.js';
import { registerCandlesRoute } from './routes/candles-route.js';
import { registerHealthRoute } from './routes/health-route.js';
import { registerIndicatorsRoute } from './routes/indicators-route.js';
import { registerKpisRoute } from './routes/kpis-route.js';
import { registerSparklinesRoute } from './routes/sparklines-route.js';
import { registerLakeRoutes } from './routes/lake-routes.js';
import { registerMarketsRoute } from './routes/markets-route.js';
import { registerMetricsRoute } from './routes/metrics-route.js';
import { registerPipelineRoute } from './routes/pipeline-route.js';
import { registerRejectsRoute } from './routes/rejects-route.js';
import { registerSymbolsRoute } from './routes/symbols-route.js';
import { registerTopicRoutes } from './routes/topics-routes.js';
import { registerWebApp } from './web-app/index.js';
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

/** The GET routes an app built from `deps` answers, for the 404 message. */
function routeList(deps: ApiDeps): string {
  const gets = [
    '/api/health',
    '/api/symbols',
    '/api/candles',
    '/api/indicators',
    '/api/kpis',
    '/api/sparklines',
    ...(deps.markets === undefined ? [] : ['/api/markets']),
    ...(deps.pipeline === undefined ? [] : ['/api/pipeline']),
    ...(deps.log === undefined ? [] : ['/api/rejects', '/api/topics', '/api/topics/<topic>/messages']),
    ...(deps.lake === undefined ? [] : ['/api/jobs', '/api/jobs/runs']),
    '/metrics',
    '/ (the dashboard and its files)',
  ];
  const posts = deps.lake === undefined ? '' : ', POST /api/sql, /api/jobs/<job>/run, /api/models/run, /api/models/test';
  const lakeNote = deps.lake === undefined ? '; SQL, jobs and models are served where the lake runs (up --role all, or the lake instance)' : '';
  return `routes are GET ${gets.join(', ')}${posts} and WebSocket /api/stream${lakeNote}`;
}

/**
 * The HTTP API, WebSocket stream and dashboard (ARCHITECTURE.md §5). Returns the app without
 * listening: the composition root owns ports and lifecycle. Closing the app closes the hub and
 * stops the pipeline sampler.
 */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({ logger: (deps.logger ?? false) as boolean }) as unknown as FastifyInstance;
  const hub = new StreamHub(deps.store, deps.stream);
  hubs.set(app, hub);

  const routes = routeList(deps);
  useErrorReplies(app, (method, path) => `route: no ${method} ${path}; ${routes}`);
  app.addHook('onClose', async () => hub.close());

  void app.register(websocket, { options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES } });
  void app.register(async (scoped) => registerStreamRoute(scoped, hub));

  registerHealthRoute(app, deps);
  registerSymbolsRoute(app, deps.store);
  registerCandlesRoute(app, deps.store, deps.candleHistory);
  registerIndicatorsRoute(app, deps);
  registerKpisRoute(app, deps.store);
  registerSparklinesRoute(app, deps.store);
  registerMetricsRoute(app, deps);
  if (deps.markets !== undefined) registerMarketsRoute(app, deps.store, deps.markets);
  if (deps.pipeline !== undefined) registerPipelineRoute(app, deps.pipeline, hub);
  if (deps.log !== undefined) {
    registerRejectsRoute(app, deps.log);
    registerTopicRoutes(app, deps.log);
  }
  if (deps.lake !== undefined) registerLakeRoutes(app, deps.lake);
  registerWebApp(app, deps.webDir);
  return app;
}
