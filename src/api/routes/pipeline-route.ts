import type { FastifyInstance } from 'fastify';
import { PipelineSampler, type PipelineStage, type StageRate } from '../pipeline/index.js';
import { rejectUnknown, type Query } from '../schemas/query-params.js';
import type { StreamHub, StreamHubStats } from '../ws/stream-hub.js';

/** What the Pipeline view reads of an instance; the composition root lists the stages its role runs. */
export interface PipelineSource {
  /** Running totals of the stages this instance runs, in flow order (the WebSocket stage is added by the API). */
  stages: readonly PipelineStage[];
  /** Lag per component in ms (the health report's `lagMs`). */
  lagMs: () => Record<string, number>;
  /** Events later than the allowed lateness so far; null where processing does not run. */
  lateEvents: () => number | null;
  now?: () => number;
}

/** `GET /api/pipeline` body. */
export interface PipelineReport {
  at: number;
  windowMs: number;
  stages: StageRate[];
  lagMs: Record<string, number>;
  /** The `rejects` stage again, for the rejects badge; null where ingest does not run. */
  rejects: { total: number; perSecond: number } | null;
  lateEvents: number | null;
  /** The WebSocket hub's counters; null where no dashboard is served. */
  stream: StreamHubStats | null;
}

/**
 * `GET /api/pipeline`: throughput per stage from a sampler over the components' own counters
 * (one sample a second, rates over ten), lag per component, rejects, late events and the
 * WebSocket hub's counters. The sampler's timer stops when the app closes.
 */
export function registerPipelineRoute(app: FastifyInstance, source: PipelineSource, hub: StreamHub | null): void {
  const stages: PipelineStage[] = [...source.stages];
  if (hub !== null) stages.push({ stage: 'stream', label: 'WebSocket messages sent', total: () => hub.stats().messagesWritten });
  const sampler = new PipelineSampler({ stages, ...(source.now === undefined ? {} : { now: source.now }) });
  sampler.start();
  app.addHook('onClose', async () => sampler.stop());
  app.get('/api/pipeline', async (request): Promise<PipelineReport> => {
    rejectUnknown(request.query as Query, []);
    const r = sampler.rates();
    const rejects = r.stages.find((s) => s.stage === 'rejects');
    return {
      at: r.at,
      windowMs: r.windowMs,
      stages: r.stages,
      lagMs: source.lagMs(),
      rejects: rejects === undefined ? null : { total: rejects.total, perSecond: rejects.perSecond },
      lateEvents: source.lateEvents(),
      stream: hub === null ? null : hub.stats(),
    };
  });
}
