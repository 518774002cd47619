/**
 * The latency benchmark's WebSocket client, in its own process so it never competes with the
 * server's event loop. It subscribes to every symbol's ticks and records, for each tick, when the
 * frame carrying it arrived (epoch ms with sub-ms resolution: timeOrigin + now(), comparable
 * across processes on one machine). Arrival times go into a preallocated typed array indexed by
 * the tick's sequence number (ids are `L<seq>`), so the client's own garbage collection never
 * delays a receive and inflates the figure. On SIGTERM it prints [seq, time] pairs and exits.
 */
import WebSocket from 'ws';

const url = process.argv[2] as string;
const capacity = Number(process.argv[3] ?? 1_000_000);
const arrivals = new Float64Array(capacity);
const ws = new WebSocket(url);
ws.on('open', () => {
  ws.send(JSON.stringify({ type: 'subscribe', symbols: ['*'], channels: ['ticks'] }));
  process.stdout.write('ready\n');
});
ws.on('message', (data: Buffer) => {
  const at = performance.timeOrigin + performance.now();
  const parsed = JSON.parse(data.toString()) as unknown;
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  for (const m of messages as { channel: string; data?: { id?: string } }[]) {
    const id = m.data?.id;
    if (m.channel !== 'ticks' || typeof id !== 'string' || id.charCodeAt(0) !== 76) continue;
    const seq = Number(id.slice(1));
    if (seq >= 0 && seq < capacity && arrivals[seq] === 0) arrivals[seq] = at;
  }
});
process.on('SIGTERM', () => {
  const pairs: [number, number][] = [];
  for (let i = 0; i < capacity; i++) if (arrivals[i] !== 0) pairs.push([i, arrivals[i] as number]);
  process.stdout.write(`${JSON.stringify(pairs)}\n`, () => process.exit(0));
});
