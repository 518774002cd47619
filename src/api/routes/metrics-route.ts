import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps.js';

export function registerMetricsRoute(app: FastifyInstance, deps: Pick<ApiDeps, 'metrics' | 'metricsContentType'>): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics();
    return reply.type(deps.metricsContentType).send(text);
  });
}
