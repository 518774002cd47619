import type { FastifyInstance } from 'fastify';
import type { LiveStore } from '../../stores/index.js';
import { rejectUnknown, type Query } from '../schemas/query-params.js';

export function registerKpisRoute(app: FastifyInstance, store: LiveStore): void {
  app.get('/api/kpis', async (request) => {
    rejectUnknown(request.query as Query, []);
    return store.kpis();
  });
}
