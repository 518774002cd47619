/**
 * Latency at a steady 20,000 ticks/s with durability on (fsync 'batch', group commit): from the
 * moment a source hands a tick to ingest to the moment a WebSocket client receives the frame that
 * carries it. The client runs in another process; its receive time is an upper bound of the
 * frame being written. 1,000 symbols, so each gets 20 ticks/s: under the 60/s coalescing limit,
 * every tick is sent, none is held back.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform } from '../src/apps/platform.js';
import { loadConfig } from '../src/shared/config/index.js';
import { createLogger } from '../src/shared/logger.js';

export interface LatencyResult {
  ratePerSec: number;
  seconds: number;
  sent: number;
  received: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export async function benchLatency(options: { ratePerSec?: number; seconds?: number; warmupSeconds?: number } = {}): Promise<LatencyResult> {
  const rate = options.ratePerSec ?? 20_000;
  const seconds = options.seconds ?? 10;
  const warmup = options.warmupSeconds ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-lat-'));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, 'ingest.unknownSymbols': 'accept', 'log.fsync': 'batch' } });
  const platform = await Platform.start({ config, logger: createLogger('silent') });
  const expected = Math.ceil(rate * (seconds + warmup)) + rate;
  const client = spawn(process.execPath, [join(import.meta.dirname, 'latency-client.js'), `${platform.url?.replace(/^http/, 'ws')}/api/stream`, String(expected)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  client.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    while (!out.includes('ready\n')) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    const handedAt = new Float64Array(expected);
    const t0 = nowMs();
    const end = t0 + (warmup + seconds) * 1000;
    let seq = 0;
    const prices = new Float64Array(1000).fill(100);
    const inflight = new Set<Promise<unknown>>();
    // Hand over what is due every millisecond, without waiting for the previous batch's ack
    // (a feed handler pipelines its acks); event time is the wall clock, as for a live feed.
    while (nowMs() < end) {
      const due = Math.floor(((nowMs() - t0) / 1000) * rate) - seq;
      if (due > 0) {
        const batch: object[] = [];
        const at = nowMs();
        for (let i = 0; i < due; i++, seq++) {
          const s = seq % 1000;
          prices[s] = (prices[s] as number) * (1 + ((seq * 7919) % 11 - 5) * 1e-4);
          const id = `L${seq}`;
          batch.push({ kind: 'trade', symbol: `S${String(s).padStart(4, '0')}`, ts: Math.floor(at), source: 'bench', id, price: Math.round((prices[s] as number) * 100) / 100, size: 100 });
          if (at - t0 >= warmup * 1000 && seq < expected) handedAt[seq] = at;
        }
        const p = platform.ingest.write(batch);
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      // A 1 ms timer, like a feed handler woken by its socket: spinning on setImmediate instead
      // would keep this thread (which also runs the pipeline) at 100 % and bill its garbage to it.
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inflight);
    await new Promise((r) => setTimeout(r, 500));
    const done = new Promise<void>((r) => client.on('exit', () => r()));
    client.kill('SIGTERM');
    await done;
    const arrivals = JSON.parse(out.slice(out.indexOf('ready\n') + 6).trim()) as [number, number][];
    const lat: number[] = [];
    for (const [seq, at] of arrivals) {
      const h = handedAt[seq] ?? 0;
      if (h !== 0) lat.push(at - h);
    }
    let sent = 0;
    for (let i = 0; i < handedAt.length; i++) if (handedAt[i] !== 0) sent++;
    lat.sort((a, b) => a - b);
    return { ratePerSec: rate, seconds, sent, received: lat.length, p50: quantile(lat, 0.5), p90: quantile(lat, 0.9), p99: quantile(lat, 0.99), max: lat[lat.length - 1] ?? Number.NaN };
  } finally {
    client.kill('SIGKILL');
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
