import { spawnSync } from 'node:child_process';

/**
 * mulberry32: a tiny seeded PRNG (https://gist.github.com/tommyettinger/46a874533244883189143505d203312c)
 * so benchmarks measure the same data every run and randomized tests replay from the seed they
 * print on failure (test/fixtures/random.ts re-exports it).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Realistic ~100-byte JSON trade messages over `symbols` symbols, as a feed handler would receive
 * them, with deterministic prices and sizes (seeded) and event time advancing `stepMs` per message.
 */
export function tickMessages(count: number, options: { symbols?: number; startTs?: number; stepMs?: number; seed?: number } = {}): string[] {
  const symbols = options.symbols ?? 1_000;
  const startTs = options.startTs ?? Date.UTC(2026, 0, 5, 14, 30);
  const stepMs = options.stepMs ?? 1;
  const rand = mulberry32(options.seed ?? 7);
  const names = Array.from({ length: symbols }, (_, i) => `S${String(i).padStart(4, '0')}`);
  const prices = names.map(() => 20 + rand() * 400);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const s = i % symbols;
    prices[s] = Math.max(1, (prices[s] as number) * (1 + (rand() - 0.5) * 0.002));
    const price = Math.round((prices[s] as number) * 100) / 100;
    const size = (1 + Math.floor(rand() * 20)) * 100;
    const text = `{"kind":"trade","symbol":"${names[s]}","ts":${startTs + Math.floor(i * stepMs)},"source":"bench","id":"b-${i}","price":${price},"size":${size}}`;
    // A template literal builds a rope that its first reader must flatten (an allocation a feed
    // never pays); decoding bytes gives the flat string a socket or file reader hands over.
    out[i] = Buffer.from(text, 'latin1').toString('latin1');
  }
  return out;
}

/** Writes `messages` through ingest in batches, keeping 4 in flight as a feed handler pipelines its acks. */
export async function ingestAll(ingest: { write(batch: readonly string[]): Promise<unknown> }, messages: readonly string[], batchSize: number): Promise<void> {
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += batchSize) {
    inflight.push(ingest.write(messages.slice(i, i + batchSize)));
    if (inflight.length >= 4) await inflight.shift();
  }
  await Promise.all(inflight);
}

/**
 * Runs a benchmark module's own main in a fresh Node process (`args`: Node options, the module
 * file, its arguments) and returns the JSON of the last line it prints: a measurement that must
 * not inherit the old generation the benchmarks before it left in this process.
 */
export function inFreshProcess<T>(what: string, args: readonly string[]): T {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${what} bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as T;
}
