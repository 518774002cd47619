import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/logger.js';
import { LakeDatabase, type LakeFile } from './catalog/lake-database.js';
import { JobScheduler, type JobDefinition } from './jobs/job-scheduler.js';
import { ParquetExporter, type ExportResult } from './export/parquet-export.js';
import { maintainLake } from './jobs/maintenance.js';
import { indicatorsModel } from './models/indicators-model.js';
import { loadModelProject, type ModelProject } from './models/model-project.js';
import { ModelRunner, type ModelRunResult } from './models/model-runner.js';
import type { LakeReferenceData } from './models/reference-data.js';
import { SqlQueryService, type SqlLimits } from './query/sql-query.js';
import { LakeMirror, type LakeMirrorOptions } from './storage/lake-mirror.js';
import type { ObjectStore } from './storage/object-store.js';

export interface LakehouseSettings {
  threads: number;
  memoryLimit: string;
  /** The SQL models; null: the models shipped with StockStream. */
  modelsDir: string | null;
  vars: Readonly<Record<string, string | number | boolean>>;
  sql: SqlLimits;
  jobs: {
    enabled: boolean;
    catchUp: 'one' | 'all' | 'none';
    incremental: { schedule: string };
    maintenance: { schedule: string };
    retries: number;
    backoffMs: number;
  };
  retention: { bronzeDays: number; silverDays: number };
}

export interface LakehouseOptions {
  /** The lake root (bronze Parquet, the lake database). */
  lakeDir: string;
  settings: LakehouseSettings;
  reference: LakeReferenceData;
  /**
   * Where the lake's files are kept beyond this machine (`createObjectStore(config.lake.storage)`);
   * null or unset: the lake directory alone. The lakehouse mirrors every committed file there,
   * restores an empty lake from it on open, and closes it on close.
   */
  objectStore?: ObjectStore | null;
  /** Tuning of the mirror into `objectStore` (queue bound, batch size, concurrency, retries). */
  mirror?: Omit<LakeMirrorOptions, 'lake' | 'store' | 'logger' | 'now'>;
  logger?: Logger;
  now?: () => number;
}

/** The models shipped with the package: `models/` beside package.json, from src/ or dist/src/. */
export function shippedModelsDir(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'models'))) return path.join(dir, 'models');
    dir = path.dirname(dir);
  }
  throw new Error(`the shipped models directory was not found above ${import.meta.dirname}`);
}

/** Gold tables a run changed go to the lake as Parquet too, for other engines (silver goes nightly: it is large). */
async function exportGold(exporter: ParquetExporter, runner: ModelRunner, r: ModelRunResult, now: number): Promise<ExportResult> {
  const gold = r.models.filter((m) => m.status === 'success' && m.model.startsWith('gold.') && runner.project.get(m.model).config.materialized !== 'view').map((m) => m.model);
  return exporter.export(gold, { now });
}

/**
 * The lakehouse of one process (ARCHITECTURE.md §1 "lake"): the lake database, the SQL models and
 * their runner, read-only SQL, and the scheduled jobs — every minute the incremental bronze →
 * silver → gold run, nightly compaction and retention.
 */
export class Lakehouse {
  readonly db: LakeDatabase;
  readonly runner: ModelRunner;
  readonly sql: SqlQueryService;
  readonly jobs: JobScheduler;
  /** Keeps the lake's files in its object store; null when the lake is local only. */
  readonly mirror: LakeMirror | null;
  readonly #settings: LakehouseSettings;
  #started = false;
  /** Called before each incremental run: lands what the log holds, so the run sees ticks up to its start. */
  beforeIncremental: (() => Promise<void>) | null = null;
  /** Called after each incremental run that changed gold (mirrors, refresh notices); a failure here is logged, never the run's. */
  afterIncremental: ((r: ModelRunResult) => Promise<void>) | null = null;

  private constructor(db: LakeDatabase, runner: ModelRunner, sql: SqlQueryService, jobs: JobScheduler, mirror: LakeMirror | null, settings: LakehouseSettings) {
    this.db = db;
    this.runner = runner;
    this.sql = sql;
    this.jobs = jobs;
    this.mirror = mirror;
    this.#settings = settings;
  }

