import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { devNull } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { envPath, loadConfig, type Config } from '../../src/shared/config/index.js';

/**
 * No Docker engine runs here (issue 4, "For users"), so deploy/docker-compose.yml and the
 * Dockerfile are checked for what `docker compose up` would trip over: floating image tags,
 * dependencies that cannot become healthy, StockStream settings the real config loader refuses or
 * ignores, addresses that name no service or the wrong port, and a Kafka node KRaft would not start.
 * Compose semantics followed: https://github.com/compose-spec/compose-spec/blob/main/spec.md
 */
const repo = path.resolve(import.meta.dirname, '../..');
const deployDir = path.join(repo, 'deploy');
const composeFile = path.join(deployDir, 'docker-compose.yml');
const dockerfilePath = path.join(repo, 'Dockerfile');
const ROLES = ['ingest', 'process', 'lake', 'serve'] as const;

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  hostname?: string;
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  env_file?: string | (string | { path: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: (string | number | { target: number; published?: string | number; host_ip?: string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  deploy?: { replicas?: number };
  restart?: string;
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// Compose reads `<<` merge keys (YAML 1.1), which the file uses to share the roles' settings.
const compose = parseYaml(readFileSync(composeFile, 'utf8'), { merge: true }) as Compose;
const services = compose.services;

function environmentOf(s: Service): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(s.environment)) {
    for (const line of s.environment) {
      const i = line.indexOf('=');
      out[i < 0 ? line : line.slice(0, i)] = i < 0 ? '' : line.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) out[k] = v === null ? '' : String(v);
  }
  return out;
}

function dependsOn(s: Service): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(s.depends_on)) for (const name of s.depends_on) out.set(name, 'service_started');
  else for (const [name, d] of Object.entries(s.depends_on ?? {})) out.set(name, d.condition ?? 'service_started');
  return out;
}

interface Port {
  published: number | null;
  target: number;
}

/** Short syntax `[ip:][published:]target[/proto]`, or the long syntax's object. */
function portsOf(s: Service): Port[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return { published: p.published === undefined ? null : Number(p.published), target: Number(p.target) };
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts[parts.length - 1]);
    return { published: parts.length >= 2 ? Number(parts[parts.length - 2]) : null, target };
  });
}

function volumesOf(s: Service): { source: string | null; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source ?? null, target: v.target };
    const [source, target] = v.split(':');
    return target === undefined ? { source: null, target: source as string } : { source: source as string, target };
  });
}

function commandOf(s: Service): string[] | null {
  if (s.command === undefined) return null;
  return Array.isArray(s.command) ? s.command.map(String) : s.command.split(/\s+/).filter((w) => w.length > 0);
}

/** The service a host name reaches on the compose network: its key or its `hostname`. */
function serviceAt(host: string): [string, Service] | undefined {
  return Object.entries(services).find(([name, s]) => name === host || s.hostname === host);
}

function imageName(s: Service | undefined): string {
  return (s?.image ?? '').replace(/:[^/:]*$/, '');
}

// ---- Dockerfile ------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Instructions with `\` continuations joined and comments dropped; `stage` counts FROMs from 0. */
function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (m === null) continue;
    const op = (m[1] as string).toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2] as string, stage });
  }
  return out;
}

const dockerfile = dockerfileInstructions(readFileSync(dockerfilePath, 'utf8'));
const finalStage = Math.max(...dockerfile.map((i) => i.stage));
const inFinal = (op: string): Instruction[] => dockerfile.filter((i) => i.op === op && i.stage === finalStage);

/** `ENV A=b C="d e"` pairs of the image that runs (the final stage). */
function dockerfileEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of inFinal('ENV')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) out[m[1] as string] = m[3] ?? (m[2] as string);
  }
  return out;
}

