import { StockStreamError } from '../../shared/errors.js';

/**
 * The model template language: a small, dbt-shaped subset (https://docs.getdbt.com/reference/dbt-jinja-functions).
 *
 *   {{ ref('silver.ticks') }}        the relation of another model (an edge of the DAG)
 *   {{ increment('bronze.ticks') }}  that model's rows new in this run (all rows on a full refresh)
 *   {{ source('ticks') }}            a raw input: bronze Parquet, instruments, sessions, watermarks
 *   {{ this }}                       this model's own table
 *   {{ var('name') }}                a run variable (numbers, or strings quoted as SQL literals)
 *   {% if is_incremental() %} … {% else %} … {% endif %}
 *
 * Names may be written short (`ref('ticks')`) when only one model has that name.
 */
export interface TemplateContext {
  ref(name: string): string;
  increment(name: string): string;
  source(name: string): string;
  readonly this: string;
  variable(name: string): string;
  readonly isIncremental: boolean;
}

export interface TemplateRefs {
  refs: string[];
  increments: string[];
  sources: string[];
}

const EXPR = /\{\{\s*([\s\S]*?)\s*\}\}/g;
const CALL = /^(ref|increment|source|var)\(\s*'([^']*)'\s*\)$/;
const BLOCK = /\{%\s*(if\s+is_incremental\(\)|else|endif)\s*%\}/g;

function templateError(file: string, message: string): StockStreamError {
  return new StockStreamError('SS_MODEL_INVALID', `${file}: ${message}`, { context: { file } });
}

/** Resolves the `{% if is_incremental() %}` blocks; throws on unbalanced or nested blocks. */
function resolveBlocks(file: string, text: string, incremental: boolean): string {
  let out = '';
  let at = 0;
  let state: 'outside' | 'then' | 'else' = 'outside';
  for (const m of text.matchAll(BLOCK)) {
    const chunk = text.slice(at, m.index);
    const keep = state === 'outside' || (state === 'then' && incremental) || (state === 'else' && !incremental);
    if (keep) out += chunk;
    const tag = (m[1] as string).replace(/\s+/g, ' ');
    if (tag.startsWith('if')) {
      if (state !== 'outside') throw templateError(file, 'nested {% if is_incremental() %} blocks are not supported; close the first with {% endif %}');
      state = 'then';
    } else if (tag === 'else') {
      if (state !== 'then') throw templateError(file, '{% else %} without an open {% if is_incremental() %}');
      state = 'else';
    } else {
      if (state === 'outside') throw templateError(file, '{% endif %} without an open {% if is_incremental() %}');
      state = 'outside';
    }
    at = m.index + m[0].length;
  }
  if (state !== 'outside') throw templateError(file, '{% if is_incremental() %} is never closed; add {% endif %}');
  return out + text.slice(at);
}

function parseCall(file: string, expr: string): { fn: string; arg: string } {
  if (expr === 'this') return { fn: 'this', arg: '' };
  const m = CALL.exec(expr);
  if (m === null) {
    throw templateError(file, `{{ ${expr} }} is not understood; expected ref('model'), increment('model'), source('name'), var('name') or this`);
  }
  return { fn: m[1] as string, arg: m[2] as string };
}

/** Renders a model's SQL. */
export function renderTemplate(file: string, text: string, ctx: TemplateContext): string {
  const body = resolveBlocks(file, text, ctx.isIncremental);
  return body.replace(EXPR, (_all, expr: string) => {
    const { fn, arg } = parseCall(file, expr.trim());
    switch (fn) {
      case 'this':
        return ctx.this;
      case 'ref':
        return ctx.ref(arg);
      case 'increment':
        return ctx.increment(arg);
      case 'source':
        return ctx.source(arg);
      default:
        return ctx.variable(arg);
    }
  });
}

/** What a template refers to, from both branches of every block: the edges of the DAG. */
export function templateRefs(file: string, text: string): TemplateRefs {
  resolveBlocks(file, text, true);
  const out: TemplateRefs = { refs: [], increments: [], sources: [] };
  for (const m of text.matchAll(EXPR)) {
    const { fn, arg } = parseCall(file, (m[1] as string).trim());
    if (fn === 'ref') out.refs.push(arg);
    else if (fn === 'increment') out.increments.push(arg);
    else if (fn === 'source') out.sources.push(arg);
  }
  return out;
}
