import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { useErrorReplies } from './error-reply.js';
import { registerHealthRoute } from './routes/health-route.js';
import { registerMetricsRoute } from './routes/metrics-route.js';
import { registerLakeRoutes, type LakeApi } from './routes/lake-routes.js';
import { registerPipelineRoute } from './routes/pipeline-route.js';
import { registerRejectsRoute } from './routes/rejects-route.js';
import { registerTopicRoutes } from './routes/topics-routes.js';

export type OpsApiDeps = Pick<ApiDeps, 'health' | 'metrics' | 'metricsContentType' | 'log' | 'pipeline'> & {
  role: string;
  /** The lake instance also answers SQL, jobs and model runs (the lake database lives there). */
  lake?: LakeApi;
};

/**
 * The HTTP face of an instance that serves no market data (`up --role ingest|process|lake`):
 * health for orchestrators, metrics for Prometheus, and — since every role has the log — the
 * topic browser, the rejects view and its own pipeline stages, so an operator can look at one
 * instance directly (plus the lake routes on the lake instance). The market data, the markets'
 * status and the dashboard are on the serve instances; the 404 says so.
 */
export function buildOpsApi(deps: OpsApiDeps): FastifyInstance {
  const app = Fastify({ logger: false }) as unknown as FastifyInstance;
  const gets = [
    '/api/health',
    ...(deps.pipeline === undefined ? [] : ['/api/pipeline']),
    ...(deps.log === undefined ? [] : ['/api/rejects', '/api/topics', '/api/topics/<topic>/messages']),
    ...(deps.lake === undefined ? [] : ['/api/jobs', '/api/jobs/runs']),
    '/metrics',
  ];
  const posts = deps.lake === undefined ? '' : ', POST /api/sql, /api/jobs/<job>/run, /api/models/run and /api/models/test';
  useErrorReplies(
    app,
    (method, path) =>
      `route: no ${method} ${path} on a ${deps.role} instance, which serves only GET ${gets.join(', ')}${posts}; the API and dashboard are on the serve instances (up --role serve)`,
  );
  registerHealthRoute(app, deps);
  registerMetricsRoute(app, deps);
  if (deps.pipeline !== undefined) registerPipelineRoute(app, deps.pipeline, null);
  if (deps.log !== undefined) {
    registerRejectsRoute(app, deps.log);
    registerTopicRoutes(app, deps.log);
  }
  if (deps.lake !== undefined) registerLakeRoutes(app, deps.lake);
  return app;
}