function execForm(i: Instruction | undefined): string[] | null {
  if (i === undefined) return null;
  const args = i.args.replace(/^(--\S+\s+)*(CMD\s+)?/, '');
  try {
    const v: unknown = JSON.parse(args);
    return Array.isArray(v) ? v.map(String) : null;
  } catch {
    return null;
  }
}

const buildsFromDockerfile = (s: Service): boolean => s.build !== undefined;
const dockerfileHasHealthcheck = inFinal('HEALTHCHECK').some((i) => !/^NONE\b/i.test(i.args));

function hasHealthcheck(s: Service): boolean {
  if (s.healthcheck !== undefined) {
    const t = s.healthcheck.test;
    const disabled = s.healthcheck.disable === true || t === undefined || (Array.isArray(t) && (t[0] === 'NONE' || t.length < 2)) || t === 'NONE';
    return !disabled;
  }
  return buildsFromDockerfile(s) && dockerfileHasHealthcheck;
}

/** The environment a StockStream container starts with: the image's ENV, then the service's. */
function stockstreamEnv(s: Service): Record<string, string> {
  return { ...dockerfileEnv(), ...environmentOf(s) };
}

/** Its configuration through the real loader; no file (devNull is empty), as in the image. */
function configOf(name: string, s: Service): Readonly<Config> {
  try {
    return loadConfig({ file: devNull, env: stockstreamEnv(s) });
  } catch (err) {
    throw new Error(`service ${name}: its STOCKSTREAM_* settings must load through loadConfig, as \`up\` would at start:\n${(err as Error).message}`);
  }
}

const stockstreamServices = Object.entries(services).filter(([, s]) => buildsFromDockerfile(s));

/** A tag that names a release: a version with a minor part, a dated RELEASE tag, or a digest. */
function pinned(ref: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return true;
  const m = /:([^/:]+)$/.exec(ref);
  if (m === null) return false;
  const tag = m[1] as string;
  return tag !== 'latest' && (/\d+\.\d+/.test(tag) || /^RELEASE\.\d{4}-\d{2}-\d{2}T/.test(tag));
}

// ---- Kafka server properties from the apache/kafka image's environment ----------------------

/** KAFKA_<NAME> → server property: `___` is `-`, `__` is `_`, `_` is `.` (the image's docs). */
function kafkaProps(env: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('KAFKA_')) continue;
    const prop = k.slice(6).replace(/___/g, '-').replace(/__/g, '\0').replace(/_/g, '.').replace(/\0/g, '_').toLowerCase();
    out.set(prop, v);
  }
  return out;
}

interface Listener {
  name: string;
  host: string;
  port: number;
}

/** `NAME://host:port,...` (host may be empty: all interfaces). */
function listeners(value: string | undefined): Listener[] {
  return (value ?? '').split(',').filter((s) => s.trim() !== '').map((entry) => {
    const m = /^([A-Za-z0-9_]+):\/\/([^:]*):(\d+)$/.exec(entry.trim());
    if (m === null) throw new Error(`listener "${entry}" must read NAME://host:port`);
    return { name: m[1] as string, host: m[2] as string, port: Number(m[3]) };
  });
}

function kafkaServices(): [string, Service][] {
  return Object.entries(services).filter(([, s]) => imageName(s) === 'apache/kafka');
}

