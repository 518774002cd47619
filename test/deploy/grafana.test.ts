import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Candle, Interval, Kpi } from '../../src/domain/index.js';
import { PgGoldSync } from '../../src/lakehouse/export/pg-gold-sync.js';
import { computeIndicators } from '../../src/processors/indicators/index.js';
import { migrate, PgWarehouse, type IndicatorValueRow, type WarehouseAlert } from '../../src/stores/warehouse/postgres/index.js';
import { testPool } from '../fixtures/postgres.js';
import { testSeed } from '../fixtures/random.js';
import { serviceUnavailable } from '../fixtures/services.js';
import { INSTRUMENTS, openLake, sessionTrades, type LakeFixture } from '../lakehouse/models/lake-fixture.js';

/**
 * Grafana provisioning (deploy/grafana) checked without a Grafana: every provisioning file and
 * dashboard is parsed and its structure checked, then every panel query and variable query is
 * expanded the way Grafana's PostgreSQL datasource expands it and run against a real PostgreSQL
 * brought up with the warehouse's migrations, serving rows from its writer and the gold mirror of
 * a real lake run (issue 4: "checked by a test that loads every dashboard's queries against the
 * real PostgreSQL schema").
 */
const repo = path.resolve(import.meta.dirname, '../..');
const grafanaDir = path.join(repo, 'deploy', 'grafana');
const DS_TYPE = 'grafana-postgresql-datasource';
const DS_UID = 'stockstream-pg';

// ---------------------------------------------------------------------------------------------
// Grafana's expansion of a query, in its two stages.
// ---------------------------------------------------------------------------------------------

/** A dashboard variable's value: one string, or several (multi-value or All). */
type VariableValue = string | readonly string[];

interface VariableModel {
  name: string;
  type: string;
  multi?: boolean;
  includeAll?: boolean;
}

/**
 * Grafana's variable syntax (public/app/features/variables/utils.ts, `variableRegex`): `$name`,
 * `[[name]]`, `[[name:format]]`, `${name}`, `${name.field}`, `${name:format}`.
 */
const VARIABLE_REGEX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/** Names of the variables a text refers to (macros such as `$__timeFilter(` excluded: they are the backend's). */
function referencedVariables(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(VARIABLE_REGEX)) {
    const name = (m[1] ?? m[2] ?? m[4]) as string;
    const at = (m.index ?? 0) + m[0].length;
    if (m[1] !== undefined && text[at] === '(') continue;
    out.push(name);
  }
  return out;
}

/** Variables Grafana's frontend defines for every panel query. */
const BUILT_IN_VARIABLES = new Set(['__interval', '__interval_ms', '__from', '__to', '__rate_interval', '__range', '__range_s', '__range_ms', '__dashboard', '__org', '__user', '__timezone']);

/**
 * Stage 1, the browser (templateSrv.replace with the SQL datasources' interpolateVariable,
 * packages/grafana-sql/src/datasource/SqlDatasource.ts): a single-value variable goes in raw with
 * its quotes doubled (dashboards write `'$symbol'`); a multi-value or All variable becomes its
 * values quoted as SQL literals and joined by commas (dashboards write `IN ($symbol)`). Unknown
 * names (`$__timeFilter`) are left for the backend. Formats (`${x:csv}`) are not used here.
 */
function interpolateVariables(sql: string, variables: readonly VariableModel[], values: ReadonlyMap<string, VariableValue>, builtIns: ReadonlyMap<string, string>): string {
  return sql.replace(VARIABLE_REGEX, (match: string, g1?: string, g2?: string, g3?: string, g4?: string, g5?: string, g6?: string) => {
    const name = (g1 ?? g2 ?? g4) as string;
    if (g3 !== undefined || g5 !== undefined || g6 !== undefined) throw new Error(`variable formats and fields are not implemented by this test: ${match}`);
    const builtIn = builtIns.get(name);
    if (builtIn !== undefined) return builtIn;
    const variable = variables.find((v) => v.name === name);
    const value = values.get(name);
    if (variable === undefined || value === undefined) return match;
    const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;
    if (typeof value === 'string') return variable.multi || variable.includeAll ? quote(value) : value.replaceAll("'", "''");
    return value.map(quote).join(',');
  });
}

/** Go's `time.RFC3339Nano` in UTC: fractional seconds without trailing zeros, none when whole. */
function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  const [head, frac] = iso.slice(0, -1).split('.') as [string, string];
  const f = frac.replace(/0+$/, '');
  return `${head}${f === '' ? '' : `.${f}`}Z`;
}

