import { afterEach, describe, expect, it } from 'vitest';
import { buildOpsApi } from '../../src/api/index.js';
import { TempJournals } from './log-fixture.js';

const journals = new TempJournals();
afterEach(async () => journals.closeAll());

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

  it('with the log and its stages: the topic browser, rejects and pipeline, but not markets or the dashboard', async () => {
    const log = await journals.open();
    await log.ensureTopic('ticks', { partitions: 2 });
    const app = buildOpsApi({
      role: 'ingest',
      health: () => ({ status: 'ok', components: {} }),
      metrics: async () => '',
      metricsContentType: 'text/plain',
      log,
      pipeline: { stages: [{ stage: 'ingest', label: 'Events accepted', total: () => 7 }], lagMs: () => ({}), lateEvents: () => null },
    });
    try {
      expect((await app.inject({ url: '/api/topics' })).json(), 'the instance’s log').toMatchObject([{ name: 'ticks', messages: 0 }]);
      expect((await app.inject({ url: '/api/topics/ticks/messages?partition=1' })).statusCode, 'a partition page').toBe(200);
      expect((await app.inject({ url: '/api/rejects' })).json(), 'no dead-letter topic yet: none').toEqual([]);
      expect((await app.inject({ url: '/api/pipeline' })).json(), 'its own stages, no WebSocket hub').toMatchObject({ stages: [{ stage: 'ingest', total: 7 }], stream: null, lateEvents: null, rejects: null });
      for (const url of ['/api/markets', '/']) {
        const r = await app.inject({ url });
        expect(r.statusCode, `${url} is on the serve instances`).toBe(404);
        expect((r.json() as { error: { message: string } }).error.message, 'the 404 lists what this instance does serve').toContain('/api/topics/<topic>/messages');
      }
    } finally {
      await app.close();
    }
  });
});
