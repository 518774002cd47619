import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-deps.js';
import { useErrorReplies } from './error-reply.js';
import { registerHealthRoute } from './routes/health-route.js';
import { registerMetricsRoute } from './routes/metrics-route.js';
import { registerLakeRoutes, type LakeApi } from './routes/lake-routes.js';

export type OpsApiDeps = Pick<ApiDeps, 'health' | 'metrics' | 'metricsContentType'> & {
  role: string;
  /** The lake instance also answers SQL, jobs and model runs (the lake database lives there). */
  lake?: LakeApi;
};

/**
 * The HTTP face of an instance that serves no market data (`up --role ingest|process|lake`):
 * health for orchestrators and metrics for Prometheus (plus the lake routes on the lake
 * instance), and a 404 that says where the rest of the API is.
 */
export function buildOpsApi(deps: OpsApiDeps): FastifyInstance {
  const app = Fastify({ logger: false }) as unknown as FastifyInstance;
  useErrorReplies(
    app,
    (method, path) =>
      `route: no ${method} ${path} on a ${deps.role} instance, which serves only GET /api/health and /metrics${deps.lake === undefined ? '' : ', POST /api/sql, GET /api/jobs, /api/jobs/runs, POST /api/jobs/<job>/run, /api/models/run and /api/models/test'}; the API and dashboard are on the serve instances (up --role serve)`,
  );
  registerHealthRoute(app, deps);
  registerMetricsRoute(app, deps);
  if (deps.lake !== undefined) registerLakeRoutes(app, deps.lake);
  return app;
}
