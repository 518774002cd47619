import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobScheduler, LakeDatabase, type JobDefinition } from '../../../src/lakehouse/index.js';
import { StockStreamError } from '../../../src/shared/errors.js';

let dir: string;
let lake: LakeDatabase;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ss-jobs-'));
  lake = await LakeDatabase.open({ lakeDir: join(dir, 'lake'), file: join(dir, 'lake', 'lake.duckdb'), threads: 1 });
});
afterEach(async () => {
  await lake.close();
  rmSync(dir, { recursive: true, force: true });
});

const job = (over: Partial<JobDefinition> & Pick<JobDefinition, 'run'>): JobDefinition => ({ name: 'j', description: 'test job', schedule: '* * * * *', retries: 0, backoffMs: 10, ...over });

describe('JobScheduler', () => {
  it('records every run: success, skipped (nothing to do) and failed with the error', async () => {
    let n = 0;
    const s = await JobScheduler.create(lake, [
      job({
        run: async () => {
          n++;
          if (n === 2) return { status: 'skipped', rows: 0, detail: 'no new data' };
          if (n === 3) throw new Error('disk full (simulated)');
          return { status: 'success', rows: 42 };
        },
      }),
    ]);
    expect((await s.run('j')).status).toBe('success');
    expect((await s.run('j')).status).toBe('skipped');
    const failed = await s.run('j');
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('disk full (simulated)');
    const runs = await s.runs({ job: 'j' });
    expect(runs.map((r) => [r.status, r.rows, r.trigger, r.detail ?? r.error])).toEqual([
      ['failed', 0, 'manual', 'disk full (simulated)'],
      ['skipped', 0, 'manual', 'no new data'],
      ['success', 42, 'manual', null],
    ]);
    const [info] = await s.jobs();
    expect(info?.lastRun?.status, 'the jobs list shows the latest run').toBe('failed');
    expect(info?.nextRunAt).toBeGreaterThan(Date.now() - 1);
  });

  it('tells onRecorded of each run after it is in the history, and survives a throwing listener', async () => {
    const s = await JobScheduler.create(lake, [job({ run: async () => ({ status: 'success', rows: 1 }) })]);
    const seen: number[] = [];
    let history: Promise<number[]> | null = null;
    s.onRecorded = (run) => {
      seen.push(run.runId);
      // What a dashboard does on the notice: read the history, starting at the moment it is told.
      history = s.runs({ job: 'j' }).then((rs) => rs.map((r) => r.runId));
    };
    const first = await s.run('j');
    expect(seen, 'called once, for that run').toEqual([first.runId]);
    expect(await history, 'a read started when the listener is told already finds the run').toEqual([first.runId]);
    s.onRecorded = () => {
      throw new Error('listener bug');
    };
    expect((await s.run('j')).status, 'a throwing listener does not fail the run').toBe('success');
  });

  it('retries a failing job with exponential backoff and records the attempts', async () => {
    const at: number[] = [];
    const s = await JobScheduler.create(lake, [
      job({
        retries: 3,
        backoffMs: 40,
        run: async () => {
          at.push(performance.now());
          if (at.length < 3) throw new Error(`flaky ${at.length}`);
          return { status: 'success', rows: 1 };
        },
      }),
    ]);
    const r = await s.run('j');
    expect(r.status).toBe('success');
    expect(r.attempts).toBe(3);
    expect((at[1] as number) - (at[0] as number), 'first retry after backoffMs').toBeGreaterThanOrEqual(38);
    expect((at[2] as number) - (at[1] as number), 'then twice as long').toBeGreaterThanOrEqual(78);
  });

  it('never overlaps a job with itself: manual runs wait, a slot that comes during a run is skipped', async () => {
    let active = 0;
    let maxActive = 0;
    const s = await JobScheduler.create(lake, [
      job({
        schedule: '* * * * * *',
        run: async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setTimeout(r, 1_300));
          active--;
          return { status: 'success', rows: 0 };
        },
      }),
    ]);
    await s.start();
    const manual = s.run('j');
    await new Promise((r) => setTimeout(r, 2_600));
    await manual;
    await s.stop();
    expect(maxActive, 'one run at a time').toBe(1);
    const runs = await s.runs({ job: 'j' });
    expect(runs.some((r) => r.status === 'skipped' && r.detail === 'the previous run was still in progress'), 'a slot that fired during a run is recorded as skipped').toBe(true);
    expect(runs.filter((r) => r.status === 'success').length).toBeGreaterThanOrEqual(2);
  });

  it('catches up slots missed while stopped: once, each, or not at all', async () => {
    let clock = Date.parse('2026-01-05T10:00:30Z');
    const now = (): number => clock;
    const runs: string[] = [];
    const defs = (catchUp: 'one' | 'all' | 'none'): JobDefinition[] => [job({ name: `j-${catchUp}`, catchUp, run: async () => (runs.push(catchUp), { status: 'success', rows: 0 }) })];
    for (const policy of ['one', 'all', 'none'] as const) {
      const s = await JobScheduler.create(lake, defs(policy), { now });
      await s.run(`j-${policy}`);
    }
    runs.length = 0;
    clock += 5 * 60_000; // down five minutes: slots 10:01 … 10:05 missed
    for (const policy of ['one', 'all', 'none'] as const) {
      const s = await JobScheduler.create(lake, defs(policy), { now });
      await s.start();
      await s.stop();
    }
    expect(runs.filter((r) => r === 'one').length, "'one': a single run for all missed slots").toBe(1);
    expect(runs.filter((r) => r === 'all').length, "'all': a run per missed slot").toBe(5);
    expect(runs.filter((r) => r === 'none').length, "'none': nothing").toBe(0);
    const s = await JobScheduler.create(lake, defs('one'), { now });
    const [caught] = await s.runs({ job: 'j-one', limit: 1 });
    expect(caught?.trigger).toBe('catch-up');
    expect(caught?.scheduledFor).toBe(Date.parse('2026-01-05T10:05:00Z'));
    expect(caught?.detail).toMatch(/one run for 5 missed slots/);
  });

  it('refuses bad cron expressions, naming every job and expression', async () => {
    const err = await JobScheduler.create(lake, [job({ name: 'a', schedule: 'every minute', run: async () => ({ status: 'success', rows: 0 }) }), job({ name: 'b', schedule: '61 * * * *', run: async () => ({ status: 'success', rows: 0 }) })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StockStreamError);
    expect((err as StockStreamError).code).toBe('SS_CONFIG_INVALID');
    expect((err as StockStreamError).message).toMatch(/lake\.jobs\.a\.schedule: "every minute" is not a cron expression/);
    expect((err as StockStreamError).message).toMatch(/lake\.jobs\.b\.schedule: "61 \* \* \* \*"/);
  });
});
