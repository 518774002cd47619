import { Cron } from 'croner';
import { StockStreamError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { LakeDatabase } from '../catalog/lake-database.js';
import { sqlNullable } from '../../shared/sql.js';

/** What a job reports when it finishes. `skipped` means it found nothing to do (no new data). */
export interface JobOutcome {
  status: 'success' | 'skipped';
  rows: number;
  detail?: string;
}

export interface JobDefinition {
  /** e.g. 'lake.incremental'. */
  name: string;
  description: string;
  /** Cron expression (5 or 6 fields; croner syntax, https://croner.56k.guru/usage/pattern/), in UTC. */
  schedule: string;
  run: () => Promise<JobOutcome>;
  /** Attempts after the first failure. Default 2. */
  retries?: number;
  /** First retry delay (ms); doubles each attempt. Default 5,000. */
  backoffMs?: number;
  /** After downtime: run once for all missed slots, run each (up to 100), or skip them. Default 'one'. */
  catchUp?: 'one' | 'all' | 'none';
}

export type JobTrigger = 'schedule' | 'manual' | 'catch-up';

export interface JobRun {
  job: string;
  runId: number;
  trigger: JobTrigger;
  /** The cron slot this run is for (epoch ms); null for manual runs. */
  scheduledFor: number | null;
  startedAt: number;
  finishedAt: number;
  status: 'success' | 'skipped' | 'failed';
  attempts: number;
  rows: number;
  durationMs: number;
  detail: string | null;
  error: string | null;
}

export interface JobInfo {
  name: string;
  description: string;
  schedule: string;
  running: boolean;
  nextRunAt: number | null;
  lastRun: JobRun | null;
}

const RUNS_DDL = `CREATE TABLE IF NOT EXISTS meta.job_runs (
  job VARCHAR NOT NULL, run_id BIGINT NOT NULL, trigger VARCHAR NOT NULL, scheduled_for BIGINT, started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL, status VARCHAR NOT NULL, attempts INTEGER NOT NULL, rows BIGINT NOT NULL, duration_ms DOUBLE NOT NULL,
  detail VARCHAR, error VARCHAR)`;

const MAX_CATCH_UP = 100;


/** Parses a job's cron expression; a bad one is a configuration error naming the job and the expression. */
export function parseSchedule(job: string, schedule: string): Cron {
  try {
    return new Cron(schedule, { paused: true, timezone: 'UTC' });
  } catch (err) {
    throw new StockStreamError(
      'SS_CONFIG_INVALID',
      `lake.jobs.${job}.schedule: ${JSON.stringify(schedule)} is not a cron expression (${(err as Error).message}). Use five fields "minute hour day month weekday", e.g. "* * * * *" (every minute) or "30 2 * * *" (02:30 UTC daily).`,
      { cause: err, context: { job, schedule } },
    );
  }
}

/**
 * Runs declared jobs on cron schedules (issue 3, "Scheduler and jobs"). Each run is recorded in
 * `meta.job_runs` (status, attempts, duration, rows, error). A job never overlaps itself: a slot
 * that comes while it still runs is recorded as skipped. Failures are retried with exponential
 * backoff. On start, slots missed while the process was down are caught up (once, each, or not).
 */
export class JobScheduler {
  readonly #lake: LakeDatabase;
  readonly #jobs = new Map<string, { def: JobDefinition; cron: Cron; running: Promise<JobRun> | null }>();
  readonly #logger: Logger | null;
  readonly #now: () => number;
  #timers: Cron[] = [];
  /** The latest run of each job in this process, for health checks (synchronous). */
  readonly #last = new Map<string, JobRun>();
  #stopped = false;
  #nextRunId = 1;
  /**
   * Told of each run once it is recorded, so a listener that reads the history (the dashboard's
   * job list, on the refresh notice) finds it there. A throwing listener is logged, not the run's.
   */
  onRecorded: ((run: JobRun) => void) | null = null;

  private constructor(lake: LakeDatabase, logger: Logger | null, now: () => number) {
    this.#lake = lake;
    this.#logger = logger;
    this.#now = now;
  }

  /** Validates every job (all bad schedules reported at once) and prepares the run history. */
  static async create(lake: LakeDatabase, jobs: readonly JobDefinition[], options: { logger?: Logger; now?: () => number } = {}): Promise<JobScheduler> {
    const s = new JobScheduler(lake, options.logger ?? null, options.now ?? Date.now);
    const problems: StockStreamError[] = [];
    for (const def of jobs) {
      if (s.#jobs.has(def.name)) throw new TypeError(`job ${def.name} is declared twice`);
      try {
        s.#jobs.set(def.name, { def, cron: parseSchedule(def.name, def.schedule), running: null });
      } catch (err) {
        problems.push(err as StockStreamError);
      }
    }
    if (problems.length === 1) throw problems[0];
    if (problems.length > 1) throw new StockStreamError('SS_CONFIG_INVALID', problems.map((p) => p.message).join('\n'));
    await lake.run(RUNS_DDL);
    const [row] = await lake.all('SELECT coalesce(max(run_id), 0) + 1 AS id FROM meta.job_runs');
    s.#nextRunId = Number(row?.id ?? 1);
    return s;
  }

  /** Catches up missed slots, then runs every job on its schedule until `stop()`. */
  async start(): Promise<void> {
    for (const [name, j] of this.#jobs) {
      await this.#catchUp(name);
      const cron = new Cron(j.def.schedule, { timezone: 'UTC', catch: true }, () => {
        void this.#fire(name, 'schedule', this.#slotNow(j.cron));
      });
      this.#timers.push(cron);
    }
  }

  /** Stops the timers and waits for runs in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) t.stop();
    this.#timers = [];
    await Promise.all([...this.#jobs.values()].map((j) => j.running?.catch(() => undefined)));
  }

  /** Runs a job now (`stockstream jobs run <job>`); waits for a run in progress first, never overlapping it. */
  async run(name: string): Promise<JobRun> {
    const j = this.#job(name);
    while (j.running !== null) await j.running.catch(() => undefined);
    return this.#start(name, 'manual', null);
  }

  #list(): JobInfo[] {
    return [...this.#jobs.values()].map((j) => ({
      name: j.def.name,
      description: j.def.description,
      schedule: j.def.schedule,
      running: j.running !== null,
      nextRunAt: this.#stopped ? null : (j.cron.nextRun(new Date(this.#now()))?.getTime() ?? null),
      lastRun: null,
    }));
  }

  /** Jobs with their latest run from the history. */
  async jobs(): Promise<JobInfo[]> {
    const latest = await this.runs({ limit: 1_000 });
    return this.#list().map((j) => ({ ...j, lastRun: latest.find((r) => r.job === j.name) ?? null }));
  }

  /** Run history, newest first. */
  async runs(options: { job?: string; limit?: number } = {}): Promise<JobRun[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 50, 10_000));
    const where = options.job === undefined ? '' : `WHERE job = ${sqlNullable(options.job)}`;
    const rows = await this.#lake.all(`SELECT * FROM meta.job_runs ${where} ORDER BY run_id DESC LIMIT ${limit}`);
    return rows.map((r) => ({
      job: String(r.job),
      runId: Number(r.run_id),
      trigger: String(r.trigger) as JobTrigger,
      scheduledFor: r.scheduled_for === null ? null : Number(r.scheduled_for),
      startedAt: Number(r.started_at),
      finishedAt: Number(r.finished_at),
      status: String(r.status) as JobRun['status'],
      attempts: Number(r.attempts),
      rows: Number(r.rows),
      durationMs: Number(r.duration_ms),
      detail: r.detail === null ? null : String(r.detail),
      error: r.error === null ? null : String(r.error),
    }));
  }

  #job(name: string): { def: JobDefinition; cron: Cron; running: Promise<JobRun> | null } {
    const j = this.#jobs.get(name);
    if (j === undefined) throw new StockStreamError('SS_API_NOT_FOUND', `job: no job named ${JSON.stringify(name)}; jobs are ${[...this.#jobs.keys()].join(', ')}`);
    return j;
  }

  /** The slot that just fired: the latest cron time at or before now. */
  #slotNow(cron: Cron): number {
    const now = this.#now();
    const prev = cron.previousRuns(1, new Date(now + 1))[0];
    return prev?.getTime() ?? now;
  }

  async #fire(name: string, trigger: JobTrigger, slot: number | null): Promise<void> {
    if (this.#stopped) return;
    const j = this.#job(name);
    if (j.running !== null) {
      await this.#record({ job: name, runId: this.#nextRunId++, trigger, scheduledFor: slot, startedAt: this.#now(), finishedAt: this.#now(), status: 'skipped', attempts: 0, rows: 0, durationMs: 0, detail: 'the previous run was still in progress', error: null }).catch((err: unknown) =>
        this.#logger?.error({ err, job: name }, 'job run could not be recorded'),
      );
      return;
    }
    await this.#start(name, trigger, slot).catch((err: unknown) => this.#logger?.error({ err, job: name }, 'job run could not be recorded'));
  }

  #start(name: string, trigger: JobTrigger, slot: number | null): Promise<JobRun> {
    const j = this.#job(name);
    const p = this.#execute(j.def, trigger, slot).finally(() => {
      j.running = null;
    });
    j.running = p;
    return p;
  }

  async #execute(def: JobDefinition, trigger: JobTrigger, slot: number | null): Promise<JobRun> {
    const runId = this.#nextRunId++;
    const startedAt = this.#now();
    const t0 = performance.now();
    const retries = def.retries ?? 2;
    const backoff = def.backoffMs ?? 5_000;
    let attempts = 0;
    let outcome: JobOutcome | null = null;
    let error: string | null = null;
    while (attempts <= retries && !this.#stopped) {
      attempts++;
      try {
        outcome = await def.run();
        error = null;
        break;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        this.#logger?.warn({ err, job: def.name, attempt: attempts }, 'job attempt failed');
        if (attempts <= retries && !this.#stopped) await new Promise((r) => setTimeout(r, backoff * 2 ** (attempts - 1)));
      }
    }
    const run: JobRun = {
      job: def.name,
      runId,
      trigger,
      scheduledFor: slot,
      startedAt,
      finishedAt: this.#now(),
      status: outcome === null ? 'failed' : outcome.status,
      attempts,
      rows: outcome?.rows ?? 0,
      durationMs: performance.now() - t0,
      detail: outcome?.detail ?? null,
      error: outcome === null ? (error ?? 'stopped before the first attempt') : null,
    };
    await this.#record(run);
    if (run.status === 'failed') this.#logger?.error({ job: def.name, attempts, error: run.error }, 'job failed after all attempts');
    try {
      this.onRecorded?.(run);
    } catch (err) {
      this.#logger?.warn({ err, job: def.name }, 'a listener of recorded job runs failed');
    }
    return run;
  }

  /** The latest run of each job since this process started. */
  lastRuns(): ReadonlyMap<string, JobRun> {
    return this.#last;
  }

  async #record(r: JobRun): Promise<void> {
    this.#last.set(r.job, r);
    await this.#lake.run(
      `INSERT INTO meta.job_runs VALUES (${sqlNullable(r.job)}, ${r.runId}, ${sqlNullable(r.trigger)}, ${r.scheduledFor ?? 'NULL'}, ${r.startedAt}, ${r.finishedAt}, ${sqlNullable(r.status)}, ${r.attempts}, ${r.rows}, ${r.durationMs}, ${sqlNullable(r.detail)}, ${sqlNullable(r.error === null ? null : r.error.slice(0, 4000))})`,
    );
  }

  /** Runs the slots missed since the job's last recorded slot, as its catchUp policy says. */
  async #catchUp(name: string): Promise<void> {
    const j = this.#job(name);
    const policy = j.def.catchUp ?? 'one';
    if (policy === 'none') return;
    const [row] = await this.#lake.all(`SELECT max(coalesce(scheduled_for, started_at)) AS last FROM meta.job_runs WHERE job = ${sqlNullable(name)}`);
    if (row?.last === null || row?.last === undefined) return;
    const missed: number[] = [];
    let at = new Date(Number(row.last));
    const now = this.#now();
    for (;;) {
      const next = j.cron.nextRun(at);
      if (next === null || next.getTime() > now) break;
      missed.push(next.getTime());
      at = next;
      if (missed.length > MAX_CATCH_UP * 10) break;
    }
    if (missed.length === 0) return;
    this.#logger?.info({ job: name, missed: missed.length, policy }, 'catching up runs missed while stopped');
    const slots = policy === 'one' ? [missed[missed.length - 1] as number] : missed.slice(-MAX_CATCH_UP);
    for (const slot of slots) {
      const run = await this.#start(name, 'catch-up', slot);
      if (policy === 'one' && missed.length > 1) {
        await this.#lake.run(`UPDATE meta.job_runs SET detail = ${sqlNullable(`${run.detail === null ? '' : `${run.detail}; `}one run for ${missed.length} missed slots`)} WHERE run_id = ${run.runId}`);
      }
    }
  }
}
