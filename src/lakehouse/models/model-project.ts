import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { StockStreamError } from '../../shared/errors.js';
import { templateRefs } from './template.js';

export const MODEL_LAYERS = ['bronze', 'silver', 'gold'] as const;
export type ModelLayer = (typeof MODEL_LAYERS)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A data test on a column (dbt's generic tests: https://docs.getdbt.com/docs/build/data-tests). */
const columnTest = z.union([
  z.literal('not_null'),
  z.literal('unique'),
  z.strictObject({ accepted_range: z.strictObject({ min: z.number().optional(), max: z.number().optional(), inclusive: z.boolean().default(true) }) }),
  z.strictObject({ accepted_values: z.strictObject({ values: z.array(scalar).min(1) }) }),
  z.strictObject({ relationships: z.strictObject({ to: z.string().min(1), field: z.string().min(1) }) }),
]);
export type ColumnTest = z.infer<typeof columnTest>;

const modelConfig = z.strictObject({
  description: z.string().optional(),
  /** view: a view over its SQL; table: rebuilt whole each run; incremental: new rows merged by unique_key. */
  materialized: z.enum(['view', 'table', 'incremental']).optional(),
  /** Columns that identify a row; an incremental run replaces the rows whose key it produces again. */
  unique_key: z.array(z.string().min(1)).min(1).optional(),
  /** 'typescript': the model is computed by a registered TypeScript operator instead of SQL. */
  engine: z.enum(['sql', 'typescript']).default('sql'),
  /** For engine typescript: the operator's name and its parameters. */
  operator: z.string().optional(),
  /** For engine typescript: the model it reads, as in ref(). */
  input: z.string().optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  columns: z.array(z.strictObject({ name: z.string().min(1), description: z.string().optional(), tests: z.array(columnTest).default([]) })).default([]),
  /** Tests over several columns: `unique: [symbol, start]` (the combination is unique). */
  tests: z.array(z.strictObject({ unique: z.array(z.string().min(1)).min(1) })).default([]),
});
export type ModelConfig = z.infer<typeof modelConfig>;

/** One model of the project: `models/<layer>/<name>.sql` and its optional `<name>.yml`. */
export interface Model {
  /** `<layer>.<name>`: the relation it materializes and the name other models ref. */
  readonly id: string;
  readonly layer: ModelLayer;
  readonly name: string;
  /** The SQL template ('' for engine typescript). */
  readonly sql: string;
  readonly config: ModelConfig & { materialized: 'view' | 'table' | 'incremental' };
  /** Files it came from (for messages). */
  readonly files: readonly string[];
  /** Ids of the models it reads (ref, increment and a typescript model's input). */
  readonly dependsOn: readonly string[];
  /** Ids of models it reads through increment(). */
  readonly increments: readonly string[];
  readonly sources: readonly string[];
}

export interface ModelProject {
  readonly dir: string;
  /** In dependency order: every model after all it reads. */
  readonly models: readonly Model[];
  get(id: string): Model;
}

/** A relationships test target: `source('instruments')`, `ref('gold.x')` or a bare model name. */
export function parseRelation(to: string): { kind: 'source' | 'model'; name: string } {
  const m = /^\s*(source|ref)\(\s*'([^']+)'\s*\)\s*$/.exec(to);
  if (m === null) return { kind: 'model', name: to.trim() };
  return { kind: m[1] === 'source' ? 'source' : 'model', name: m[2] as string };
}

function modelError(message: string, context: Record<string, unknown> = {}): StockStreamError {
  return new StockStreamError('SS_MODEL_INVALID', message, { context });
}

