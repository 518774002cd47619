/**
 * The latency benchmark's WebSocket client, in its own process so it never competes with the
 * server's event loop. It subscribes to every symbol's ticks and records, for each tick id, when
 * the frame carrying it arrived (epoch ms with sub-ms resolution: timeOrigin + now(), comparable
 * across processes on one machine). On SIGTERM it prints the arrivals as JSON and exits.
 */
import WebSocket from 'ws';

const url = process.argv[2] as string;
const arrivals: [string, number][] = [];
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
    if (m.channel === 'ticks' && typeof m.data?.id === 'string') arrivals.push([m.data.id, at]);
  }
});
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify(arrivals)}\n`, () => process.exit(0));
});