describe('deploy/docker-compose.yml', () => {
  it('pins every image to a release', () => {
    const floating: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      if (s.image === undefined) {
        if (!buildsFromDockerfile(s)) floating.push(`${name}: no image and no build`);
        continue;
      }
      // A built image's tag is a local name; it must not be `latest`, which `pull` would fetch.
      const ok = buildsFromDockerfile(s) ? /:[^/:]+$/.test(s.image) && !s.image.endsWith(':latest') : pinned(s.image);
      if (!ok) floating.push(`${name}: ${s.image}`);
    }
    expect(floating, 'every image names a release (no `latest`, no missing or major-only tag), so `docker compose up` starts the same stack next year').toEqual([]);
  });

  it('starts a service only after what it depends on is ready', () => {
    const problems: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      for (const [target, condition] of dependsOn(s)) {
        const t = services[target];
        if (t === undefined) problems.push(`${name} depends on ${target}, which is not a service`);
        else if (condition === 'service_healthy' && !hasHealthcheck(t)) problems.push(`${name} waits for ${target} to be healthy, but ${target} has no health check`);
        else if (condition === 'service_completed_successfully' && t.restart !== 'no') problems.push(`${name} waits for ${target} to complete, but ${target} restarts (restart: ${t.restart ?? 'unset'})`);
        else if (!['service_healthy', 'service_completed_successfully', 'service_started'].includes(condition)) problems.push(`${name} → ${target}: unknown condition ${condition}`);
      }
    }
    expect(problems, 'depends_on names existing services, and a health condition has a health check to wait on').toEqual([]);
  });

  it('gives every long-running service a health check', () => {
    const missing = Object.entries(services).filter(([, s]) => s.restart !== 'no' && !hasHealthcheck(s)).map(([n]) => n);
    expect(missing, 'each service that stays up reports its health (in the file, or the Dockerfile HEALTHCHECK for StockStream images)').toEqual([]);
  });

  it('declares every named volume it mounts and mounts every one it declares', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    const used = new Set<string>();
    for (const s of Object.values(services)) for (const v of volumesOf(s)) if (v.source !== null && !/^[./~]/.test(v.source)) used.add(v.source);
    expect([...used].filter((v) => !declared.has(v)), 'a named volume must be declared under top-level volumes or compose refuses the file').toEqual([]);
    expect([...declared].filter((v) => !used.has(v)), 'a declared volume that nothing mounts is a leftover').toEqual([]);
  });

  it('runs each StockStream role once, with --role and STOCKSTREAM_ROLE agreeing', () => {
    for (const role of ROLES) {
      const matching = stockstreamServices.filter(([name, s]) => configOf(name, s).role === role);
      expect(matching.map(([n]) => n), `exactly one service runs role ${role}`).toHaveLength(1);
      const [name, s] = matching[0] as [string, Service];
      const command = commandOf(s);
      expect(command, `${name} runs \`up --role ${role}\`: a --role flag overrides the environment, so both must say the same`).toEqual(['up', '--role', role]);
      expect(environmentOf(s)['STOCKSTREAM_ROLE'], `${name} sets STOCKSTREAM_ROLE=${role}`).toBe(role);
    }
    const cmd = execForm(inFinal('CMD')[0]);
    expect(cmd, 'the image runs `up` by default (the embedded platform, role all)').toEqual(['up']);
  });

  it('runs at least two process replicas and publishes the serve role\'s port', () => {
    const [processName, processService] = stockstreamServices.find(([name, s]) => configOf(name, s).role === 'process') as [string, Service];
    expect(processService.deploy?.replicas ?? 1, `${processName} runs two replicas so the consumer group splits the partitions`).toBeGreaterThanOrEqual(2);
    const processConfig = configOf(processName, processService);
    expect(processConfig.log.partitions, 'there are at least as many partitions as process replicas, or a replica idles').toBeGreaterThanOrEqual(processService.deploy?.replicas ?? 1);
    expect(processService.ports ?? [], 'replicas cannot share a published host port').toEqual([]);

    const [serveName, serveService] = stockstreamServices.find(([name, s]) => configOf(name, s).role === 'serve') as [string, Service];
    const port = configOf(serveName, serveService).port;
    expect(portsOf(serveService).map((p) => p.target), `${serveName} publishes the port it listens on (${port})`).toContain(port);
  });

  it('loads every StockStream setting through the real config loader, each landing where its name says', () => {
    expect(stockstreamServices.length, 'the StockStream services are built from the repo Dockerfile').toBeGreaterThanOrEqual(ROLES.length);
    for (const [name, s] of stockstreamServices) {
      const env = stockstreamEnv(s);
      const config = configOf(name, s);
      for (const [key, raw] of Object.entries(env)) {
        if (!key.startsWith('STOCKSTREAM_')) continue;
        expect(raw.includes('$'), `${name} ${key}: no interpolation, so what is checked here is what runs`).toBe(false);
        // The loader skips names that are not settings (deploy/local's); a value must land at its path.
        let node: unknown = config;
        for (const part of envPath(key)) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
        const expected = raw.startsWith('[') ? (JSON.parse(raw) as unknown[]).join(',') : raw;
        const got = Array.isArray(node) ? node.join(',') : String(node);
        expect(got, `${name} ${key}=${raw} must set config ${envPath(key).join('.')}, not be ignored`).toBe(expected);
      }
      expect(config.log.kind, `${name} uses the Kafka log`).toBe('kafka');
      expect(config.warehouse.kind, `${name} uses the PostgreSQL warehouse`).toBe('postgres');
      expect(config.redis.url, `${name} uses Redis for fan-out and cache`).not.toBeNull();
      expect(config.lake.storage.kind, `${name} keeps the lake on S3 (MinIO)`).toBe('s3');
      expect(config.lake.storage.s3.endpoint, `${name} names the S3 endpoint (MinIO, not AWS)`).not.toBeNull();
      expect(config.host, `${name} listens on all interfaces, or other containers cannot reach it`).toBe('0.0.0.0');
      expect(config.log.kafka.replicationFactor, `${name}: topics cannot have more replicas than there are brokers`).toBeLessThanOrEqual(kafkaServices().length);
    }
  });

  it('points brokers, PostgreSQL, Redis and S3 at services of this file on their container ports', () => {
    for (const [name, s] of stockstreamServices) {
      const c = configOf(name, s);
      const deps = dependsOn(s);
      const needs = (host: string, condition: string): void => {
        expect(deps.get(host), `${name} waits for ${host} (${condition}) before it starts`).toBe(condition);
      };

      for (const broker of c.log.kafka.brokers) {
        const [host, port] = broker.split(':') as [string, string];
        const target = serviceAt(host);
        expect(imageName(target?.[1]), `${name}: broker ${broker} is an apache/kafka service of this file`).toBe('apache/kafka');
        const advertised = listeners(kafkaProps(environmentOf((target as [string, Service])[1])).get('advertised.listeners'));
        expect(advertised.some((l) => l.host === host && l.port === Number(port)), `${name}: ${broker} is one of the broker's advertised listeners, or clients are redirected elsewhere`).toBe(true);
        needs((target as [string, Service])[0], 'service_healthy');
      }

      const pg = new URL(c.warehouse.postgres.url);
      const pgService = serviceAt(pg.hostname);
      expect(imageName(pgService?.[1]), `${name}: the warehouse URL's host ${pg.hostname} is a postgres service`).toBe('postgres');
      const pgEnv = environmentOf((pgService as [string, Service])[1]);
      const pgCommand = commandOf((pgService as [string, Service])[1]) ?? [];
      const pgPort = Number(pgCommand.find((w) => w.startsWith('port='))?.slice(5) ?? 5432);
      expect(Number(pg.port || 5432), `${name}: the warehouse URL uses PostgreSQL's port ${pgPort}`).toBe(pgPort);
      expect([decodeURIComponent(pg.username), decodeURIComponent(pg.password), pg.pathname.slice(1)], `${name}: user, password and database match the postgres service's POSTGRES_*`).toEqual([pgEnv['POSTGRES_USER'], pgEnv['POSTGRES_PASSWORD'], pgEnv['POSTGRES_DB']]);
      expect(pgCommand, 'PostgreSQL runs with wal_level=logical for CDC').toContain('wal_level=logical');
      needs((pgService as [string, Service])[0], 'service_healthy');

      const redis = new URL(c.redis.url as string);
      const redisService = serviceAt(redis.hostname);
      expect(imageName(redisService?.[1]), `${name}: the Redis URL's host ${redis.hostname} is a redis service`).toBe('redis');
      const redisCommand = commandOf((redisService as [string, Service])[1]) ?? [];
      const redisPortFlag = redisCommand.indexOf('--port');
      const redisPort = redisPortFlag >= 0 ? Number(redisCommand[redisPortFlag + 1]) : 6379;
      expect(Number(redis.port || 6379), `${name}: the Redis URL uses the server's port ${redisPort}`).toBe(redisPort);
      needs((redisService as [string, Service])[0], 'service_healthy');

      const s3 = new URL(c.lake.storage.s3.endpoint as string);
      const minio = serviceAt(s3.hostname);
      expect(imageName(minio?.[1]), `${name}: the S3 endpoint's host ${s3.hostname} is a minio service`).toBe('minio/minio');
      const minioCommand = commandOf((minio as [string, Service])[1]) ?? [];
      const address = minioCommand[minioCommand.indexOf('--address') + 1] ?? ':9000';
      expect(Number(s3.port || 80), `${name}: the S3 endpoint uses MinIO's API port (--address ${address})`).toBe(Number(address.split(':').pop()));
      const minioEnv = environmentOf((minio as [string, Service])[1]);
      expect([c.lake.storage.s3.accessKeyId, c.lake.storage.s3.secretAccessKey], `${name}: the S3 keys are MinIO's`).toEqual([minioEnv['MINIO_ROOT_USER'], minioEnv['MINIO_ROOT_PASSWORD']]);
      expect(c.lake.storage.s3.forcePathStyle, `${name}: MinIO on a service name needs path-style URLs`).toBe(true);

      // The bucket must exist before the lake writes: a one-shot mc job makes it.
      const init = Object.entries(services).find(([, t]) => imageName(t) === 'minio/mc' && (commandOf(t) ?? []).includes('mb'));
      expect(init, 'a minio/mc job creates the bucket').toBeDefined();
      const [initName, initService] = init as [string, Service];
      const target = (commandOf(initService) ?? []).at(-1) ?? '';
      const [alias, bucket] = target.split('/');
      expect(bucket, `${initName} creates the bucket ${name} writes to`).toBe(c.lake.storage.s3.bucket);
      const mcHost = new URL(environmentOf(initService)[`MC_HOST_${alias}`] ?? 'invalid://');
      expect([mcHost.hostname, mcHost.port, decodeURIComponent(mcHost.username), decodeURIComponent(mcHost.password)], `${initName}'s MC_HOST_${alias} reaches the same MinIO with its keys`).toEqual([s3.hostname, s3.port, minioEnv['MINIO_ROOT_USER'], minioEnv['MINIO_ROOT_PASSWORD']]);
      needs(initName, 'service_completed_successfully');
    }
  });

  it('describes a valid single-node KRaft combined broker and controller', () => {
    const all = kafkaServices();
    expect(all.map(([n]) => n), 'one Kafka service').toHaveLength(1);
    const [name, s] = all[0] as [string, Service];
    const env = environmentOf(s);
    const p = kafkaProps(env);
    const self = (host: string): boolean => host === name || host === s.hostname;

    expect(new Set((p.get('process.roles') ?? '').split(',').map((r) => r.trim())), 'combined mode: process.roles is broker,controller').toEqual(new Set(['broker', 'controller']));
    const nodeId = p.get('node.id') ?? '';
    expect(nodeId, 'node.id is an integer').toMatch(/^\d+$/);

    const ls = listeners(p.get('listeners'));
    const byName = new Map(ls.map((l) => [l.name, l]));
    expect(byName.size, 'listener names are unique').toBe(ls.length);
    expect(new Set(ls.map((l) => l.port)).size, 'listener ports are unique').toBe(ls.length);
    const protocols = new Map((p.get('listener.security.protocol.map') ?? '').split(',').map((e) => e.split(':') as [string, string]));
    for (const l of ls) expect(protocols.has(l.name), `listener ${l.name} has a security protocol in listener.security.protocol.map`).toBe(true);

    const controllerNames = (p.get('controller.listener.names') ?? '').split(',').filter((n) => n !== '');
    expect(controllerNames.length, 'controller.listener.names is set').toBeGreaterThan(0);
    for (const n of controllerNames) expect(byName.has(n), `controller listener ${n} is one of listeners`).toBe(true);

    const voters = (p.get('controller.quorum.voters') ?? '').split(',').map((v) => /^(\d+)@([^:]+):(\d+)$/.exec(v.trim()));
    expect(voters.every((v) => v !== null), 'controller.quorum.voters reads id@host:port,...').toBe(true);
    expect(voters, 'a single node is the only voter').toHaveLength(1);
    const voter = voters[0] as RegExpExecArray;
    expect(voter[1], 'the voter is this node (its id is node.id)').toBe(nodeId);
    expect(self(voter[2] as string), `the voter's host ${voter[2]} is this service`).toBe(true);
    expect(controllerNames.map((n) => byName.get(n)?.port), 'the voter\'s port is the controller listener\'s').toContain(Number(voter[3]));

    const advertised = listeners(p.get('advertised.listeners'));
    expect(advertised.length, 'advertised.listeners is set').toBeGreaterThan(0);
    const published = portsOf(s);
    for (const a of advertised) {
      const l = byName.get(a.name);
      expect(l, `advertised listener ${a.name} is one of listeners`).toBeDefined();
      expect(controllerNames.includes(a.name), `the controller listener ${a.name} is not advertised to clients`).toBe(false);
      expect(a.port, `advertised ${a.name} keeps its listener's port inside the container`).toBe(l?.port);
      if (self(a.host)) continue;
      // Advertised to the host: the host port must be the same number, since clients dial it.
      expect(['localhost', '127.0.0.1'].includes(a.host), `advertised ${a.name} is either this service or the host (localhost), got ${a.host}`).toBe(true);
      expect(published, `advertised ${a.name} at ${a.host}:${a.port} is published as ${a.port}:${l?.port}`).toContainEqual({ published: a.port, target: l?.port });
    }
    const inter = p.get('inter.broker.listener.name') ?? '';
    expect(advertised.some((a) => a.name === inter && self(a.host)), `inter.broker.listener.name ${inter} is advertised on this service's name`).toBe(true);

    for (const key of ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor', 'transaction.state.log.min.isr']) {
      expect(p.get(key), `${key} is 1: the default 3 cannot be met by one broker, and group commits would fail`).toBe('1');
    }
    const logDirs = p.get('log.dirs') ?? '';
    expect(volumesOf(s).map((v) => v.target), `log.dirs ${logDirs} is on a volume, so topics survive a restart`).toContain(logDirs);
    const clusterId = env['CLUSTER_ID'] ?? '';
    expect(clusterId, 'CLUSTER_ID is a base64url UUID (22 characters)').toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(clusterId, 'base64url'), 'CLUSTER_ID decodes to 16 bytes').toHaveLength(16);
  });

  it('mounts Grafana provisioning and dashboards that exist in the repo', () => {
    const grafana = Object.entries(services).filter(([, s]) => imageName(s) === 'grafana/grafana');
    expect(grafana.map(([n]) => n), 'one Grafana service').toHaveLength(1);
    const [name, s] = grafana[0] as [string, Service];
    const mounts = new Map(volumesOf(s).map((v) => [v.target, v.source]));
    for (const target of ['/etc/grafana/provisioning', '/var/lib/grafana/dashboards']) {
      const source = mounts.get(target);
      expect(source, `${name} mounts ${target}`).toBeDefined();
      const dir = path.resolve(deployDir, source as string);
      expect(existsSync(dir) && statSync(dir).isDirectory(), `${name}: ${path.relative(repo, dir)} exists in the repo (compose resolves bind mounts against deploy/)`).toBe(true);
    }
    expect(dependsOn(s).get('postgres'), `${name} waits for PostgreSQL, its datasource`).toBe('service_healthy');
  });

  it('connects Grafana\'s provisioned datasource to the postgres service with its credentials', () => {
    const [name, s] = Object.entries(services).find(([, t]) => imageName(t) === 'grafana/grafana') as [string, Service];
    // The container's environment: env_file entries, then `environment:` over them (compose order).
    const env: Record<string, string> = {};
    const files = s.env_file === undefined ? [] : Array.isArray(s.env_file) ? s.env_file : [s.env_file];
    for (const f of files) {
      const file = path.resolve(deployDir, typeof f === 'string' ? f : f.path);
      expect(existsSync(file), `${name}: env_file ${path.relative(repo, file)} exists`).toBe(true);
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (m !== null) env[m[1] as string] = m[2] as string;
      }
    }
    Object.assign(env, environmentOf(s));
    // Grafana expands $VAR and ${VAR} in provisioning files from its environment.
    const expand = (v: unknown): string => String(v ?? '').replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, k: string) => env[k] ?? `<unset ${k}>`);
    const provisioning = volumesOf(s).find((v) => v.target === '/etc/grafana/provisioning')?.source as string;
    const dir = path.resolve(deployDir, provisioning, 'datasources');
    type Datasource = { uid?: string; url?: string; user?: string; jsonData?: { database?: string }; secureJsonData?: { password?: string } };
    const datasources = (existsSync(dir) ? readdirSync(dir) : [])
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => (parseYaml(readFileSync(path.join(dir, f), 'utf8')) as { datasources?: Datasource[] }).datasources ?? []);
    const ds = datasources.find((d) => d.uid === 'stockstream-pg');
    expect(ds, 'a datasource with the pinned uid stockstream-pg is provisioned (every dashboard panel names it)').toBeDefined();
    const [host, port] = expand(ds?.url).split(':') as [string, string | undefined];
    const pg = serviceAt(host);
    expect(imageName(pg?.[1]), `the datasource's host ${host} is the postgres service`).toBe('postgres');
    const pgEnv = environmentOf((pg as [string, Service])[1]);
    expect(Number(port ?? 5432), 'the datasource uses PostgreSQL\'s container port').toBe(5432);
    expect([expand(ds?.user), expand(ds?.secureJsonData?.password), expand(ds?.jsonData?.database)], 'the datasource logs in as the postgres service\'s POSTGRES_USER / PASSWORD / DB').toEqual([pgEnv['POSTGRES_USER'], pgEnv['POSTGRES_PASSWORD'], pgEnv['POSTGRES_DB']]);
  });
});