/** Reads and checks every model under `dir` (`bronze/`, `silver/`, `gold/`); all problems are reported at once. */
export async function loadModelProject(dir: string): Promise<ModelProject> {
  const root = path.resolve(dir);
  const problems: string[] = [];
  const raw = new Map<string, { layer: ModelLayer; name: string; sql: string | null; yml: unknown; files: string[] }>();
  for (const layer of MODEL_LAYERS) {
    let entries: string[];
    try {
      entries = (await fs.readdir(path.join(root, layer))).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw modelError(`Expected to read the models directory ${path.join(root, layer)}: ${(err as Error).message}`);
    }
    for (const entry of entries) {
      const m = /^([a-z][a-z0-9_]*)\.(sql|yml|yaml)$/.exec(entry);
      if (m === null) {
        if (/\.(sql|ya?ml)$/.test(entry)) problems.push(`${layer}/${entry}: model names are lower_snake_case starting with a letter (they become table names)`);
        continue;
      }
      const name = m[1] as string;
      const id = `${layer}.${name}`;
      const file = path.join(root, layer, entry);
      const text = await fs.readFile(file, 'utf8');
      const slot = raw.get(id) ?? { layer, name, sql: null, yml: undefined, files: [] };
      slot.files.push(file);
      if (m[2] === 'sql') slot.sql = text;
      else {
        try {
          slot.yml = parseYaml(text) ?? {};
        } catch (err) {
          problems.push(`${layer}/${entry}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      raw.set(id, slot);
    }
  }

  const byName = new Map<string, string[]>();
  for (const [id, r] of raw) byName.set(r.name, [...(byName.get(r.name) ?? []), id]);
  const resolveRef = (from: string, name: string): string | null => {
    if (raw.has(name)) return name;
    const ids = byName.get(name) ?? [];
    if (ids.length === 1) return ids[0] as string;
    problems.push(
      ids.length === 0
        ? `${from}: ref('${name}') names no model; models are ${[...raw.keys()].sort().join(', ') || '(none)'}`
        : `${from}: ref('${name}') is ambiguous (${ids.join(', ')}); write the layer too, e.g. ref('${ids[0]}')`,
    );
    return null;
  };

  const models: Model[] = [];
  for (const [id, r] of raw) {
    const parsed = modelConfig.safeParse(r.yml ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${r.layer}/${r.name}.yml: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
      continue;
    }
    const config = parsed.data;
    const typescript = config.engine === 'typescript';
    if (typescript && r.sql !== null) problems.push(`${id}: engine typescript takes no .sql file; remove ${r.layer}/${r.name}.sql or the engine line`);
    if (!typescript && r.sql === null) {
      problems.push(`${id}: ${r.layer}/${r.name}.yml has no ${r.name}.sql beside it (or set engine: typescript)`);
      continue;
    }
    if (typescript && (config.operator === undefined || config.input === undefined)) problems.push(`${id}: engine typescript needs operator and input`);
    const materialized = config.materialized ?? (r.layer === 'bronze' ? 'view' : 'table');
    let refs: ReturnType<typeof templateRefs> = { refs: [], increments: [], sources: [] };
    if (r.sql !== null) {
      try {
        refs = templateRefs(`${r.layer}/${r.name}.sql`, r.sql);
      } catch (err) {
        problems.push((err as Error).message);
        continue;
      }
    }
    const deps = new Set<string>();
    const increments = new Set<string>();
    for (const n of refs.refs) {
      const d = resolveRef(id, n);
      if (d !== null) deps.add(d);
    }
    for (const n of refs.increments) {
      const d = resolveRef(id, n);
      if (d !== null) {
        deps.add(d);
        increments.add(d);
      }
    }
    if (typescript && config.input !== undefined) {
      const d = resolveRef(id, config.input);
      if (d !== null) {
        deps.add(d);
        increments.add(d);
      }
    }
    for (const rel of config.columns.flatMap((c) => c.tests)) {
      if (typeof rel === 'object' && 'relationships' in rel) {
        const to = parseRelation(rel.relationships.to);
        if (to.kind === 'model') resolveRef(`${id} relationships test`, to.name);
      }
    }
    models.push({ id, layer: r.layer, name: r.name, sql: r.sql ?? '', config: { ...config, materialized }, files: r.files, dependsOn: [...deps], increments: [...increments], sources: refs.sources });
  }

  const ordered = problems.length === 0 ? topoSort(models, problems) : [];
  if (problems.length > 0) {
    throw modelError(`The models under ${root} have ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  const index = new Map(ordered.map((m) => [m.id, m]));
  return {
    dir: root,
    models: ordered,
    get(id: string): Model {
      const m = index.get(id) ?? (byName.get(id)?.length === 1 ? index.get((byName.get(id) as string[])[0] as string) : undefined);
      if (m === undefined) throw modelError(`No model named ${id}; models are ${[...index.keys()].join(', ')}`);
      return m;
    },
  };
}

/** Kahn's algorithm, ties by id so the order is stable; a cycle is reported with its path. */
function topoSort(models: readonly Model[], problems: string[]): Model[] {
  const byId = new Map(models.map((m) => [m.id, m]));
  const state = new Map<string, 'visiting' | 'done'>();
  const out: Model[] = [];
  const visit = (m: Model, trail: string[]): void => {
    const s = state.get(m.id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(m.id)), m.id];
      problems.push(`the models form a cycle: ${cycle.join(' → ')}; a model cannot read itself through others (use {{ this }} for its own rows)`);
      return;
    }
    state.set(m.id, 'visiting');
    for (const d of [...m.dependsOn].sort()) {
      const dep = byId.get(d);
      if (dep !== undefined) visit(dep, [...trail, m.id]);
    }
    state.set(m.id, 'done');
    out.push(m);
  };
  for (const m of [...models].sort((a, b) => a.id.localeCompare(b.id))) visit(m, []);
  return out;
}

/**
 * dbt-style selection (https://docs.getdbt.com/reference/node-selection/graph-operators): `name`
 * alone, `name+` with everything downstream, `+name` with everything upstream, a layer name
 * (`silver`) for its models; several separated by commas or spaces. Empty: every model.
 */
export function selectModels(project: ModelProject, selector: string | undefined): Model[] {
  const parts = (selector ?? '').split(/[\s,]+/).filter((s) => s !== '');
  if (parts.length === 0) return [...project.models];
  const chosen = new Set<string>();
  for (const part of parts) {
    const m = /^(\+)?([a-z0-9_.]+?)(\+)?$/.exec(part);
    if (m === null) throw new StockStreamError('SS_CLI_USAGE', `--select: ${JSON.stringify(part)} is not a selector; use name, name+, +name or a layer (bronze, silver, gold)`);
    const name = m[2] as string;
    const roots = (MODEL_LAYERS as readonly string[]).includes(name) ? project.models.filter((x) => x.layer === name) : [project.get(name)];
    for (const root of roots) {
      chosen.add(root.id);
      if (m[1] !== undefined) for (const id of upstream(project, root.id)) chosen.add(id);
      if (m[3] !== undefined) for (const id of downstream(project, root.id)) chosen.add(id);
    }
  }
  return project.models.filter((x) => chosen.has(x.id));
}

function upstream(project: ModelProject, id: string, seen = new Set<string>()): Set<string> {
  for (const d of project.get(id).dependsOn) {
    if (!seen.has(d)) {
      seen.add(d);
      upstream(project, d, seen);
    }
  }
  return seen;
}

function downstream(project: ModelProject, id: string, seen = new Set<string>()): Set<string> {
  for (const m of project.models) {
    if (m.dependsOn.includes(id) && !seen.has(m.id)) {
      seen.add(m.id);
      downstream(project, m.id, seen);
    }
  }
  return seen;
}
