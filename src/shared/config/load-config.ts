import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { StockStreamError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

export const ENV_PREFIX = 'STOCKSTREAM_';

export interface LoadConfigOptions {
  /** Path of `stockstream.yaml`; when absent, `./stockstream.yaml` is read if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from CLI flags: the highest precedence. */
  overrides?: Record<string, unknown>;
}

type Origin = Map<string, string>;

/**
 * STOCKSTREAM_* variables that are not platform settings: the test switches and where the local
 * services of deploy/local/ run (deploy/local/env.sh exports them for the integration tests).
 */
const NOT_CONFIG = new Set([
  'STOCKSTREAM_REQUIRE_SERVICES',
  'STOCKSTREAM_TEST_SEED',
  'STOCKSTREAM_CHROMIUM',
  'STOCKSTREAM_SCREENSHOT_DIR',
  'STOCKSTREAM_PG_BIN',
  'STOCKSTREAM_SERVICES_DIR',
  'STOCKSTREAM_KAFKA_BROKERS',
  'STOCKSTREAM_KAFKA_PORT',
  'STOCKSTREAM_PG_URL',
  'STOCKSTREAM_PG_PORT',
  'STOCKSTREAM_REDIS_URL',
  'STOCKSTREAM_REDIS_PORT',
  'STOCKSTREAM_S3_ENDPOINT',
  'STOCKSTREAM_S3_PORT',
  'STOCKSTREAM_S3_BUCKET',
  'STOCKSTREAM_S3_ACCESS_KEY_ID',
  'STOCKSTREAM_S3_SECRET_ACCESS_KEY',
  'STOCKSTREAM_S3_REGION',
]);

function camel(snake: string): string {
  return snake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `STOCKSTREAM_LOG__FSYNC=always` → `log.fsync`; `__` nests, `_` separates words. */
export function envPath(name: string): string[] {
  return name.slice(ENV_PREFIX.length).split('__').map(camel);
}

function envValue(raw: string): unknown {
  const t = raw.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t);
    } catch {
      return raw;
    }
  }
  if (t.includes(',') && !t.includes(' ')) return t.split(',');
  return raw;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function recordOrigins(value: unknown, prefix: string, origin: string, origins: Origin): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) recordOrigins(v, prefix ? `${prefix}.${k}` : k, origin, origins);
  } else {
    origins.set(prefix, origin);
  }
}

function merge(base: Record<string, unknown>, add: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(add)) {
    const cur = base[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof cur === 'object' && cur !== null && !Array.isArray(cur)) {
      merge(cur as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      base[k] = v;
    }
  }
  return base;
}

function describeIssue(issue: z.core.$ZodIssue, origins: Origin): string {
  const path = issue.path.map(String).join('.');
  const where = path === '' ? '(top level)' : path;
  let origin = origins.get(path);
  if (origin === undefined) {
    for (const [p, o] of origins) if (p.startsWith(`${path}.`) || path.startsWith(`${p}.`)) origin = o;
  }
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; check the spelling against docs (README, Configuration)`;
    const keyPath = path === '' ? issue.keys[0] : `${path}.${issue.keys[0]}`;
    origin = origins.get(keyPath ?? '') ?? origin;
  }
  return `  - ${where}: ${message}${origin ? ` (from ${origin})` : ''}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Loads the configuration: defaults ← file ← environment ← overrides. Every problem is collected
 * and reported in one SS_CONFIG_INVALID error, each line naming the setting, what was wrong and
 * where the value came from.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const origins: Origin = new Map();
  const problems: string[] = [];
  const input: Record<string, unknown> = {};

  const file = options.file ?? env['STOCKSTREAM_CONFIG'];
  const explicitFile = file !== undefined;
  const path = file ?? 'stockstream.yaml';
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (explicitFile || code !== 'ENOENT') problems.push(`  - config file ${path}: cannot be read (${code ?? (err as Error).message}); pass an existing file with --config`);
  }
  if (text !== undefined) {
    try {
      const parsed: unknown = parseYaml(text);
      if (parsed === null || parsed === undefined) {
        // An empty file is an empty configuration.
      } else if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        problems.push(`  - config file ${path}: expected a mapping of settings at the top level, got ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
      } else {
        recordOrigins(parsed, '', path, origins);
        merge(input, parsed as Record<string, unknown>);
      }
    } catch (err) {
      problems.push(`  - config file ${path}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
  }

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || name === 'STOCKSTREAM_CONFIG' || NOT_CONFIG.has(name)) continue;
    const p = envPath(name);
    const value = envValue(raw);
    const fromEnv: Record<string, unknown> = {};
    setPath(fromEnv, p, value);
    origins.set(p.join('.'), `environment ${name}`);
    merge(input, fromEnv);
  }

  if (options.overrides) {
    for (const [key, value] of Object.entries(options.overrides)) {
      if (value === undefined) continue;
      const fromFlag: Record<string, unknown> = {};
      setPath(fromFlag, key.split('.'), value);
      origins.set(key, `flag for ${key}`);
      merge(input, fromFlag);
    }
  }

  const result = configSchema.safeParse(input);
  if (!result.success) for (const issue of result.error.issues) problems.push(describeIssue(issue, origins));
  if (problems.length > 0 || !result.success) {
    throw new StockStreamError(
      'SS_CONFIG_INVALID',
      `configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.join('\n')}`,
      { context: { problems } },
    );
  }
  return deepFreeze(result.data);
}
