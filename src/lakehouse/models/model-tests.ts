import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../../shared/sql.js';
import type { LakeDatabase } from '../catalog/lake-database.js';
import { parseRelation, type ColumnTest, type Model, type ModelProject } from './model-project.js';

export interface ModelTestResult {
  readonly model: string;
  /** e.g. `not_null(symbol)`, `unique(symbol, start)`, `accepted_range(price)`. */
  readonly test: string;
  readonly status: 'pass' | 'fail' | 'error';
  /** Rows that break the test. */
  readonly failures: number;
  /** Up to five of them, as JSON-friendly objects, so the message shows what is wrong. */
  readonly sample: readonly Record<string, unknown>[];
  readonly error?: string;
  /** The query that finds the failing rows: run it with `stockstream sql` to see them all. */
  readonly sql: string;
}

const SOURCES: Record<string, string> = { instruments: 'meta.instruments', sessions: 'meta.sessions', watermarks: 'meta.watermarks' };

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(v: string | number | boolean): string {
  return typeof v === 'string' ? sqlString(v) : String(v);
}

/** The SQL selecting the rows that break one test (dbt's generic tests: zero rows means pass). */
function failingRowsSql(project: ModelProject, m: Model, column: string | null, test: ColumnTest | { unique: readonly string[] }): { name: string; sql: string } {
  const t = m.id;
  if (test === 'not_null') return { name: `not_null(${column})`, sql: `SELECT * FROM ${t} WHERE ${ident(column as string)} IS NULL` };
  if (test === 'unique' || (typeof test === 'object' && 'unique' in test)) {
    const cols = test === 'unique' ? [column as string] : [...test.unique];
    const list = cols.map(ident).join(', ');
    return {
      name: `unique(${cols.join(', ')})`,
      sql: `SELECT ${list}, count(*) AS occurrences FROM ${t} WHERE ${cols.map((c) => `${ident(c)} IS NOT NULL`).join(' AND ')} GROUP BY ${list} HAVING count(*) > 1`,
    };
  }
  const c = ident(column as string);
  if ('accepted_range' in test) {
    const { min, max, inclusive } = test.accepted_range;
    const conds: string[] = [];
    if (min !== undefined) conds.push(`${c} ${inclusive ? '>=' : '>'} ${min}`);
    if (max !== undefined) conds.push(`${c} ${inclusive ? '<=' : '<'} ${max}`);
    return { name: `accepted_range(${column}${min !== undefined ? `, min ${min}` : ''}${max !== undefined ? `, max ${max}` : ''})`, sql: `SELECT * FROM ${t} WHERE ${c} IS NOT NULL AND NOT (${conds.join(' AND ') || 'true'})` };
  }
  if ('accepted_values' in test) {
    return { name: `accepted_values(${column})`, sql: `SELECT * FROM ${t} WHERE ${c} IS NOT NULL AND ${c} NOT IN (${test.accepted_values.values.map(literal).join(', ')})` };
  }
  const to = parseRelation(test.relationships.to);
  const target = to.kind === 'source' ? (SOURCES[to.name] ?? to.name) : project.get(to.name).id;
  return {
    name: `relationships(${column} → ${test.relationships.to}.${test.relationships.field})`,
    sql: `SELECT m.* FROM ${t} m WHERE m.${c} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${target} r WHERE r.${ident(test.relationships.field)} = m.${c})`,
  };
}

/** Runs the data tests declared beside the given models (`stockstream models test`). */
export async function runModelTests(lake: LakeDatabase, project: ModelProject, models: readonly Model[]): Promise<ModelTestResult[]> {
  // Under the lake's shared lock: a compaction must not swap files under a test of bronze.
  return lake.shared(() => runTests(lake, project, models));
}

async function runTests(lake: LakeDatabase, project: ModelProject, models: readonly Model[]): Promise<ModelTestResult[]> {
  const conn: DuckDBConnection = await lake.connect();
  const out: ModelTestResult[] = [];
  try {
    for (const m of models) {
      const tests: { column: string | null; test: ColumnTest | { unique: readonly string[] } }[] = [
        ...m.config.columns.flatMap((col) => col.tests.map((test) => ({ column: col.name, test }))),
        ...m.config.tests.map((test) => ({ column: null, test })),
      ];
      for (const { column, test } of tests) {
        const { name, sql } = failingRowsSql(project, m, column, test);
        try {
          const n = Number((await conn.runAndReadAll(`SELECT count(*) FROM (${sql})`)).getRows()[0]?.[0] ?? 0);
          const sample = n === 0 ? [] : ((await conn.runAndReadAll(`${sql} LIMIT 5`)).getRowObjectsJson() as Record<string, unknown>[]);
          out.push({ model: m.id, test: name, status: n === 0 ? 'pass' : 'fail', failures: n, sample, sql });
        } catch (err) {
          out.push({ model: m.id, test: name, status: 'error', failures: 0, sample: [], error: (err instanceof Error ? err.message : String(err)).split('\n')[0] as string, sql });
        }
      }
    }
  } finally {
    conn.closeSync();
  }
  return out;
}
