import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../../src/api/index.js';
import { deps, storeWithData } from '../fixtures.js';

const dirs: string[] = [];
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-3f2a9c.js"></script></head><body>StockStream</body></html>';
const SCRIPT = 'console.log("dashboard");';

/** A temp folder shaped like Vite's build: index.html, hashed files under assets/, an unhashed public file. */
async function builtWebDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ss-web-'));
  dirs.push(root);
  const dir = join(root, 'web');
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, 'assets', 'index-3f2a9c.js'), SCRIPT);
  await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(dir, '.env'), 'SECRET=1');
  await writeFile(join(root, 'outside.txt'), 'not part of the dashboard');
  return dir;
}

async function get(webDir: string | undefined, url: string, method: 'GET' | 'HEAD' = 'GET') {
  app ??= buildApi(deps(storeWithData(), webDir === undefined ? {} : { webDir }));
  const res = await app.inject({ method, url });
  return { status: res.statusCode, body: res.body, type: String(res.headers['content-type']), cache: res.headers['cache-control'] };
}

describe('the dashboard at /', () => {
  it('serves index.html revalidated on every load, and hashed assets cached for a year', async () => {
    const dir = await builtWebDir();
    const index = await get(dir, '/');
    expect(index, 'index.html as HTML, never cached stale (it names the current assets)').toMatchObject({ status: 200, body: INDEX, cache: 'no-cache' });
    expect(index.type).toContain('text/html');
    const asset = await get(dir, '/assets/index-3f2a9c.js');
    expect(asset, 'a content-hashed asset is immutable for a year').toMatchObject({ status: 200, body: SCRIPT, cache: 'public, max-age=31536000, immutable' });
    expect(asset.type, 'JavaScript with its own type, so module scripts load').toMatch(/javascript/);
    expect(await get(dir, '/favicon.svg'), 'an unhashed file at the root is revalidated').toMatchObject({ status: 200, cache: 'no-cache' });
    expect((await get(dir, '/', 'HEAD')).status, 'HEAD / works for uptime checks').toBe(200);
  });

  it('leaves unknown paths, dotfiles and paths outside the folder to the JSON 404', async () => {
    const dir = await builtWebDir();
    for (const url of ['/assets/missing-000.js', '/nope', '/.env']) {
      const res = await get(dir, url);
      expect(res.status, `${url} is not a file of the dashboard`).toBe(404);
      expect(JSON.parse(res.body).error.code, `${url} answers the API's JSON error`).toBe('SS_API_NOT_FOUND');
    }
    for (const url of ['/..%2foutside.txt', '/assets/..%2f..%2foutside.txt']) {
      const res = await get(dir, url);
      expect(res.status, `${url} climbs out of the folder: refused (send answers 403)`).toBe(403);
      expect(JSON.parse(res.body).error, `${url} answers the JSON error shape, not the file`).toMatchObject({ code: 'SS_API_BAD_REQUEST' });
    }
    const api = JSON.parse((await get(dir, '/api/nope')).body).error.message as string;
    expect(api, 'an unknown API path names it').toContain('GET /api/nope');
  });

  it('answers 503 with a page saying to run `npm run build` when the folder or index.html is missing; the API keeps working', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ss-web-'));
    dirs.push(root);
    const missing = join(root, 'dist', 'web');
    const res = await get(missing, '/');
    expect(res.status, 'not built is a temporary condition of this server').toBe(503);
    expect(res.type, 'a page a person can read').toContain('text/html');
    expect(res.body, 'says what is missing, where, and the fix').toMatch(/dashboard is not built[\s\S]*npm run build/);
    expect(res.body, 'names the folder it looked in').toContain(missing);
    expect((await get(missing, '/api/health')).status, 'the API answers meanwhile').toBe(200);

    await mkdir(join(missing, 'assets'), { recursive: true });
    expect((await get(missing, '/')).status, 'a folder without index.html is not a build either').toBe(503);
    await writeFile(join(missing, 'index.html'), INDEX);
    expect(await get(missing, '/'), 'a build made while the server runs is served without a restart').toMatchObject({ status: 200, body: INDEX });
  });

  it('answers 503 when no folder was given at all', async () => {
    const res = await get(undefined, '/');
    expect([res.status, res.body.includes('npm run build')], 'the not-built page').toEqual([503, true]);
  });
});
