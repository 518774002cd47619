import { describe, expect, it } from 'vitest';
import { buildOpsApi } from '../../src/api/index.js';

describe('the HTTP face of ingest, process and lake instances', () => {
  it('answers health (503 when down) and metrics, and says where the rest of the API is', async () => {
    let status: 'ok' | 'down' = 'ok';
    const app = buildOpsApi({ role: 'process', health: () => ({ status, components: {} }), metrics: async () => 'stockstream_up 1\n', metricsContentType: 'text/plain; version=0.0.4' });
    try {
      expect((await app.inject({ url: '/api/health' })).statusCode, 'healthy: 200').toBe(200);
      status = 'down';
      expect((await app.inject({ url: '/api/health' })).statusCode, 'down: 503 for orchestrators').toBe(503);
      expect((await app.inject({ url: '/metrics' })).body, 'Prometheus text').toBe('stockstream_up 1\n');
      const r = await app.inject({ url: '/api/kpis' });
      expect(r.statusCode, 'market data is not served here').toBe(404);
      expect((r.json() as { error: { message: string } }).error.message, 'the error names the role and where to go').toMatch(/on a process instance.*serve instances \(up --role serve\)/);
    } finally {
      await app.close();
    }
  });
});