  static async open(o: LakehouseOptions): Promise<Lakehouse> {
    const s = o.settings;
    let project: ModelProject;
    let db: LakeDatabase;
    try {
      project = await loadModelProject(s.modelsDir ?? shippedModelsDir());
      db = await LakeDatabase.open({ lakeDir: o.lakeDir, file: path.join(o.lakeDir, 'lake.duckdb'), threads: s.threads, memoryLimit: s.memoryLimit });
    } catch (err) {
      // The store is ours from the call on, opened or not.
      o.objectStore?.close();
      throw err;
    }
    let mirror: LakeMirror | null = null;
    try {
      // Before anything reads the lake: an empty lake is restored from the object store here.
      if (o.objectStore) mirror = await LakeMirror.open({ ...o.mirror, lake: db, store: o.objectStore, ...(o.logger ? { logger: o.logger } : {}), ...(o.now ? { now: o.now } : {}) });
      const runner = await ModelRunner.open({ lake: db, project, reference: o.reference, vars: s.vars, operators: { indicators: indicatorsModel() }, ...(o.logger ? { logger: o.logger } : {}), ...(o.now ? { now: o.now } : {}) });
      const sql = new SqlQueryService(db, s.sql);
      const exporter = new ParquetExporter(db);
      const now = o.now ?? Date.now;
      // The jobs call back into the instance made below.
      let lakehouse: Lakehouse | null = null;
      const common = { retries: s.jobs.retries, backoffMs: s.jobs.backoffMs, catchUp: s.jobs.catchUp };
      const jobs: JobDefinition[] = [
        {
          name: 'lake.incremental',
          description: 'bronze → silver → gold for the symbols with new data since the last run (skipped when none arrived)',
          schedule: s.jobs.incremental.schedule,
          ...common,
          run: async () => {
            await lakehouse?.beforeIncremental?.();
            const r = await runner.run();
            if (r.status === 'failed') throw r.error ?? new Error('model run failed');
            if (r.status === 'skipped') return { status: 'skipped', rows: 0, detail: 'no new data' };
            const ex = await exportGold(exporter, runner, r, now());
            await lakehouse?.afterIncremental?.(r).catch((err: unknown) => o.logger?.warn({ err }, 'after the incremental run: a follower of the gold tables failed; it catches up on the next run'));
            return { status: 'success', rows: r.rows, detail: `${r.newFiles} new bronze files, ${r.symbols.length} symbols, ${r.models.filter((m) => m.status === 'success').length} models, ${ex.files} gold Parquet files` };
          },
        },
        {
          name: 'lake.maintenance',
          description: 'compaction of closed days’ small bronze files, retention, and silver to Parquet',
          schedule: s.jobs.maintenance.schedule,
          ...common,
          run: async () => {
            const t = now();
            const r = await maintainLake(db, {
              before: new Date(t - 86_400_000).toISOString().slice(0, 10),
              bronzeRetentionDays: s.retention.bronzeDays,
              silverRetentionDays: s.retention.silverDays,
              now: t,
            });
            const ex = await exporter.export(['silver.ticks'], { before: new Date(t).toISOString().slice(0, 10), now: t });
            const detail = `${r.compacted} partitions compacted (${r.filesRemoved} files merged), ${r.bronzeDatesDropped} bronze dates and ${r.silverRowsDropped} silver rows past retention, ${ex.files} silver Parquet files`;
            return { status: r.compacted + r.bronzeDatesDropped + r.silverRowsDropped + ex.files > 0 ? 'success' : 'skipped', rows: r.filesRemoved + ex.rows, detail };
          },
        },
      ];
      const scheduler = await JobScheduler.create(db, jobs, { ...(o.logger ? { logger: o.logger } : {}), now });
      lakehouse = new Lakehouse(db, runner, sql, scheduler, mirror, s);
      return lakehouse;
    } catch (err) {
      await mirror?.close(0);
      await db.close();
      throw err;
    }
  }

  /** Writes the gold tables a run changed to the lake as Parquet (the incremental job does it after each run). */
  exportGold(r: ModelRunResult): Promise<ExportResult> {
    return exportGold(new ParquetExporter(this.db), this.runner, r, Date.now());
  }

  /** For the bronze writer's onCommit: catalogs the files, and lets views that were empty see them. */
  async registerFiles(files: readonly LakeFile[]): Promise<void> {
    await this.db.registerFiles(files);
    await this.runner.refreshViews(new Set(files.filter((f) => f.layer === 'bronze').map((f) => f.table)));
  }

  /** Starts the schedules (after catching up missed slots), when jobs are enabled. */
  async start(): Promise<void> {
    if (this.#started || !this.#settings.jobs.enabled) return;
    this.#started = true;
    await this.jobs.start();
  }

  /** Stops the jobs, lets the mirror bring the object store up to date (a bounded wait), closes the database. */
  async close(): Promise<void> {
    await this.jobs.stop();
    await this.mirror?.close();
    await this.db.close();
  }
}
