import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/index.js';
import { lakeApiOf } from '../../src/apps/index.js';
import { Lakehouse } from '../../src/lakehouse/index.js';
import { loadConfig } from '../../src/shared/config/index.js';
import { referenceData } from '../lakehouse/models/lake-fixture.js';
import { deps, storeWithData } from './fixtures.js';

let dir: string;
let lake: Lakehouse;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ss-lake-api-'));
  const config = loadConfig({ env: {}, overrides: { 'lake.sql.maxRows': 5 } });
  lake = await Lakehouse.open({ lakeDir: join(dir, 'lake'), settings: { ...config.lake, jobs: { ...config.lake.jobs, enabled: false } }, reference: referenceData() });
  app = buildApi(deps(storeWithData(), { lake: lakeApiOf(() => lake) }));
});

afterAll(async () => {
  await app.close();
  await lake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } }> {
  const res = await app.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, body: res.json() };
}

describe('lake routes', () => {
  it('POST /api/sql answers {columns, rows}, cut at the row limit, and refuses writes and bad bodies with 400', async () => {
    const ok = await call('POST', '/api/sql', { sql: 'SELECT range AS n FROM range(3)' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ columns: ['n'], types: ['BIGINT'], rows: [[0], [1], [2]], truncated: false });
    const cut = await call('POST', '/api/sql', { sql: 'SELECT * FROM range(100)' });
    expect([(cut.body.rows as unknown[]).length, cut.body.truncated], 'lake.sql.maxRows applies').toEqual([5, true]);
    const write = await call('POST', '/api/sql', { sql: 'DROP TABLE meta.lake_files' });
    expect([write.status, write.body.error?.code]).toEqual([400, 'SS_SQL_READONLY']);
    expect((await call('POST', '/api/sql', {})).body.error?.message).toMatch(/sql: missing; send \{"sql": "SELECT …"\}/);
    expect((await call('POST', '/api/sql', { sql: 'SELECT 1', limit: 3 })).body.error?.message).toMatch(/unknown field "limit"; expected sql/);
    expect((await call('POST', '/api/sql', { sql: 42 })).body.error?.code).toBe('SS_SQL_INVALID');
  });

  it('lists jobs and their runs, runs a job and the models on request, and says what is wrong', async () => {
    const jobs = await call('GET', '/api/jobs');
    expect((jobs.body as unknown as { name: string }[]).map((j) => j.name)).toEqual(['lake.incremental', 'lake.maintenance']);
    const run = await call('POST', '/api/jobs/lake.incremental/run');
    expect(run.body).toMatchObject({ job: 'lake.incremental', trigger: 'manual', status: 'success' });
    const runs = await call('GET', '/api/jobs/runs?job=lake.incremental&limit=5');
    expect((runs.body as unknown as { runId: number }[])[0]?.runId).toBe(run.body.runId);
    expect((await call('GET', '/api/jobs/runs?limit=0')).body.error?.message).toMatch(/limit: expected an integer from 1 to 10000, got "0"/);
    expect((await call('POST', '/api/jobs/nope/run')).status).toBe(404);
    const models = await call('POST', '/api/models/run', { select: 'silver' });
    expect(models.body.status, 'nothing new since the job ran').toBe('skipped');
    expect((await call('POST', '/api/models/run', { fullRefresh: 'yes' })).body.error?.message).toMatch(/fullRefresh: expected true or false, got "yes"/);
    expect((await call('POST', '/api/models/run', { select: 'nope' })).body.error?.message).toMatch(/No model named nope/);
    const tests = await call('POST', '/api/models/test', { select: 'gold.kpi_latest' });
    expect((tests.body as unknown as { status: string }[]).every((t) => t.status === 'pass')).toBe(true);
  });
});
