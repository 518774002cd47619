import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { MarketRow, MessagesPage, PipelineReport, RejectRow, TopicRow } from '../../src/api/index.js';
import { Platform, type PlatformOptions } from '../../src/apps/index.js';
import { loadConfig } from '../../src/shared/config/index.js';
import { createLogger } from '../../src/shared/logger.js';

const dirs: string[] = [];
const platforms: Platform[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const p of platforms.splice(0)) await p.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ss-dashboard-'));
  dirs.push(dir);
  return dir;
}

async function start(overrides: Record<string, unknown> = {}, options: Partial<PlatformOptions> = {}): Promise<Platform> {
  const config = loadConfig({ env: {}, overrides: { dataDir: tempDir(), port: 0, host: '127.0.0.1', 'processing.checkpointIntervalMs': 100, ...overrides } });
  const p = await Platform.start({ config, logger: createLogger('silent'), ...options });
  platforms.push(p);
  return p;
}

async function get<T>(p: Platform, url: string): Promise<T> {
  const res = await p.api!.inject({ url });
  expect(res.statusCode, `GET ${url} answers 200: ${res.body.slice(0, 300)}`).toBe(200);
  return res.json() as T;
}

/** Polls `read` until `ok` holds, up to `ms`; returns the last value so the assertion after it shows what came. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let v = await read();
  while (!ok(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

const trade = (id: string, ts: number, over: Record<string, unknown> = {}) => ({ kind: 'trade', symbol: 'AAPL', ts, source: 'test', id, price: 190, size: 100, ...over });

describe('the dashboard’s endpoints on a running platform (role all, journal)', () => {
  it('GET /api/pipeline: every stage of role all, with totals and rates that move as events flow, on the same counters as /metrics', async () => {
    const p = await start();
    // A dashboard client subscribed to AAPL ticks, so the WebSocket stage has something to send.
    const ws = new WebSocket(`${p.url!.replace('http', 'ws')}/api/stream`);
    sockets.push(ws);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'subscribe', symbols: ['AAPL'], channels: ['ticks'] }));

    const before = await get<PipelineReport>(p, '/api/pipeline');
    expect(before.stages.map((s) => s.stage), 'role all runs every stage; bronze because the lake is on').toEqual(['ingest', 'rejects', 'process', 'candles', 'bronze', 'stream']);

    const now = Date.now();
    await p.ingest.write([...Array.from({ length: 50 }, (_, i) => trade(`t${i}`, now - 4000 + i * 80)), trade('bad', now, { price: -1 })]);
    await p.runner.waitFor(await p.ticksEnd(), 2);
    await p.bronze!.requestFlush();
    const after = await eventually(
      () => get<PipelineReport>(p, '/api/pipeline'),
      (r) => r.stages.every((s) => s.total > 0),
    );
    const by = Object.fromEntries(after.stages.map((s) => [s.stage, s]));
    expect(after.stages.filter((s) => s.total === 0).map((s) => s.stage), 'every stage counted the flow (a trade, a reject, a final candle, a bronze row, a WebSocket message)').toEqual([]);
    expect([by['ingest']?.total, by['rejects']?.total], 'ingest counts the accepted events and the reject').toEqual([50, 1]);
    expect(by['process']?.total, 'the stream runner processed every accepted event').toBeGreaterThanOrEqual(50);
    expect(by['ingest']?.perSecond, 'the ingest rate moved').toBeGreaterThan(0);
    expect(after.rejects, 'the rejects summary is the rejects stage').toEqual({ total: by['rejects']?.total, perSecond: by['rejects']?.perSecond });
    expect(after.windowMs, 'rates are over at most the 10 s window').toBeLessThanOrEqual(10_000);
    expect(after.lateEvents, 'no late events in this flow').toBe(0);
    expect(after.lagMs, 'lag per component from the health report').toHaveProperty('processing');
    expect(after.stream?.clients, 'the subscribed client is counted').toBe(1);

    const metrics = await p.metrics.text();
    expect(metrics, 'the ingest stage is the Prometheus ingest counter').toContain('stockstream_ingest_events_total{result="accepted"} 50');
    const finals = Number(/stockstream_candles_final_total (\d+)/.exec(metrics)?.[1]);
    expect(finals, 'the candles stage reads the Prometheus final-candle counter (it can only have grown since)').toBeGreaterThanOrEqual(by['candles']!.total);
    const sent = Number(/stockstream_stream_messages_total (\d+)/.exec(metrics)?.[1]);
    expect(sent, 'the stream stage reads the Prometheus WebSocket counter').toBeGreaterThanOrEqual(by['stream']!.total);
  });

  it('only the stages whose component runs appear: no bronze without the lake', async () => {
    const p = await start({ 'lake.enabled': false });
    const r = await get<PipelineReport>(p, '/api/pipeline');
    expect(r.stages.map((s) => s.stage), 'the lake is off: no bronze stage').toEqual(['ingest', 'rejects', 'process', 'candles', 'stream']);
  });

  it('GET /api/rejects and the topic browser read the platform’s own log', async () => {
    const p = await start({ 'lake.enabled': false });
    const now = Date.now();
    await p.ingest.write([trade('ok', now - 1000), trade('neg', now, { size: -5 }), trade('nope', now, { symbol: 'NOPE' })]);
    const rejects = await get<RejectRow[]>(p, '/api/rejects?limit=10');
    expect(rejects.map((r) => ('rule' in r ? [r.rule, r.field] : null)), 'both rejects with rule and field, newest (last written) first').toEqual([
      ['unknown_symbol', 'symbol'],
      ['negative', 'size'],
    ]);
    const topics = await get<TopicRow[]>(p, '/api/topics');
    expect(topics.map((t) => t.name), 'the platform’s topics, by name').toEqual(expect.arrayContaining(['candles.1m', 'kpis', 'ticks', 'ticks.dlq', 'ticks.late']));
    const ticks = topics.find((t) => t.name === 'ticks')!;
    expect(ticks.messages, 'one accepted event in ticks').toBe(1);
    const partition = ticks.partitions.find((x) => x.endOffset > 0)!.partition;
    const page = await get<MessagesPage>(p, `/api/topics/ticks/messages?partition=${partition}`);
    expect(page.messages.map((m) => [m.key, m.encoding, (m.value as { kind?: string }).kind]), 'ticks are shown decoded from the binary event codec').toEqual([['AAPL', 'event', 'trade']]);
    const dlq = await get<MessagesPage>(p, '/api/topics/ticks.dlq/messages?limit=1');
    expect(dlq.messages[0]?.value, 'dead letters are JSON').toMatchObject({ rule: 'unknown_symbol', source: 'simulator' });
  });

  it('GET /api/markets uses the platform’s calendars and clock: always open by default, faithful on request', async () => {
    // Saturday 2025-03-08 17:00 UTC: every market of the default universe is closed by its calendar.
    const saturday = Date.parse('2025-03-08T17:00:00Z');
    const demo = await start({ 'lake.enabled': false }, { now: () => saturday, serve: true });
    const open = await get<MarketRow[]>(demo, '/api/markets');
    expect(open.map((m) => [m.exchange, m.symbols, m.phase, m.alwaysOpen]), 'the simulator’s default keeps every market open').toEqual([
      ['HOSE', 12, 'regular', true],
      ['NASDAQ', 11, 'regular', true],
      ['NYSE', 12, 'regular', true],
    ]);
    const faithful = await start({ 'lake.enabled': false, 'simulator.calendar': 'faithful' }, { now: () => saturday });
    const closed = await get<MarketRow[]>(faithful, '/api/markets');
    expect(closed.map((m) => [m.exchange, m.phase, m.localDate, m.nextOpen]), 'a faithful calendar: closed on Saturday, opening Monday').toEqual([
      ['HOSE', 'closed', '2025-03-09', Date.parse('2025-03-10T02:00:00Z')],
      ['NASDAQ', 'closed', '2025-03-08', Date.parse('2025-03-10T13:30:00Z')],
      ['NYSE', 'closed', '2025-03-08', Date.parse('2025-03-10T13:30:00Z')],
    ]);
  });

  it('serves the dashboard from the webDir it is given, and the not-built page when it is missing', async () => {
    const webDir = join(tempDir(), 'web');
    mkdirSync(join(webDir, 'assets'), { recursive: true });
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>StockStream</title>');
    writeFileSync(join(webDir, 'assets', 'app-1a2b3c.js'), 'export {};');
    const p = await start({ 'lake.enabled': false }, { webDir });
    const index = await p.api!.inject({ url: '/' });
    expect([index.statusCode, index.headers['cache-control'], index.body], 'index.html, revalidated').toEqual([200, 'no-cache', '<!doctype html><title>StockStream</title>']);
    const asset = await p.api!.inject({ url: '/assets/app-1a2b3c.js' });
    expect([asset.statusCode, asset.headers['cache-control']], 'a hashed asset, immutable').toEqual([200, 'public, max-age=31536000, immutable']);
    const missing = await start({ 'lake.enabled': false }, { webDir: join(tempDir(), 'none') });
    expect((await missing.api!.inject({ url: '/' })).statusCode, 'no build: 503 page').toBe(503);
  });
});
