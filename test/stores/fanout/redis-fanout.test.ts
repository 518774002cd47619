import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisFanout, type LiveMessage, type RefreshNotice } from '../../../src/stores/fanout/index.js';
import { freePort } from '../../fixtures/postgres.js';
import { serviceUnavailable } from '../../fixtures/services.js';

/** Against the real Redis of deploy/local (and, for the restart, a private redis-server on a free port). */
const url = process.env['STOCKSTREAM_REDIS_URL'] ?? 'redis://127.0.0.1:16379';
const missing = await serviceUnavailable('Redis', [url.replace(/^redis:\/\//, '')]);

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function open(u: string, prefix: string): Promise<RedisFanout> {
  const f = await RedisFanout.connect({ url: u, prefix });
  cleanups.push(() => f.close());
  return f;
}

function message(seq: number): LiveMessage {
  return { v: 1, from: 'test', seq, ticks: [], candles: [], kpis: [{ symbol: 'AAA', last: seq, change: 0, changePct: 0, open: 1, high: 1, low: 1, volume: 1, vwap: 1, prevClose: null, tradesPerSec: 0, ts: seq }] };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A redis-server of this test's own, so stopping it disturbs no other test. */
async function privateRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

describe.skipIf(missing !== null)(`RedisFanout against Redis${missing === null ? '' : ` (${missing})`}`, () => {
  it('delivers live messages and refresh notices to every subscriber, on its prefix only', async () => {
    const prefix = `t${Date.now().toString(36)}:`;
    const pub = await open(url, prefix);
    const subs = [await open(url, prefix), await open(url, prefix)];
    const other = await open(url, `${prefix}other:`);
    const got: LiveMessage[][] = [[], []];
    const notices: RefreshNotice[] = [];
    const strays: LiveMessage[] = [];
    await subs[0]!.onLive((m) => got[0]!.push(m));
    await subs[1]!.onLive((m) => got[1]!.push(m));
    await subs[1]!.onRefresh((n) => notices.push(n));
    await other.onLive((m) => strays.push(m));
    for (let i = 1; i <= 50; i++) pub.publishLive(message(i));
    pub.publishRefresh({ what: 'lake.incremental', at: 7 });
    await until('both subscribers have all 50', () => got[0]!.length === 50 && got[1]!.length === 50 && notices.length === 1);
    expect(got[0]!.map((m) => m.seq), 'in publish order').toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(got[1], 'every serve instance gets the same').toEqual(got[0]);
    expect(notices, 'the refresh notice').toEqual([{ what: 'lake.incremental', at: 7 }]);
    expect(strays, 'another deployment (prefix) hears nothing').toEqual([]);
    expect(pub.stats().published, 'counted').toBe(51);
  });

  it('caches answers with a TTL shared by every instance', async () => {
    const prefix = `c${Date.now().toString(36)}:`;
    const a = await open(url, prefix);
    const b = await open(url, prefix);
    await a.set('candles:X', '[1]', 300);
    expect(await b.get('candles:X'), 'another instance reads it').toBe('[1]');
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.get('candles:X'), 'gone after its TTL').toBeNull();
  });

  it('keeps going through a Redis restart: publishing drops meanwhile, subscribers resubscribe', async () => {
    const port = await freePort();
    let server = await privateRedis(port);
    cleanups.push(() => void server.kill('SIGKILL'));
    const u = `redis://127.0.0.1:${port}`;
    const pub = await open(u, 'r:');
    const sub = await open(u, 'r:');
    const got: number[] = [];
    await sub.onLive((m) => got.push(m.seq));
    pub.publishLive(message(1));
    await until('the first message', () => got.length === 1);
    server.kill('SIGKILL');
    await until('the publisher sees Redis gone', () => pub.stats().connection !== 'ready');
    pub.publishLive(message(2));
    expect(pub.stats().dropped, 'a message while Redis is away is dropped, not queued without bound').toBeGreaterThan(0);
    expect(await pub.get('k'), 'the cache misses instead of failing the request').toBeNull();
    server = await privateRedis(port);
    await until('both reconnect', () => pub.stats().connection === 'ready', 15_000);
    // The subscriber's connection resubscribes by itself; publish until it hears again.
    for (let seq = 3; got.length === 1; seq++) {
      if (seq > 150) throw new Error('the subscriber never heard again after the restart');
      pub.publishLive(message(seq));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(got[0], 'the message before the restart').toBe(1);
    expect(got.length, 'messages after the restart arrive').toBeGreaterThan(1);
  }, 30_000);
});
