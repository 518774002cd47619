import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps.js';

/** 503 when down so load balancers and `curl -f` see it; degraded still serves, so 200. */
export function registerHealthRoute(app: FastifyInstance, deps: Pick<ApiDeps, 'health'>): void {
  app.get('/api/health', async (_request, reply) => {
    const report = deps.health();
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });
}
