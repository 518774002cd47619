/**
 * PostgreSQL for the warehouse tests: a throwaway database per test on the shared local server
 * (deploy/local/postgres.sh; `source deploy/local/env.sh`), so files and runs never collide, and a
 * private PostgreSQL 15 cluster for tests that must stop and start a server (never the shared one).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { serviceUnavailable } from '../../../fixtures/services.js';

const run = promisify(execFile);

export function pgUrl(): string {
  return process.env['STOCKSTREAM_PG_URL'] ?? 'postgres://stockstream:stockstream@127.0.0.1:15432/stockstream';
}

/** null when the shared server answers; else why the file skips (throws under STOCKSTREAM_REQUIRE_SERVICES=1). */
export async function postgresMissing(): Promise<string | null> {
  const u = new URL(pgUrl());
  return serviceUnavailable('PostgreSQL', [`${u.hostname}:${u.port || '5432'}`]);
}

export interface TempDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

async function admin<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** A new empty database on the server of `serverUrl` (default: the shared one), dropped by `drop()`. */
export async function tempDatabase(serverUrl = pgUrl()): Promise<TempDatabase> {
  const name = `ss_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: () => admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const PG_BIN = process.env['STOCKSTREAM_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

/**
 * A private PostgreSQL 15 cluster in a temp dir on a free port, as deploy/local/postgres.sh runs
 * one: trust auth, UTC, fsync off (throwaway) but synchronous commits. PostgreSQL refuses to run as root, so as root it
 * runs as the `postgres` OS user. `stop()`/`start()` restart it; `remove()` stops it and deletes it.
 */
export class PrivatePostgres {
  readonly port: number;
  readonly #dir: string;
  readonly #asPostgres: boolean;

  private constructor(port: number, dir: string, asPostgres: boolean) {
    this.port = port;
    this.#dir = dir;
    this.#asPostgres = asPostgres;
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'ss-private-pg-'));
    const asPostgres = process.getuid?.() === 0;
    mkdirSync(join(dir, 'run'));
    if (asPostgres) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
      chownSync(join(dir, 'run'), Number(stdout.trim()), Number(gid.trim()));
    }
    const p = new PrivatePostgres(await freePort(), dir, asPostgres);
    await p.#pg('initdb', ['-D', p.#data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    return p;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get #data(): string {
    return join(this.#dir, 'data');
  }

  async start(): Promise<void> {
    await this.#pg('pg_ctl', [
      '-D',
      this.#data,
      '-l',
      join(this.#dir, 'postgres.log'),
      '-w',
      '-t',
      '30',
      '-o',
      // fsync off: an `immediate` stop kills the server, not the machine, so the OS still has the WAL.
      // synchronous_commit stays on: off would acknowledge commits the crash then loses.
      `-p ${this.port} -k ${join(this.#dir, 'run')} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c timezone=UTC`,
      'start',
    ]);
  }

  /** `fast` terminates sessions and checkpoints; `immediate` is a crash (recovery on start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.#pg('pg_ctl', ['-D', this.#data, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  async remove(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #pg(tool: string, args: string[]): Promise<void> {
    const bin = join(PG_BIN, tool);
    // From / : the postgres user may not be able to read the test's working directory.
    if (this.#asPostgres) await run('runuser', ['-u', 'postgres', '--', bin, ...args], { cwd: '/' });
    else await run(bin, args, { cwd: '/' });
  }
}
