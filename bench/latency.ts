/**
 * Latency at a steady 20,000 ticks/s with durability on (fsync 'batch', group commit), measured
 * twice for every tick: from the moment a source hands it to ingest to the moment the WebSocket
 * frame carrying it is written to the socket (the definition; the hub's latency probe
 * reports each frame with the values it carried), and to the moment a client in another process
 * receives that frame (adds the kernel, the client's scheduling on a shared machine and its
 * parsing). 1,000 symbols, so each gets 20 ticks/s: under the 60/s coalescing limit, every tick
 * is sent, none is held back.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Platform } from '../src/apps/platform.js';
import { loadConfig } from '../src/shared/config/index.js';
import { createLogger } from '../src/shared/logger.js';
import { inFreshProcess } from './fixtures.js';

export interface LatencyQuantiles {
  /** Ticks measured. */
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  ratePerSec: number;
  seconds: number;
  sent: number;
  /** Handed over → frame written to the socket (the target applies here). */
  written: LatencyQuantiles;
  /** Handed over → frame received by the client process. */
  received: LatencyQuantiles;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

function quantiles(lat: number[]): LatencyQuantiles {
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
  return { count: lat.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1] ?? Number.NaN };
}

/** Sequence number of a bench tick ('L<seq>'), or -1 for anything else. */
function seqOf(item: unknown): number {
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.charCodeAt(0) === 76 ? Number(id.slice(1)) : -1;
}

export interface LatencyOptions {
  ratePerSec?: number;
  seconds?: number;
  warmupSeconds?: number;
}

/**
 * Runs the measurement in a fresh process: after the end-to-end bench the same process holds a
 * large old generation whose collections land in the latency window (p99 18 ms there against
 * 9–12 ms alone), which would measure the previous benchmark, not this one.
 */
export function benchLatency(options: LatencyOptions = {}): LatencyResult {
  return inFreshProcess<LatencyResult>('latency', [import.meta.filename, JSON.stringify(options)]);
}

async function measure(options: LatencyOptions): Promise<LatencyResult> {
  const rate = options.ratePerSec ?? 20_000;
  const seconds = options.seconds ?? 10;
  const warmup = options.warmupSeconds ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-lat-'));
  // The lake's bronze writer is outside this figure's scope (it has its own benchmark).
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, 'ingest.unknownSymbols': 'accept', 'log.fsync': 'batch', 'lake.enabled': false } });
  const expected = Math.ceil(rate * (seconds + warmup)) + rate;
  // Written times go into a preallocated array indexed by sequence number: the probe runs on the
  // server's event loop and must not add garbage of its own to what it measures.
  const writtenAt = new Float64Array(expected);
  const platform = await Platform.start({
    config,
    logger: createLogger('silent'),
    latencyProbe: {
      onFrameWritten: (_messages, at, items) => {
        const epoch = performance.timeOrigin + at;
        for (let i = 0; i < items.length; i++) {
          const seq = seqOf(items[i]);
          if (seq >= 0 && seq < expected && writtenAt[seq] === 0) writtenAt[seq] = epoch;
        }
      },
    },
  });
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
    const received: number[] = [];
    for (const [seq, at] of arrivals) {
      const h = handedAt[seq] ?? 0;
      if (h !== 0) received.push(at - h);
    }
    const written: number[] = [];
    let sent = 0;
    for (let i = 0; i < handedAt.length; i++) {
      const h = handedAt[i] as number;
      if (h === 0) continue;
      sent++;
      const w = writtenAt[i] as number;
      if (w !== 0) written.push(w - h);
    }
    return { ratePerSec: rate, seconds, sent, written: quantiles(written), received: quantiles(received) };
  } finally {
    client.kill('SIGKILL');
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await measure(JSON.parse(process.argv[2] ?? '{}') as LatencyOptions))}\n`);
}
