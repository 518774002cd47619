import { join, resolve } from 'node:path';
import type { LakeApi } from '../api/index.js';
import { Lakehouse, runModelTests, selectModels, type ModelRunResult } from '../lakehouse/index.js';
import type { Config } from '../shared/config/index.js';
import { StockStreamError, type ErrorCode } from '../shared/errors.js';
import { defaultUniverse } from '../sources/simulator/index.js';
import { exchangeCalendars, runningServer } from './platform.js';

/** The lake as the CLI reaches it: a running platform's API, or the files themselves. */
export interface LakeClient extends LakeApi {
  /** 'api <url>' or 'local <dir>', for messages. */
  readonly via: string;
  close(): Promise<void>;
}

/** A LakeApi over HTTP to a running `up` (only one process may open the lake database). */
function httpClient(url: string): LakeClient {
  const call = async <T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${url}${route}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (err) {
      throw new StockStreamError('SS_LAKE_IO', `The platform at ${url} did not answer (${(err as Error).message}); is it still running?`, { cause: err });
    }
    const json = (await res.json()) as T & { error?: { code: ErrorCode; message: string } };
    if (!res.ok) throw new StockStreamError(json.error?.code ?? 'SS_INTERNAL', json.error?.message ?? `HTTP ${res.status}`);
    return json;
  };
  return {
    via: `api ${url}`,
    sql: async (sql) => {
      const r = await call<{ columns: string[]; types: string[]; rows: never[][]; truncated: boolean; elapsedMs: number }>('POST', '/api/sql', { sql });
      return { columns: r.columns.map((name, i) => ({ name, type: r.types[i] ?? '' })), rows: r.rows, truncated: r.truncated, elapsedMs: r.elapsedMs };
    },
    jobs: () => call('GET', '/api/jobs'),
    jobRuns: (o) => call('GET', `/api/jobs/runs?${new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)] as [string, string])).toString()}`),
    runJob: (name) => call('POST', `/api/jobs/${encodeURIComponent(name)}/run`),
    runModels: async (o) => {
      const r = await call<ModelRunResult & { error?: { code: ErrorCode; message: string } }>('POST', '/api/models/run', o);
      return { ...r, error: r.error === undefined ? undefined : new StockStreamError(r.error.code, r.error.message) } as ModelRunResult;
    },
    testModels: (o) => call('POST', '/api/models/test', o),
    close: async () => undefined,
  };
}

/** Opens the lake of `config`'s data directory in this process, jobs off. */
export async function openLocalLakehouse(config: Readonly<Config>): Promise<Lakehouse> {
  return Lakehouse.open({
    lakeDir: join(resolve(config.dataDir), 'lake'),
    settings: { ...config.lake, jobs: { ...config.lake.jobs, enabled: false } },
    // As `up` does: with the simulator, its start prices are the closes before the first day.
    reference: {
      instruments: defaultUniverse(),
      calendarOf: exchangeCalendars(config),
      ...(config.source === 'simulator' ? { previousCloses: new Map(defaultUniverse().map((i) => [i.symbol, i.startPrice])) } : {}),
    },
  });
}

/** The running platform's API when there is one on this data directory, else the local files. */
export async function lakeClient(config: Readonly<Config>): Promise<LakeClient> {
  const server = await runningServer(config);
  if (server !== null) return httpClient(server.url);
  const lake = await openLocalLakehouse(config);
  return { ...lakeApiOf(() => lake), via: `local ${lake.db.lakeDir}`, close: () => lake.close() };
}

/** The API's view of a lakehouse; `lake` is asked on every call (the platform opens its lake after the API is built). */
export function lakeApiOf(lake: () => Lakehouse): LakeApi {
  return {
    sql: (sql) => lake().sql.query(sql),
    jobs: () => lake().jobs.jobs(),
    jobRuns: (o) => lake().jobs.runs(o),
    runJob: (name) => lake().jobs.run(name),
    runModels: (o) => {
      const l = lake();
      return l.runner.run({ models: selectModels(l.runner.project, o.select), fullRefresh: o.fullRefresh === true });
    },
    testModels: (o) => {
      const l = lake();
      return runModelTests(l.db, l.runner.project, selectModels(l.runner.project, o.select));
    },
  };
}
