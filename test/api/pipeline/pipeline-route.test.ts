import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi, buildOpsApi, type PipelineReport, type PipelineSource } from '../../../src/api/index.js';
import { deps, storeWithData } from '../fixtures.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Counters and a clock moved by hand: the route's sampler reads them like the platform's components. */
function source(): { clock: { now: number }; counts: { ingest: number; rejects: number }; source: PipelineSource } {
  const clock = { now: 5_000_000 };
  const counts = { ingest: 0, rejects: 0 };
  return {
    clock,
    counts,
    source: {
      stages: [
        { stage: 'ingest', label: 'Events accepted', total: () => counts.ingest },
        { stage: 'rejects', label: 'Events rejected (dead-lettered)', total: () => counts.rejects },
      ],
      lagMs: () => ({ processing: 120 }),
      lateEvents: () => 3,
      now: () => clock.now,
    },
  };
}

describe('GET /api/pipeline', () => {
  it('reports totals and rates per stage, the WebSocket stage last, lag, rejects, late events and the hub’s counters', async () => {
    const s = source();
    app = buildApi(deps(storeWithData(), { pipeline: s.source }));
    // The sampler took its first sample when the app was built; two seconds of flow follow.
    s.clock.now += 2000;
    s.counts.ingest = 3000;
    s.counts.rejects = 10;
    const body = (await app.inject({ url: '/api/pipeline' })).json() as PipelineReport;
    expect(body, 'the documented shape').toEqual({
      at: 5_002_000,
      windowMs: 2000,
      stages: [
        { stage: 'ingest', label: 'Events accepted', total: 3000, perSecond: 1500 },
        { stage: 'rejects', label: 'Events rejected (dead-lettered)', total: 10, perSecond: 5 },
        { stage: 'stream', label: 'WebSocket messages sent', total: 0, perSecond: 0 },
      ],
      lagMs: { processing: 120 },
      rejects: { total: 10, perSecond: 5 },
      lateEvents: 3,
      stream: expect.objectContaining({ clients: 0, messagesWritten: 0, framesWritten: 0, dropped: 0 }),
    });
    const nf = (await app.inject({ url: '/api/nope' })).json() as { error: { message: string } };
    expect(nf.error.message, 'the 404 lists the pipeline route').toContain('/api/pipeline');
  });

  it('on an instance without the dashboard (ops API) has no WebSocket stage and no stream counters', async () => {
    const s = source();
    app = buildOpsApi({ role: 'ingest', health: () => ({ status: 'ok', components: {} }), metrics: async () => '', metricsContentType: 'text/plain', pipeline: s.source });
    const body = (await app.inject({ url: '/api/pipeline' })).json() as PipelineReport;
    expect(body.stages.map((x) => x.stage), 'only the stages the instance runs').toEqual(['ingest', 'rejects']);
    expect(body.stream, 'no hub, no stream counters').toBeNull();
  });
});