describe('Dockerfile', () => {
  it('builds on a pinned Node 20 image and runs bin/stockstream.js', () => {
    const stageNames = new Set<string>();
    for (const from of dockerfile.filter((i) => i.op === 'FROM')) {
      const [ref, as, stage] = from.args.split(/\s+/);
      if (!stageNames.has(ref as string)) {
        expect(pinned(ref as string), `base image ${ref} names a release`).toBe(true);
        expect(ref, 'the base is Node 20 (package.json engines, the runtime CI tests on)').toMatch(/^node:20\.\d+\.\d+-/);
      }
      if (as?.toUpperCase() === 'AS' && stage !== undefined) stageNames.add(stage);
    }
    expect(execForm(inFinal('ENTRYPOINT')[0]), 'the entry point is the published CLI').toEqual(['node', 'bin/stockstream.js']);
    expect(existsSync(path.join(repo, 'bin/stockstream.js')), 'bin/stockstream.js exists').toBe(true);
    expect(execForm(inFinal('CMD')[0]), 'the default command is `up`').toEqual(['up']);
    const user = inFinal('USER').at(-1)?.args ?? 'root';
    expect(['root', '0'].includes(user.split(':')[0] as string), `the image runs as a non-root user, not ${user}`).toBe(false);
    const copied = inFinal('COPY').map((i) => i.args.split(/\s+/).at(-1)?.replace(/^\.\//, '').replace(/\/$/, ''));
    for (const needed of ['package.json', 'bin', 'dist', 'node_modules', 'models']) {
      expect(copied, `the runtime stage has ${needed} (bin imports dist; the lakehouse finds models beside package.json)`).toContain(needed);
    }
    const config = loadConfig({ file: devNull, env: dockerfileEnv() });
    expect(inFinal('EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.replace(/\/tcp$/, ''))), 'EXPOSE names the port the image listens on').toContain(config.port);
    expect(config.host, 'the image listens on all interfaces').toBe('0.0.0.0');
    expect(inFinal('HEALTHCHECK').map((i) => i.args).join('\n'), 'the health check asks /api/health').toContain('/api/health');
  });

  it('installs without the dev-only native build and ships production dependencies only', () => {
    const runs = dockerfile.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    const ci = /npm ci[^\n&;]*/.exec(runs)?.[0] ?? '';
    expect(ci, 'the build stage runs npm ci').not.toBe('');
    const toolchain = /python3/.test(runs) && /\bmake\b/.test(runs) && /g\+\+/.test(runs);
    expect(ci.includes('--ignore-scripts') || toolchain, 'talib (a devDependency) builds a native addon: npm ci skips install scripts, or the stage has python3, make and g++').toBe(true);
    expect(/npm prune[^\n]*--omit=dev|npm ci[^\n]*--omit=dev/.test(runs), 'dev dependencies are pruned before the runtime stage copies node_modules').toBe(true);
  });

  it('needs no devDependency to load the CLI, since the image prunes them', () => {
    // bin/stockstream.js imports the compiled src/cli/main.ts; walk its static imports (a dynamic
    // import() loads only when its command runs). `import type` is erased; `import { type X }`
    // stays as a side-effect import under verbatimModuleSyntax, so it counts.
    expect(readFileSync(path.join(repo, 'bin/stockstream.js'), 'utf8'), 'bin starts the compiled CLI').toContain("'../dist/src/cli/main.js'");
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const prod = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules);
    const importedBy = new Map<string, string | null>([[path.join(repo, 'src/cli/main.ts'), null]]);
    const chain = (file: string): string => {
      const parts: string[] = [];
      for (let f: string | null | undefined = file; f; f = importedBy.get(f)) parts.unshift(path.relative(repo, f));
      return parts.join(' → ');
    };
    const seen = new Set<string>();
    const offenders: string[] = [];
    const importRe = /^\s*(?:import|export)\s+(?!type\b)[^;]*?\s+from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(importRe)) {
        const spec = (m[1] ?? m[2]) as string;
        if (spec.startsWith('.')) {
          const next = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
          expect(existsSync(next), `${path.relative(repo, file)} imports ${spec}, which must exist as TypeScript`).toBe(true);
          if (!importedBy.has(next)) importedBy.set(next, file);
          walk(next);
        } else if (!spec.startsWith('node:') && !builtins.has(spec)) {
          const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
          if (!prod.has(pkgName)) offenders.push(`${chain(file)} imports ${pkgName}`);
        }
      }
    };
    walk(path.join(repo, 'src/cli/main.ts'));
    expect(seen.size, 'the walk reaches the CLI\'s modules').toBeGreaterThan(20);
    expect(offenders, 'every package the CLI loads at start is a production dependency; import dev-only ones (benchmarks) lazily').toEqual([]);
  });

  it('keeps local state out of the build context', () => {
    const ignored = readFileSync(path.join(repo, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''));
    for (const entry of ['node_modules', 'dist', 'data', '.git']) {
      expect(ignored, `.dockerignore lists ${entry}: the image builds its own, and local data must not leak into it`).toContain(entry);
    }
  });
});
