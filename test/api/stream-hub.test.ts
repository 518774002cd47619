import { describe, expect, it } from 'vitest';
import { trade, quote } from '../../src/domain/index.js';
import { StreamHub, type StreamClock, type StreamSocket } from '../../src/api/index.js';
import { LiveStore } from '../../src/stores/index.js';
import { T0, candle, kpi } from './fixtures.js';

/** Manual clock: time moves only when the test says, immediates run on runImmediates(). */
class ManualClock implements StreamClock {
  t = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #immediates: (() => void)[] = [];
  #next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  setImmediate(fn: () => void): void {
    this.#immediates.push(fn);
  }
  runImmediates(): void {
    const fns = this.#immediates;
    this.#immediates = [];
    for (const fn of fns) fn();
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, timer] of this.#timers) if (timer.at <= end && timer.at < nextAt) [nextId, nextAt] = [id, timer.at];
      if (nextId < 0) break;
      const timer = this.#timers.get(nextId) as { at: number; fn: () => void };
      this.#timers.delete(nextId);
      this.t = timer.at;
      timer.fn();
      // As in the event loop: the check phase (setImmediate) follows the timers phase.
      this.runImmediates();
    }
    this.t = end;
  }
}

class FakeSocket implements StreamSocket {
  readyState = 1;
  bufferedAmount = 0;
  frames: unknown[] = [];
  send(data: string): void;
  send(data: Uint8Array, options: { binary: boolean }): void;
  send(data: string | Uint8Array, options?: { binary: boolean }): void {
    if (typeof data !== 'string' && options?.binary !== false) throw new Error('a frame of bytes must be sent as text (binary: false)');
    this.frames.push(JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')));
  }
  /** Messages of every frame, flattened, as "channel/symbol:<field>". */
  take(field = 'last'): string[] {
    const out: string[] = [];
    for (const f of this.frames) {
      for (const m of Array.isArray(f) ? f : [f]) out.push(`${m.channel}/${m.symbol}:${m.data?.[field]}`);
    }
    this.frames = [];
    return out;
  }
}

function setup(options: ConstructorParameters<typeof StreamHub>[1] = {}) {
  const store = new LiveStore();
  const clock = new ManualClock();
  const written: number[] = [];
  const items: unknown[][] = [];
  const hub = new StreamHub(store, {
    clock,
    latencyProbe: {
      onFrameWritten: (n, _at, data) => {
        written.push(n);
        items.push([...data]);
      },
    },
    ...options,
  });
  const socket = new FakeSocket();
  const client = hub.connect(socket);
  return { store, clock, hub, socket, client, written, items };
}

describe('StreamHub', () => {
  it('sends the current snapshot on subscribe, then deltas batched one frame per flush', () => {
    const { store, clock, hub, socket, client, written, items } = setup();
    store.applyKpis([kpi('AAPL', 10), kpi('MSFT', 20)]);
    hub.handle(client, { type: 'subscribe', symbols: ['AAPL', 'MSFT', 'NONE'], channels: ['kpis'] });
    expect(socket.frames.length, 'the snapshot goes out at once as one frame').toBe(1);
    expect(socket.take(), 'the snapshot holds the latest KPI of each subscribed symbol that has one').toEqual(['kpis/AAPL:10', 'kpis/MSFT:20']);
    clock.advance(100);
    store.applyKpis([kpi('AAPL', 11), kpi('MSFT', 21), kpi('IBM', 5)]);
    expect(socket.frames.length, 'nothing is written before the flush immediate runs').toBe(0);
    clock.runImmediates();
    expect(socket.frames.length, 'one frame per flush per client').toBe(1);
    expect(socket.take(), 'only subscribed symbols are sent, as an array of messages').toEqual(['kpis/AAPL:11', 'kpis/MSFT:21']);
    expect(written, 'the latency probe sees every frame with its message count').toEqual([2, 2]);
    expect(
      items.map((f) => f.map((k) => (k as { symbol: string; last: number }).last)),
      'and the values each frame carried, in frame order (the latency bench matches ticks by them)',
    ).toEqual([
      [10, 20],
      [11, 21],
    ]);
  });

  it('coalesces per (channel, symbol) to the rate limit and sends the latest value when the slot opens', () => {
    const { store, clock, hub, socket, client } = setup({ maxPerSecondPerSymbol: 10 });
    hub.handle(client, { type: 'subscribe', symbols: ['AAPL', 'MSFT'], channels: ['kpis'] });
    store.applyKpis([kpi('AAPL', 1)]);
    clock.runImmediates();
    expect(socket.take(), 'the first update goes out in the next flush').toEqual(['kpis/AAPL:1']);
    clock.advance(10);
    store.applyKpis([kpi('AAPL', 2), kpi('MSFT', 100)]);
    clock.runImmediates();
    store.applyKpis([kpi('AAPL', 3)]);
    clock.runImmediates();
    expect(socket.take(), 'AAPL sent 10 ms ago must wait for its 100 ms slot; MSFT has no history and goes now').toEqual(['kpis/MSFT:100']);
    clock.advance(89);
    expect(socket.take(), 'still inside the 100 ms slot: nothing').toEqual([]);
    clock.advance(1);
    expect(socket.take(), 'when the slot opens, only the latest held value goes out').toEqual(['kpis/AAPL:3']);
    expect(hub.stats().coalesced, 'the replaced AAPL=2 is counted as coalesced').toBe(1);
  });

  it('does not let a newer candle bucket swallow the last version of the previous bucket', () => {
    const { store, clock, hub, socket, client } = setup({ maxPerSecondPerSymbol: 1 });
    hub.handle(client, { type: 'subscribe', symbols: ['AAPL'], channels: ['candles:1s'] });
    store.applyCandles([candle('AAPL', '1s', 0, { final: false, close: 1 })]);
    clock.runImmediates();
    store.applyCandles([candle('AAPL', '1s', 0, { final: true, close: 2 })]);
    store.applyCandles([candle('AAPL', '1s', 1, { final: false, close: 3 })]);
    store.applyCandles([candle('AAPL', '1s', 1, { final: false, close: 4 })]);
    clock.advance(1000);
    expect(socket.take('close'), 'the final close of bucket 0 and the latest of bucket 1 both arrive, in order').toEqual([
      'candles:1s/AAPL:1',
      'candles:1s/AAPL:2',
      'candles:1s/AAPL:4',
    ]);
  });

  it('keeps trades and quotes in separate lanes of the ticks channel', () => {
    const { store, clock, hub, socket, client } = setup();
    hub.handle(client, { type: 'subscribe', symbols: ['*'], channels: ['ticks'] });
    store.applyTicks([
      trade({ symbol: 'AAPL', ts: T0, source: 's', id: '1', price: 10, size: 1 }),
      quote({ symbol: 'AAPL', ts: T0 + 1, source: 's', id: '2', bid: 9, ask: 11, bidSize: 1, askSize: 1 }),
    ]);
    clock.runImmediates();
    expect(socket.take('kind'), 'a quote must not replace the pending trade').toEqual(['ticks/AAPL:trade', 'ticks/AAPL:quote']);
  });

  it('unsubscribe stops updates and drops held values; "*" covers symbols that appear later', () => {
    const { store, clock, hub, socket, client } = setup({ maxPerSecondPerSymbol: 1 });
    hub.handle(client, { type: 'subscribe', symbols: ['*'], channels: ['kpis'] });
    store.applyKpis([kpi('NEW', 1)]);
    clock.runImmediates();
    expect(socket.take(), 'a wildcard subscription covers a symbol first seen after subscribing').toEqual(['kpis/NEW:1']);
    store.applyKpis([kpi('NEW', 2)]);
    expect(hub.stats().pendingMessages, 'NEW=2 waits for its slot').toBe(1);
    hub.handle(client, { type: 'unsubscribe', symbols: ['*'], channels: ['kpis'] });
    expect(hub.stats().pendingMessages, 'unsubscribing drops held values').toBe(0);
    store.applyKpis([kpi('NEW', 3)]);
    clock.runImmediates();
    clock.advance(2000);
    expect(socket.take(), 'no updates after unsubscribe').toEqual([]);
  });

  it('under backpressure holds one value per key, then sends them as one snapshot when drained', () => {
    const { store, clock, hub, socket, client } = setup({ maxBufferedBytes: 1000, maxPerSecondPerSymbol: 1000 });
    hub.handle(client, { type: 'subscribe', symbols: ['A', 'B', 'C'], channels: ['kpis'] });
    socket.bufferedAmount = 5000;
    for (let round = 0; round < 500; round++) {
      store.applyKpis([kpi('A', round), kpi('B', round), kpi('C', round)]);
      clock.runImmediates();
      clock.advance(5);
    }
    const s = hub.stats();
    expect(socket.frames.length, 'nothing is written while the buffer is over the limit').toBe(0);
    expect(s.blockedClients, 'the slow client is marked blocked').toBe(1);
    expect(s.pendingMessages, 'pending state is bounded by the subscriptions (3 keys), not by the update count').toBe(3);
    expect(s.dropped, 'superseded updates are counted as dropped').toBe(3 * 499);
    socket.bufferedAmount = 600;
    clock.advance(100);
    expect(socket.frames.length, 'above half the limit the client stays blocked').toBe(0);
    socket.bufferedAmount = 400;
    clock.advance(100);
    expect(socket.take(), 'after draining below half, the latest values arrive as one snapshot frame').toEqual(['kpis/A:499', 'kpis/B:499', 'kpis/C:499']);
    expect(hub.stats(), 'the client is unblocked and the drain counted').toMatchObject({ blockedClients: 0, drainSnapshots: 1, pendingMessages: 0 });
    store.applyKpis([kpi('A', 500)]);
    clock.runImmediates();
    expect(socket.take(), 'deltas resume after the drain').toEqual(['kpis/A:500']);
  });

  it('disconnect releases the client', () => {
    const { store, clock, hub, socket, client } = setup();
    hub.handle(client, { type: 'subscribe', symbols: ['AAPL'], channels: ['kpis'] });
    hub.disconnect(client);
    store.applyKpis([kpi('AAPL', 1)]);
    clock.runImmediates();
    expect([socket.frames.length, hub.stats().clients], 'a disconnected client gets nothing and is forgotten').toEqual([0, 0]);
  });

  it('a frame past the first 64 KB of the frame writer, with non-ASCII text, arrives whole and as UTF-8', () => {
    const { store, clock, hub, socket, client } = setup();
    hub.handle(client, { type: 'subscribe', symbols: ['*'], channels: ['ticks'] });
    socket.take();
    // ~2,000 messages of ~190 bytes: one frame of ~380 KB, several times the scratch buffer.
    const trades = Array.from({ length: 2_000 }, (_, i) => trade({ symbol: `S${i}`, ts: T0 + i, source: 'Sở GDCK — ₫', id: `é${i}`, price: 100 + i / 100, size: i + 1 }));
    store.applyTicks(trades);
    clock.runImmediates();
    expect(socket.frames.length, 'all the updates of one flush go out as one frame').toBe(1);
    const messages = socket.frames[0] as { symbol: string; data: { id: string; source: string; price: number } }[];
    expect(messages.length, 'no message is cut when the frame outgrows the scratch buffer').toBe(2_000);
    expect(messages[1_999], 'the last message is intact').toEqual({ channel: 'ticks', symbol: 'S1999', data: JSON.parse(JSON.stringify(trades[1_999])) });
    expect(new Set(messages.map((m) => m.data.source)), 'multi-byte characters survive the byte-level assembly').toEqual(new Set(['Sở GDCK — ₫']));
  });
});