/**
 * Go's `%v` of a float64 (fmt → strconv 'g' with the shortest digits): plain decimal, or exponent
 * form (`1.0368e+06`) when the decimal exponent is below -4 or at least 6 (strconv/ftoa.go).
 */
function goFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  const [mant, exp] = x.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(x);
}

/** gtime.ParseInterval for the units whose length does not depend on the calendar (d is 24 h in UTC). */
function parseInterval(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim().replace(/^'|'$/g, ''));
  if (m === null) throw new Error(`interval ${text}: not a duration this test implements (ms, s, m, h, d, w)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as string] as number;
  return (Number(m[1]) * unit) / 1000;
}

/**
 * Stage 2, the server: sqleng.Interpolate replaces `$__interval`/`$__interval_ms` (already done by
 * stage 1) and `$__unixEpochFrom()`/`$__unixEpochTo()`, then the PostgreSQL macro engine
 * (pkg/tsdb/grafana-postgresql-datasource/macros.go) rewrites every `$__name(args)`: the regex
 * `\$([_a-zA-Z0-9]+)\(([^)]*)\)`, arguments split on commas and trimmed; `$__timeGroup` directly
 * followed by a comma gets the ` AS "time"` alias (pre-5.3 compatibility). Fill modes (a third
 * `$__timeGroup` argument) and TimescaleDB's time_bucket are not used here.
 */
function interpolateMacros(sql: string, from: number, to: number): string {
  let out = sql.replaceAll('$__unixEpochFrom()', String(Math.floor(from / 1000))).replaceAll('$__unixEpochTo()', String(Math.floor(to / 1000)));
  const evaluate = (name: string, args: string[]): string => {
    const needColumn = (): string => {
      if (args[0] === undefined || args[0] === '') throw new Error(`missing time column argument for macro ${name}`);
      return args[0];
    };
    switch (name) {
      case '__time':
        return `${needColumn()} AS "time"`;
      case '__timeEpoch':
        return `extract(epoch from ${needColumn()}) as "time"`;
      case '__timeFilter':
        return `${needColumn()} BETWEEN '${rfc3339Nano(from)}' AND '${rfc3339Nano(to)}'`;
      case '__timeFrom':
        return `'${rfc3339Nano(from)}'`;
      case '__timeTo':
        return `'${rfc3339Nano(to)}'`;
      case '__timeGroup': {
        if (args.length !== 2) throw new Error(`macro ${name}: needs a time column and an interval (fill modes are not implemented by this test)`);
        const s = goFloat(parseInterval(args[1] as string));
        return `floor(extract(epoch from ${args[0]})/${s})*${s}`;
      }
      case '__timeGroupAlias':
        return `${evaluate('__timeGroup', args)} AS "time"`;
      case '__unixEpochFilter':
        return `${needColumn()} >= ${Math.floor(from / 1000)} AND ${args[0]} <= ${Math.floor(to / 1000)}`;
      case '__unixEpochGroup': {
        if (args.length !== 2) throw new Error(`macro ${name}: needs a time column and an interval`);
        const s = goFloat(parseInterval(args[1] as string));
        return `floor((${args[0]})/${s})*${s}`;
      }
      case '__unixEpochGroupAlias':
        return `${evaluate('__unixEpochGroup', args)} AS "time"`;
      default:
        throw new Error(`unknown macro "${name}"`);
    }
  };
  const original = out;
  out = out.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (whole: string, name: string, rawArgs: string) => {
    let macro = name;
    if (macro === '__timeGroup') {
      const at = original.indexOf(whole);
      if (at >= 0 && original[at + whole.length] === ',') macro = '__timeGroupAlias';
    }
    return evaluate(
      macro,
      rawArgs.split(',').map((a) => a.trim()),
    );
  });
  return out;
}

/** Both stages, as a panel's or variable's query reaches PostgreSQL. */
function expandQuery(sql: string, o: { variables: readonly VariableModel[]; values: ReadonlyMap<string, VariableValue>; from: number; to: number; intervalMs: number }): string {
  const s = o.intervalMs / 1000;
  const interval = s % 86_400 === 0 ? `${s / 86_400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`;
  const builtIns = new Map([
    ['__interval', interval],
    ['__interval_ms', String(o.intervalMs)],
    ['__from', String(o.from)],
    ['__to', String(o.to)],
  ]);
  return interpolateMacros(interpolateVariables(sql, o.variables, o.values, builtIns), o.from, o.to);
}

// ---------------------------------------------------------------------------------------------
// The files.
// ---------------------------------------------------------------------------------------------

interface Target {
  refId: string;
  datasource?: { type?: string; uid?: string };
  rawSql?: string;
  format?: string;
  rawQuery?: boolean;
  editorMode?: string;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: { defaults?: unknown; overrides?: { matcher: { id: string; options: string }; properties: unknown[] }[] };
  options?: { xField?: string; reduceOptions?: { fields?: string }; sortBy?: { displayName: string }[] };
}

interface Variable extends VariableModel {
  query: string | { rawSql?: string };
  datasource?: { type?: string; uid?: string };
  refresh?: number;
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

function readEnvFile(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const i = t.indexOf('=');
    out.set(t.slice(0, i), t.slice(i + 1));
  }
  return out;
}

/**
 * Grafana's expansion of provisioning values (pkg/services/provisioning/values: `$$` is a literal
 * `$`, the rest goes through Go's os.ExpandEnv: `$VAR` and `${VAR}`, unset → empty, no defaults).
 */
function expandProvisioning(value: string, env: ReadonlyMap<string, string>, used: Set<string>): string {
  return value
    .split('$$')
    .map((part) =>
      part.replace(/\$\{([^}]*)\}|\$([A-Za-z0-9_]+)/g, (_m, braced?: string, bare?: string) => {
        const name = (braced ?? bare) as string;
        used.add(name);
        return env.get(name) ?? '';
      }),
    )
    .join('$');
}

function expandDeep(v: unknown, env: ReadonlyMap<string, string>, used: Set<string>): unknown {
  if (typeof v === 'string') return expandProvisioning(v, env, used);
  if (Array.isArray(v)) return v.map((x) => expandDeep(x, env, used));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandDeep(x, env, used)]));
  return v;
}

const dashboardFiles = readdirSync(path.join(grafanaDir, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
const dashboards: { file: string; d: Dashboard }[] = dashboardFiles.map((file) => ({ file, d: JSON.parse(readFileSync(path.join(grafanaDir, 'dashboards', file), 'utf8')) as Dashboard }));

/** Every panel, rows' nested panels included. */
function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

function variableSql(v: Variable): string {
  return typeof v.query === 'string' ? v.query : (v.query.rawSql ?? '');
}

const MACROS_IMPLEMENTED = new Set(['__time', '__timeEpoch', '__timeFilter', '__timeFrom', '__timeTo', '__timeGroup', '__timeGroupAlias', '__unixEpochFilter', '__unixEpochGroup', '__unixEpochGroupAlias']);

describe('Grafana macro expansion (this test’s model of Grafana)', () => {
  // The cases of Grafana's own macros_test.go (pkg/tsdb/grafana-postgresql-datasource), range 2018-04-12 18:00–18:05 UTC.
  const from = Date.UTC(2018, 3, 12, 18, 0, 0);
  const to = from + 5 * 60_000;
  it('gives what Grafana’s PostgreSQL macro engine gives', () => {
    expect(interpolateMacros('select $__time(time_column)', from, to)).toBe('select time_column AS "time"');
    expect(interpolateMacros('select min($__time(time_column))', from, to)).toBe('select min(time_column AS "time")');
    expect(interpolateMacros('WHERE $__timeFilter(time_column)', from, to)).toBe("WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'");
    expect(interpolateMacros('select $__timeFrom()', from, to)).toBe("select '2018-04-12T18:00:00Z'");
    expect(interpolateMacros('SELECT $__timeGroup(time_column,\'5m\'), value', from, to)).toBe('SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value');
    expect(interpolateMacros("SELECT $__timeGroup(time_column,'5m') as time, value", from, to)).toBe('SELECT floor(extract(epoch from time_column)/300)*300 as time, value');
    expect(interpolateMacros("$__timeGroupAlias(time_column , '5m')", from, to)).toBe('floor(extract(epoch from time_column)/300)*300 AS "time"');
    expect(interpolateMacros('select $__unixEpochFilter(time)', from, to)).toBe(`select time >= ${from / 1000} AND time <= ${to / 1000}`);
    expect(interpolateMacros("SELECT $__unixEpochGroup(time_column+time_adjustment,'5m')", from, to)).toBe('SELECT floor((time_column+time_adjustment)/300)*300');
    expect(rfc3339Nano(Date.UTC(1960, 1, 1, 7, 0, 0, 500)), 'RFC3339Nano drops trailing zeros').toBe('1960-02-01T07:00:00.5Z');
    expect(() => interpolateMacros('$__nope(x)', from, to), 'Grafana refuses an unknown macro').toThrow(/unknown macro/);
    expect(goFloat(86_400)).toBe('86400');
    expect(goFloat(0.5)).toBe('0.5');
    expect(goFloat(1_036_800), 'Go prints 12 days of seconds in exponent form').toBe('1.0368e+06');
  });

  it('quotes variables as the SQL datasources do: raw single values, quoted lists', () => {
    const vars: VariableModel[] = [
      { name: 'one', type: 'query' },
      { name: 'many', type: 'query', multi: true, includeAll: true },
    ];
    const values = new Map<string, VariableValue>([
      ['one', "O'Neil"],
      ['many', ['A', "B'C"]],
    ]);
    expect(interpolateVariables("WHERE s = '$one' AND t IN ($many) AND $__timeFilter(ts) AND ${one} = [[one]]", vars, values, new Map())).toBe(
      "WHERE s = 'O''Neil' AND t IN ('A','B''C') AND $__timeFilter(ts) AND O''Neil = O''Neil",
    );
  });
});

describe('Grafana provisioning files', () => {
  const env = readEnvFile(path.join(grafanaDir, 'grafana.env'));
  const compose = parseYaml(readFileSync(path.join(repo, 'deploy', 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; environment?: Record<string, unknown> | string[]; env_file?: string | (string | { path: string })[]; volumes?: (string | { source?: string; target: string })[] }>;
  };
  const grafana = compose.services['grafana'];
  const postgres = compose.services['postgres'];

  it('provisions one PostgreSQL datasource with the pinned uid, pointing at the compose postgres service', () => {
    const file = parseYaml(readFileSync(path.join(grafanaDir, 'provisioning', 'datasources', 'stockstream.yaml'), 'utf8')) as { apiVersion: number; datasources: Record<string, unknown>[] };
    expect(file.apiVersion).toBe(1);
    expect(file.datasources.length).toBe(1);
    const used = new Set<string>();
    const ds = expandDeep(file.datasources[0], env, used) as { type: string; uid: string; url: string; user: string; jsonData: { database: string; sslmode: string }; secureJsonData: { password: string } };
    expect(ds.type, 'the PostgreSQL plugin id of Grafana ≥ 10.2.3 (postgres is only an alias)').toBe(DS_TYPE);
    expect(ds.uid, 'every dashboard panel names this uid').toBe(DS_UID);
    for (const v of used) expect(env.has(v), `grafana.env gives ${v} a default: Grafana expands an unset variable to nothing`).toBe(true);
    const pgEnv = (postgres?.environment ?? {}) as Record<string, string>;
    expect(ds.url, 'the compose service `postgres` on its container port').toBe('postgres:5432');
    expect(ds.jsonData.database, 'the database the compose postgres service creates').toBe(pgEnv['POSTGRES_DB']);
    expect(ds.user).toBe(pgEnv['POSTGRES_USER']);
    expect(ds.secureJsonData.password).toBe(pgEnv['POSTGRES_PASSWORD']);
    expect(['disable', 'require', 'verify-ca', 'verify-full']).toContain(ds.jsonData.sslmode);
  });

  it('provisions the dashboards folder that docker-compose mounts, and gives Grafana the datasource variables', () => {
    const file = parseYaml(readFileSync(path.join(grafanaDir, 'provisioning', 'dashboards', 'stockstream.yaml'), 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    expect(file.apiVersion).toBe(1);
    expect(file.providers.map((p) => p.type)).toEqual(['file']);
    const dashboardsPath = file.providers[0]?.options.path;
    expect(dashboardsPath).toBe('/var/lib/grafana/dashboards');
    expect(grafana, 'docker-compose.yml has a grafana service').toBeDefined();
    expect(Number(/^grafana\/grafana(?:-oss)?:(\d+)\./.exec(grafana?.image ?? '')?.[1]), `the image (${grafana?.image}) knows the datasource type id ${DS_TYPE} (Grafana ≥ 11)`).toBeGreaterThanOrEqual(11);
    const mounts = (grafana?.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':').slice(0, 2).join(':') : `${v.source}:${v.target}`));
    expect(mounts, 'the provisioning files are where Grafana reads them').toContain('./grafana/provisioning:/etc/grafana/provisioning');
    expect(mounts, 'the dashboards are where the provider reads them').toContain(`./grafana/dashboards:${dashboardsPath}`);
    const envFiles = [grafana?.env_file ?? []].flat().map((e) => (typeof e === 'string' ? e : e.path));
    const environment = grafana?.environment ?? {};
    const set = new Set([...(envFiles.includes('./grafana/grafana.env') ? env.keys() : []), ...(Array.isArray(environment) ? environment.map((l) => l.split('=')[0] as string) : Object.keys(environment))]);
    for (const v of env.keys()) expect(set.has(v), `the grafana container gets ${v} (env_file: ./grafana/grafana.env in deploy/docker-compose.yml), or the datasource connects nowhere`).toBe(true);
  });

  it('has dashboards whose panels and variables all use the provisioned datasource, with unique ids and a sound layout', () => {
    expect(dashboards.map((x) => x.file)).toEqual(['stockstream-candles.json', 'stockstream-gold.json', 'stockstream-kpis.json']);
    expect(new Set(dashboards.map((x) => x.d.uid)).size, 'dashboard uids are unique').toBe(dashboards.length);
    for (const { file, d } of dashboards) {
      expect(d.uid, `${file}: a pinned uid, so links survive re-provisioning`).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(d.schemaVersion, `${file}: a schema Grafana 11 and 12 load`).toBeGreaterThanOrEqual(36);
      const panels = allPanels(d);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, `${file}: panel ids are unique (${ids.join(', ')})`).toBe(ids.length);
      for (const v of d.templating.list) expect(v.datasource, `${file}: variable ${v.name} queries the provisioned datasource`).toEqual({ type: DS_TYPE, uid: DS_UID });
      for (const p of panels) {
        expect(p.gridPos.x + p.gridPos.w, `${file}: panel ${p.id} fits the 24-column grid`).toBeLessThanOrEqual(24);
        for (const q of panels) {
          if (q.id <= p.id) continue;
          const overlap = p.gridPos.x < q.gridPos.x + q.gridPos.w && q.gridPos.x < p.gridPos.x + p.gridPos.w && p.gridPos.y < q.gridPos.y + q.gridPos.h && q.gridPos.y < p.gridPos.y + p.gridPos.h;
          expect(overlap, `${file}: panels ${p.id} and ${q.id} do not overlap`).toBe(false);
        }
        if (p.type === 'row') continue;
        expect(p.datasource, `${file}: panel ${p.id} (${p.title}) uses the provisioned datasource`).toEqual({ type: DS_TYPE, uid: DS_UID });
        expect(p.targets?.length, `${file}: panel ${p.id} has a query`).toBeGreaterThan(0);
        const refIds = (p.targets ?? []).map((t) => t.refId);
        expect(new Set(refIds).size, `${file}: panel ${p.id} refIds are unique`).toBe(refIds.length);
        for (const t of p.targets ?? []) {
          expect(t.datasource, `${file}: panel ${p.id} query ${t.refId} uses the provisioned datasource`).toEqual({ type: DS_TYPE, uid: DS_UID });
          expect(['time_series', 'table'], `${file}: panel ${p.id} query format`).toContain(t.format);
          expect(t.rawQuery && t.editorMode === 'code' && (t.rawSql ?? '').length > 0, `${file}: panel ${p.id} is raw SQL in code mode`).toBe(true);
        }
      }
    }
  });

  it('defines every variable before it is used, and uses only macros Grafana has', () => {
    for (const { file, d } of dashboards) {
      const names = d.templating.list.map((v) => v.name);
      d.templating.list.forEach((v, i) => {
        for (const ref of referencedVariables(variableSql(v))) {
          const at = names.indexOf(ref);
          expect(BUILT_IN_VARIABLES.has(ref) || (at >= 0 && at < i), `${file}: variable ${v.name} uses $${ref}, which must be a variable defined above it`).toBe(true);
        }
      });
      for (const p of allPanels(d)) {
        const texts = [p.title, ...(p.targets ?? []).map((t) => t.rawSql ?? '')];
        for (const ref of texts.flatMap(referencedVariables)) expect(BUILT_IN_VARIABLES.has(ref) || names.includes(ref), `${file}: panel ${p.id} uses $${ref}, which is not defined`).toBe(true);
        for (const t of p.targets ?? []) for (const m of (t.rawSql ?? '').matchAll(/\$(__\w+)\(/g)) expect(MACROS_IMPLEMENTED.has(m[1] as string), `${file}: panel ${p.id} uses macro ${m[1]}`).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Every query against real PostgreSQL.
// ---------------------------------------------------------------------------------------------

const PG_URL = process.env['STOCKSTREAM_PG_URL'] ?? 'postgres://stockstream:stockstream@127.0.0.1:15432/stockstream';
const missing = await serviceUnavailable('PostgreSQL', [new URL(PG_URL).host]);

const DAY = 86_400_000;
const FIRST_DAY = Date.parse('2025-02-03T00:00:00Z');
const TRADING_DAYS = 25;

/** Trades of the fixture's four symbols: 12 per regular window of each trading day, prices on a random walk. */
function trades(seed: number): Record<string, unknown>[] {
  return sessionTrades(seed, { firstDay: FIRST_DAY, days: TRADING_DAYS, perWindow: 12 });
}

const NUMERIC_OIDS = new Set([20, 21, 23, 700, 701, 1700]);
const TIME_OIDS = new Set([1184, 1114]);
const TEXT_OIDS = new Set([25, 1043]);

if (missing !== null) {
  describe('Grafana dashboards against PostgreSQL', () => {
    it.skip(missing, () => undefined);
  });
} else {
  describe('Grafana dashboards against PostgreSQL', () => {
    const seed = testSeed(20250301);
    const dbName = `ss_test_grafana_${process.pid}_${randomBytes(4).toString('hex')}`;
    let admin: pg.Client;
    let pool: pg.Pool;
    let lake: LakeFixture;
    let warehouse: PgWarehouse;
    let from = 0;
    let to = 0;
    /** What the seeded data holds, for the panels whose rows are checked one by one. */
    const seeded = { aaplMinutes: 0, aaplDays: 0, amended: 0, rejectRule: '', symbols: [] as string[] };

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      const url = new URL(PG_URL);
      url.pathname = `/${dbName}`;
      pool = testPool(url.toString());
      await migrate(pool);

      // The lake: trades, one exact repeat and one rejected event, through the shipped models; then its gold mirror.
      // Ingest's clock (the rejects' received_at) is just after the last session, inside the dashboards' range.
      lake = await openLake({ now: FIRST_DAY + 36 * DAY });
      const input = trades(seed);
      input.push({ ...(input.find((e) => e.symbol === 'AAPL') as object) });
      input.push({ kind: 'trade', symbol: 'AAPL', ts: input[20]?.ts, source: 'test', id: 'bad', price: -1, size: 1 });
      await lake.land(input);
      const run = await lake.runner.run();
      if (run.status !== 'success') throw new Error(`seed ${seed}: the lake run failed: ${run.error?.message}`);
      await new PgGoldSync({ lake: lake.lake, project: lake.runner.project, pool }).sync();

      // Serving rows through the warehouse's own writer: the gold bars as final candles (a few amended), indicators over them, KPIs, alerts.
      warehouse = await PgWarehouse.open({ url: url.toString(), migrate: false });
      const bars = async (table: string, interval: Interval): Promise<Candle[]> =>
        (await lake.lake.all(`SELECT symbol, start, "end", open, high, low, close, volume, vwap, trades FROM gold.${table} ORDER BY symbol, start`)).map((r, i) => ({
          symbol: String(r.symbol),
          interval,
          start: Number(r.start),
          end: Number(r.end),
          open: Number(r.open),
          high: Number(r.high),
          low: Number(r.low),
          close: Number(r.close),
          volume: Number(r.volume),
          vwap: Number(r.vwap),
          trades: Number(r.trades),
          final: true,
          rev: i % 50 === 0 ? 1 : 0,
        }));
      const candles = [...(await bars('ohlc_1m', '1m')), ...(await bars('ohlc_daily', '1d'))];
      const values: IndicatorValueRow[] = [];
      for (const symbol of INSTRUMENTS.map((i) => i.symbol)) {
        const series = candles.filter((c) => c.symbol === symbol && c.interval === '1m');
        const table = computeIndicators(series, ['sma:20', 'rsi:14', 'bbands:20:2']).indicators;
        for (const [spec, outputs] of Object.entries(table)) {
          for (const [output, column] of Object.entries(outputs)) column.forEach((value, k) => values.push({ symbol, interval: '1m', start: (series[k] as Candle).start, spec, output, value }));
        }
      }
      const kpis: Kpi[] = (await lake.lake.all('SELECT * FROM gold.kpi_latest')).map((r) => ({
        symbol: String(r.symbol),
        last: Number(r.last),
        change: Number(r.change ?? 0),
        changePct: Number(r.change_pct ?? 0),
        open: Number(r.open),
        high: Number(r.high),
        low: Number(r.low),
        volume: Number(r.volume),
        vwap: Number(r.vwap),
        prevClose: r.prev_close === null ? null : Number(r.prev_close),
        tradesPerSec: 0,
        ts: Number(r.ts),
      }));
      const aapl = candles.filter((c) => c.symbol === 'AAPL' && c.interval === '1m');
      const alerts: WarehouseAlert[] = aapl.slice(0, 6).map((c, i) => ({ id: `a${i}`, ts: c.start, symbol: i % 2 === 0 ? 'AAPL' : 'MSFT', rule: 'price_jump', severity: ['info', 'warning', 'critical'][i % 3] as string, message: `jump ${i}`, payload: { i } }));
      await warehouse.write({ candles, indicatorValues: values, kpis, alerts });

      from = FIRST_DAY;
      to = Math.max(FIRST_DAY + 36 * DAY, ...candles.map((c) => c.end)) + DAY;
      seeded.aaplMinutes = aapl.length;
      seeded.aaplDays = candles.filter((c) => c.symbol === 'AAPL' && c.interval === '1d').length;
      seeded.amended = aapl.filter((c) => c.rev > 0).length;
      seeded.rejectRule = String((await lake.lake.all('SELECT rule FROM bronze.rejects'))[0]?.rule);
      seeded.symbols = INSTRUMENTS.map((i) => i.symbol).sort();
    }, 120_000);

    afterAll(async () => {
      await warehouse?.close();
      await pool?.end();
      await lake?.close();
      await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin?.end();
    });

    /** Runs one expanded query; fails the test with the SQL when PostgreSQL refuses it. */
    async function run(what: string, sql: string): Promise<pg.QueryResult<Record<string, unknown>>> {
      try {
        return await pool.query(sql);
      } catch (err) {
        throw new Error(`seed ${seed}: ${what} must run on the warehouse schema, but PostgreSQL said: ${(err as Error).message}\n${sql}`);
      }
    }

    /** Variables resolved in order, each query expanded with the ones above it: single values pick `prefer` when offered, else the first. */
    async function resolveVariables(d: Dashboard, prefer: Record<string, string>): Promise<Map<string, VariableValue>> {
      const values = new Map<string, VariableValue>();
      for (const v of d.templating.list) {
        const sql = expandQuery(variableSql(v), { variables: d.templating.list, values, from, to, intervalMs: 3_600_000 });
        const r = await run(`${d.uid}: variable ${v.name}`, sql);
        const options = r.rows.map((row) => String(Object.values(row)[0]));
        expect(options.length, `seed ${seed}: ${d.uid}: variable ${v.name} offers values for the seeded data`).toBeGreaterThan(0);
        const wanted = prefer[v.name];
        if (v.multi || v.includeAll) values.set(v.name, options);
        else values.set(v.name, wanted !== undefined && options.includes(wanted) ? wanted : (options[0] as string));
      }
      return values;
    }

    /** Checks a result against the panel's shape: time series need a sorted time column, panels the fields their options name. */
    function checkShape(d: Dashboard, p: Panel, t: Target, r: pg.QueryResult<Record<string, unknown>>): void {
      const where = `seed ${seed}: ${d.uid} panel ${p.id} (${p.title}) query ${t.refId}`;
      const fields = new Map(r.fields.map((f) => [f.name, f.dataTypeID]));
      expect(r.rows.length, `${where} returns rows for the seeded data`).toBeGreaterThan(0);
      const time = fields.get('time');
      if (t.format === 'time_series') {
        expect(time !== undefined && (TIME_OIDS.has(time) || NUMERIC_OIDS.has(time)), `${where}: a time series needs a column "time" of a timestamp or epoch seconds (has ${[...fields.keys()].join(', ')})`).toBe(true);
        const ts = r.rows.map((row) => (row.time instanceof Date ? row.time.getTime() : Number(row.time)));
        expect(ts.every((x, i) => i === 0 || x >= (ts[i - 1] as number)), `${where}: Grafana needs time series sorted by time`).toBe(true);
        const others = [...fields].filter(([n]) => n !== 'time');
        expect(others.every(([, oid]) => NUMERIC_OIDS.has(oid) || TEXT_OIDS.has(oid)), `${where}: values are numbers, labels text`).toBe(true);
        expect(others.some(([, oid]) => NUMERIC_OIDS.has(oid)), `${where}: at least one value column`).toBe(true);
      } else if (time !== undefined) {
        expect(TIME_OIDS.has(time), `${where}: a "time" column is a timestamp`).toBe(true);
      }
      if (p.type === 'candlestick') for (const f of ['open', 'high', 'low', 'close', 'volume']) expect(fields.has(f), `${where}: the candlestick panel finds ${f} by name`).toBe(true);
      if (p.options?.xField !== undefined) expect(fields.has(p.options.xField), `${where}: the bar chart's x field ${p.options.xField} is a column`).toBe(true);
      const reduce = p.options?.reduceOptions?.fields;
      if (reduce !== undefined && reduce !== '') {
        const re = new RegExp(reduce.slice(1, -1));
        expect([...fields].some(([n, oid]) => re.test(n) && NUMERIC_OIDS.has(oid)), `${where}: the reduced fields ${reduce} match a numeric column`).toBe(true);
      }
      if (t.format === 'table') {
        for (const o of p.fieldConfig?.overrides ?? []) if (o.matcher.id === 'byName') expect(fields.has(o.matcher.options), `${where}: override for ${o.matcher.options} names a column`).toBe(true);
        for (const s of p.options?.sortBy ?? []) expect(fields.has(s.displayName), `${where}: sorted by ${s.displayName}, a column`).toBe(true);
      }
    }

    const prefer = { symbol: 'AAPL', interval: '1m' };

    it('runs every variable and panel query of every dashboard, with the columns its panel needs and rows for the seeded data', async () => {
      for (const { d } of dashboards) {
        const values = await resolveVariables(d, prefer);
        for (const p of allPanels(d)) {
          for (const t of p.targets ?? []) {
            const sql = expandQuery(t.rawSql ?? '', { variables: d.templating.list, values, from, to, intervalMs: 3_600_000 });
            expect(sql, `${d.uid} panel ${p.id}: nothing left unexpanded`).not.toMatch(/\$\w|\[\[/);
            checkShape(d, p, t, await run(`${d.uid} panel ${p.id} (${p.title})`, sql));
          }
        }
      }
    });

    it('shows the seeded data: the candles, KPIs, gold bars and rejects that went in', async () => {
      const byUid = new Map(dashboards.map(({ d }) => [d.uid, d]));
      const panelRows = async (uid: string, id: number): Promise<Record<string, unknown>[]> => {
        const d = byUid.get(uid) as Dashboard;
        const p = allPanels(d).find((x) => x.id === id) as Panel;
        const values = await resolveVariables(d, prefer);
        return (await run(`${uid} panel ${id}`, expandQuery(p.targets?.[0]?.rawSql ?? '', { variables: d.templating.list, values, from, to, intervalMs: 3_600_000 }))).rows;
      };
      const candles = byUid.get('stockstream-candles') as Dashboard;
      expect(await resolveVariables(candles, prefer), 'the interval variable lists AAPL’s intervals in the range, shortest first').toEqual(
        new Map<string, VariableValue>([
          ['symbol', 'AAPL'],
          ['interval', '1m'],
        ]),
      );
      expect((await run('interval options', expandQuery(variableSql(candles.templating.list[1] as Variable), { variables: candles.templating.list, values: new Map([['symbol', 'AAPL']]), from, to, intervalMs: 60_000 }))).rows.map((r) => r.interval)).toEqual(['1m', '1d']);
      expect((await panelRows('stockstream-candles', 1)).length, `seed ${seed}: one candlestick per seeded AAPL 1m candle`).toBe(seeded.aaplMinutes);
      expect(await panelRows('stockstream-candles', 5), 'the counts of candles, amended ones and forming ones').toEqual([{ candles: String(seeded.aaplMinutes), amended: String(seeded.amended), forming: '0' }]);
      const perHour = await panelRows('stockstream-candles', 3);
      expect(perHour.reduce((n, r) => n + Number(r.trades), 0), 'trades per $__interval add up to every AAPL trade').toBe(Number((await lake.lake.all("SELECT sum(trades) AS n FROM gold.ohlc_1m WHERE symbol = 'AAPL'"))[0]?.n));
      expect(perHour.every((r) => Number(r.time) % 3600 === 0), '$__timeGroupAlias with a 1h interval gives whole hours in epoch seconds').toBe(true);

      const breadth = (await panelRows('stockstream-kpis', 1))[0] as Record<string, string>;
      expect(Number(breadth.advancers) + Number(breadth.decliners) + Number(breadth.unchanged), 'All selects every symbol with KPIs').toBe(seeded.symbols.length);
      expect((await panelRows('stockstream-kpis', 3)).map((r) => r.symbol).sort()).toEqual(seeded.symbols);
      expect((await panelRows('stockstream-kpis', 7)).length, 'the seeded alerts of the selected symbols in range').toBe(6);

      expect((await panelRows('stockstream-gold', 1)).length, `seed ${seed}: one daily bar per AAPL session`).toBe(seeded.aaplDays);
      expect((await panelRows('stockstream-gold', 2)).every((r) => typeof r.close === 'number'), 'daily bars joined to their indicators').toBe(true);
      expect((await panelRows('stockstream-gold', 5)).map((r) => r.symbol).sort(), 'the market map shows every symbol').toEqual(seeded.symbols);
      expect(await panelRows('stockstream-gold', 13), 'the rejected event, by its rule').toEqual([{ rule: seeded.rejectRule, rejects: '1' }]);
      const dq = (await panelRows('stockstream-gold', 12)).find((r) => r.symbol === 'AAPL');
      expect(dq?.duplicates, 'the repeated event is counted as a duplicate').toBe('1');
    });
  });
}
