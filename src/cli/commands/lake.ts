import { lakeClient, type LakeClient } from '../../apps/index.js';
import type { JobRun, SqlResult } from '../../lakehouse/index.js';
import { StockStreamError } from '../../shared/errors.js';
import { configFrom, type CommonOptions } from './options.js';

async function withLake<T>(opts: CommonOptions, fn: (lake: LakeClient) => Promise<T>): Promise<T> {
  const lake = await lakeClient(configFrom(opts));
  try {
    return await fn(lake);
  } finally {
    await lake.close();
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double the quotes inside. */
function csvField(v: unknown): string {
  const s = cell(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const MAX_CELL = 60;

/** A plain-text table with a header rule; numbers right-aligned; long cells cut with an ellipsis. */
export function formatTable(r: Pick<SqlResult, 'columns' | 'rows'>): string {
  const names = r.columns.map((c) => c.name);
  const body = r.rows.map((row) => row.map((v) => {
    const s = cell(v);
    return s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s;
  }));
  const widths = names.map((n, i) => Math.max(n.length, ...body.map((row) => (row[i] ?? '').length)));
  const numeric = r.columns.map((_c, i) => r.rows.length > 0 && r.rows.every((row) => row[i] === null || typeof row[i] === 'number'));
  const line = (cells: string[]): string => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(names), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function formatCsv(r: Pick<SqlResult, 'columns' | 'rows'>): string {
  return [r.columns.map((c) => csvField(c.name)).join(','), ...r.rows.map((row) => row.map(csvField).join(','))].join('\r\n');
}

/** `json` prints an array of row objects (ARCHITECTURE.md §5). */
export function formatJson(r: Pick<SqlResult, 'columns' | 'rows'>): string {
  return JSON.stringify(r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i] ?? null]))));
}

/** `stockstream sql "<query>" [--format table|csv|json]`. */
export async function runSql(query: string, opts: CommonOptions & { format: 'table' | 'csv' | 'json' }): Promise<void> {
  await withLake(opts, async (lake) => {
    const r = await lake.sql(query);
    const out = opts.format === 'csv' ? formatCsv(r) : opts.format === 'json' ? formatJson(r) : formatTable(r);
    process.stdout.write(`${out}\n`);
    if (opts.format === 'table') process.stderr.write(`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'}, ${Math.round(r.elapsedMs)} ms)\n`);
    if (r.truncated) process.stderr.write(`stockstream: only the first ${r.rows.length} rows are shown (lake.sql.maxRows); add LIMIT or aggregate\n`);
  });
}

/** `stockstream models run [--select x+] [--full-refresh]`. */
export async function runModelsRun(opts: CommonOptions & { select?: string; fullRefresh?: boolean }): Promise<void> {
  await withLake(opts, async (lake) => {
    const r = await lake.runModels({ ...(opts.select === undefined ? {} : { select: opts.select }), fullRefresh: opts.fullRefresh === true });
    for (const m of r.models) {
      const rows = m.status === 'success' ? `${m.rows} rows` : '';
      process.stdout.write(`${m.status.padEnd(11)} ${m.model.padEnd(24)} ${rows.padStart(12)} ${m.durationMs.toFixed(0).padStart(6)} ms${m.error ? `  ${m.error}` : ''}\n`);
    }
    process.stdout.write(`run ${r.runId}: ${r.status}${r.fullRefresh ? ' (full refresh)' : ''}, ${r.newFiles} new bronze files, ${r.rows} rows, ${r.durationMs.toFixed(0)} ms\n`);
    if (r.status === 'failed') throw r.error ?? new StockStreamError('SS_MODEL_FAILED', 'the model run failed');
  });
}

/** `stockstream models test [--select x]`: exits 1 when any test fails. */
export async function runModelsTest(opts: CommonOptions & { select?: string }): Promise<void> {
  await withLake(opts, async (lake) => {
    const results = await lake.testModels(opts.select === undefined ? {} : { select: opts.select });
    let bad = 0;
    for (const t of results) {
      const mark = t.status === 'pass' ? 'pass' : t.status === 'fail' ? 'FAIL' : 'ERROR';
      process.stdout.write(`${mark.padEnd(5)} ${t.model} ${t.test}${t.status === 'fail' ? `: ${t.failures} failing row${t.failures === 1 ? '' : 's'}, e.g. ${JSON.stringify(t.sample[0])}` : ''}${t.error ? `: ${t.error}` : ''}\n`);
      if (t.status !== 'pass') bad++;
    }
    process.stdout.write(`${results.length - bad} of ${results.length} tests passed\n`);
    if (bad > 0) throw new StockStreamError('SS_MODEL_TEST', `${bad} data test${bad === 1 ? '' : 's'} failed; see the lines marked FAIL or ERROR (run their query with stockstream sql to see every row)`);
  });
}

function runLine(r: JobRun): string {
  const when = new Date(r.startedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const what = r.error ?? r.detail ?? '';
  return `${String(r.runId).padStart(5)}  ${r.job.padEnd(18)} ${when}  ${r.trigger.padEnd(8)} ${r.status.padEnd(7)} ${String(r.attempts).padStart(2)}× ${r.durationMs.toFixed(0).padStart(7)} ms ${String(r.rows).padStart(9)} rows  ${what}`;
}

/** `stockstream jobs list|runs [job]|run <job>`. */
export async function runJobs(action: string, job: string | undefined, opts: CommonOptions & { limit?: number }): Promise<void> {
  await withLake(opts, async (lake) => {
    if (action === 'list') {
      for (const j of await lake.jobs()) {
        const last = j.lastRun === null ? 'never ran' : `last ${j.lastRun.status} ${new Date(j.lastRun.startedAt).toISOString()}`;
        const next = j.nextRunAt === null ? '' : `, next ${new Date(j.nextRunAt).toISOString()}`;
        process.stdout.write(`${j.name.padEnd(18)} ${j.schedule.padEnd(12)} ${last}${next}\n  ${j.description}\n`);
      }
      return;
    }
    if (action === 'runs') {
      const runs = await lake.jobRuns({ ...(job === undefined ? {} : { job }), limit: opts.limit ?? 20 });
      if (runs.length === 0) process.stdout.write('no runs yet\n');
      for (const r of runs) process.stdout.write(`${runLine(r)}\n`);
      return;
    }
    if (action === 'run') {
      if (job === undefined) throw new StockStreamError('SS_CLI_USAGE', 'jobs run: name the job, e.g. stockstream jobs run lake.incremental');
      const r = await lake.runJob(job);
      process.stdout.write(`${runLine(r)}\n`);
      if (r.status === 'failed') throw new StockStreamError('SS_MODEL_FAILED', `job ${job} failed: ${r.error ?? 'unknown error'}`);
      return;
    }
    throw new StockStreamError('SS_CLI_USAGE', `jobs: expected list, runs or run, got ${JSON.stringify(action)}`);
  });
}
