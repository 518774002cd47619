import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildApi, streamHubOf, type ApiDeps } from '../../src/api/index.js';
import type { Kpi } from '../../src/domain/index.js';
import type { LiveStore } from '../../src/stores/index.js';
import { deps, kpi, storeWithData } from './fixtures.js';

interface Msg {
  channel: string;
  symbol?: string;
  data: Record<string, unknown>;
}

let app: FastifyInstance | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await app?.close();
  app = undefined;
});

async function start(store: LiveStore, stream: ApiDeps['stream'] = {}): Promise<string> {
  app = buildApi(deps(store, { stream }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('expected a TCP address');
  return `ws://127.0.0.1:${addr.port}/api/stream`;
}

/** A client that records every frame and lets a test wait for a condition on what has arrived. */
class TestClient {
  readonly ws: WebSocket;
  readonly frames: unknown[] = [];
  #waiters: (() => void)[] = [];
  constructor(url: string) {
    this.ws = new WebSocket(url);
    sockets.push(this.ws);
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      for (const w of this.#waiters.splice(0)) w();
    });
  }
  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }
  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }
  messages(): Msg[] {
    return this.frames.flatMap((f) => (Array.isArray(f) ? (f as Msg[]) : [f as Msg]));
  }
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WebSocket /api/stream', () => {
  it('sends the snapshot first, batches deltas in arrays, and stops after unsubscribe', async () => {
    const store = storeWithData();
    store.applyKpis([kpi('VNM', 70_000)]);
    const client = new TestClient(await start(store));
    await client.opened();
    client.send({ type: 'subscribe', symbols: ['AAPL', 'VNM'], channels: ['kpis', 'candles:1m'] });
    await client.until(() => client.frames.length >= 1);
    const snapshot = client.frames[0] as Msg[];
    expect(Array.isArray(snapshot), 'data frames are JSON arrays of messages').toBe(true);
    expect(snapshot.map((m) => `${m.channel}/${m.symbol}`).sort(), 'the snapshot holds the latest KPI and candle per subscribed symbol').toEqual([
      'candles:1m/AAPL',
      'kpis/AAPL',
      'kpis/VNM',
    ]);

    store.applyKpis([kpi('AAPL', 111), kpi('VNM', 71_000), kpi('IBM', 1)]);
    await client.until(() => client.frames.length >= 2);
    expect((client.frames[1] as Msg[]).map((m) => `${m.symbol}:${m.data['last']}`), 'one frame carries the whole batch for subscribed symbols only').toEqual([
      'AAPL:111',
      'VNM:71000',
    ]);

    client.send({ type: 'unsubscribe', symbols: ['AAPL', 'VNM'], channels: ['kpis'] });
    client.send({ type: 'subscribe', symbols: ['IBM'], channels: ['kpis'] });
    await client.until(() => client.frames.length >= 3);
    store.applyKpis([kpi('AAPL', 112), kpi('IBM', 2)]);
    await client.until(() => client.frames.length >= 4);
    expect(client.messages().slice(-1).map((m) => `${m.symbol}:${m.data['last']}`), 'after unsubscribe AAPL is silent; the new IBM subscription is live').toEqual(['IBM:2']);
  });

  it('answers bad messages with an error message and keeps the connection open', async () => {
    const client = new TestClient(await start(storeWithData()));
    await client.opened();
    const bad = [
      'not json',
      '[1,2]',
      { type: 'subscribe', symbols: ['AAPL'], channels: ['candles:2m'] },
      { type: 'subscribe', symbols: [], channels: ['kpis'] },
      { type: 'watch', symbols: ['AAPL'], channels: ['kpis'] },
      { type: 'subscribe', symbols: ['aapl'], channels: ['kpis'] },
    ];
    for (const b of bad) client.send(b);
    await client.until(() => client.frames.length >= bad.length);
    const errors = client.frames as Msg[];
    expect(errors.every((e) => e.channel === 'error' && e.data['code'] === 'SS_API_BAD_REQUEST'), 'every bad message gets an SS_API_BAD_REQUEST error reply').toBe(true);
    expect(errors.map((e) => String(e.data['message']).split(':')[0]), 'each error names the offending field').toEqual([
      'message',
      'message',
      'channels',
      'symbols',
      'type',
      'symbols',
    ]);
    expect(String(errors[2]?.data['message']), 'the message names the bad value and the valid choices').toContain('"candles:2m"');
    client.send({ type: 'subscribe', symbols: ['AAPL'], channels: ['kpis'] });
    await client.until(() => client.frames.length > bad.length);
    expect(client.ws.readyState, 'the connection stays open after bad messages').toBe(WebSocket.OPEN);
    expect(client.messages().at(-1)?.channel, 'a valid subscribe still works afterwards').toBe('kpis');
  });

  it('keeps pending state bounded for a client that does not read, and sends the latest snapshot when it drains', async () => {
    const store = storeWithData();
    const url = await start(store, { maxBufferedBytes: 64 * 1024, maxPerSecondPerSymbol: 1_000_000 });
    const hub = streamHubOf(app as FastifyInstance);
    const client = new TestClient(url);
    await client.opened();
    const symbols = Array.from({ length: 200 }, (_, i) => `S${i}`);
    client.send({ type: 'subscribe', symbols: ['*'], channels: ['kpis'] });
    await client.until(() => client.frames.length >= 1);
    // Stop reading: the kernel buffers fill, then the server's socket buffer grows.
    (client.ws as unknown as { _socket: Socket })._socket.pause();
    const pad = 'x'.repeat(2_000);
    const batch = (round: number): Kpi[] => symbols.map((s) => ({ ...kpi(s, round), pad }) as Kpi);
    let round = 0;
    while (hub.stats().blockedClients === 0 && round < 1_000) {
      store.applyKpis(batch(++round));
      await turn();
    }
    expect(hub.stats().blockedClients, 'a client that does not read must end up blocked').toBe(1);
    for (let i = 0; i < 50; i++) {
      store.applyKpis(batch(++round));
      await turn();
    }
    const blocked = hub.stats();
    expect(blocked.pendingMessages, 'held values are bounded by the subscriptions (one per symbol), however many updates came').toBeLessThanOrEqual(symbols.length);
    expect(blocked.dropped, 'superseded updates are counted').toBeGreaterThanOrEqual(49 * symbols.length);

    const finalRound = round;
    (client.ws as unknown as { _socket: Socket })._socket.resume();
    const latest = new Map<string, unknown>();
    await client.until(() => {
      for (const m of client.messages().slice(-symbols.length)) latest.set(m.symbol as string, m.data['last']);
      return symbols.every((s) => latest.get(s) === finalRound);
    });
    expect(hub.stats().drainSnapshots, 'the latest values came as a snapshot after the drain').toBeGreaterThanOrEqual(1);
    expect(hub.stats().blockedClients, 'the client is unblocked after draining').toBe(0);
  });
});
