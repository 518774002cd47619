import type { FastifyInstance } from 'fastify';
import type { JobInfo, JobRun, ModelRunResult, ModelTestResult, SqlResult } from '../../lakehouse/index.js';
import { StockStreamError } from '../../shared/errors.js';
import { rejectUnknown, type Query } from '../schemas/query-params.js';

/** What the lake routes need; the composition root adapts the Lakehouse to it. */
export interface LakeApi {
  sql(sql: unknown): Promise<SqlResult>;
  jobs(): Promise<JobInfo[]>;
  jobRuns(options: { job?: string; limit?: number }): Promise<JobRun[]>;
  runJob(name: string): Promise<JobRun>;
  runModels(options: { select?: string; fullRefresh?: boolean }): Promise<ModelRunResult>;
  testModels(options: { select?: string }): Promise<ModelTestResult[]>;
}

function bodyOf(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new StockStreamError('SS_API_BAD_REQUEST', `body: expected a JSON object, got ${Array.isArray(body) ? 'an array' : typeof body}`);
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new StockStreamError('SS_API_BAD_REQUEST', `body: unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; expected ${allowed.join(', ')}`);
  return body as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new StockStreamError('SS_API_BAD_REQUEST', `${key}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Lake endpoints (ARCHITECTURE.md §5): `POST /api/sql` {"sql"} → {"columns", "rows"} (plus
 * "truncated" and "elapsedMs"), the jobs list and run history, and manual job and model runs
 * (the CLI uses these when a platform is running, since only one process may open the lake).
 */
export function registerLakeRoutes(app: FastifyInstance, lake: LakeApi): void {
  app.post('/api/sql', async (request) => {
    const body = bodyOf(request.body, ['sql']);
    if (body.sql === undefined) throw new StockStreamError('SS_SQL_INVALID', 'sql: missing; send {"sql": "SELECT …"}');
    const r = await lake.sql(body.sql);
    return { columns: r.columns.map((c) => c.name), types: r.columns.map((c) => c.type), rows: r.rows, truncated: r.truncated, elapsedMs: Math.round(r.elapsedMs * 10) / 10 };
  });
  app.get('/api/jobs', async (request) => {
    rejectUnknown(request.query as Query, []);
    return lake.jobs();
  });
  app.get('/api/jobs/runs', async (request) => {
    const q = request.query as Query;
    rejectUnknown(q, ['job', 'limit']);
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) {
      throw new StockStreamError('SS_API_BAD_REQUEST', `limit: expected an integer from 1 to 10000, got ${JSON.stringify(q.limit)}`);
    }
    return lake.jobRuns({ ...(typeof q.job === 'string' ? { job: q.job } : {}), ...(limit === undefined ? {} : { limit }) });
  });
  app.post<{ Params: { job: string } }>('/api/jobs/:job/run', async (request) => lake.runJob(request.params.job));
  app.post('/api/models/run', async (request) => {
    const body = bodyOf(request.body, ['select', 'fullRefresh']);
    if (body.fullRefresh !== undefined && typeof body.fullRefresh !== 'boolean') throw new StockStreamError('SS_API_BAD_REQUEST', `fullRefresh: expected true or false, got ${JSON.stringify(body.fullRefresh)}`);
    const select = optionalString(body, 'select');
    const r = await lake.runModels({ ...(select === undefined ? {} : { select }), fullRefresh: body.fullRefresh === true });
    return { ...r, error: r.error === undefined ? undefined : { code: r.error.code, message: r.error.message } };
  });
  app.post('/api/models/test', async (request) => {
    const body = bodyOf(request.body, ['select']);
    const select = optionalString(body, 'select');
    return lake.testModels(select === undefined ? {} : { select });
  });
}
