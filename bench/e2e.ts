/**
 * End-to-end throughput (issue 2): the same ~100-byte JSON ticks over 1,000 symbols go through
 * parse, validate, journal append with group commit (fsync 'batch'), the tick pipelines (dedup,
 * six candle intervals, KPIs, the default indicators) and the live store — and, as the peer in
 * the same run, through bare `JSON.parse`. The ratio is pipeline ticks/s over JSON.parse
 * messages/s, all on Node's one JavaScript thread (fsync runs on libuv's pool). Both sides are
 * measured alike: the best of three passes over the same messages, after a warm-up, the passes
 * of the peer, the pipeline and ingest alone interleaved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform } from '../src/apps/platform.js';
import { loadConfig } from '../src/shared/config/index.js';
import { createLogger } from '../src/shared/logger.js';
import { ingestAll, tickMessages } from './fixtures.js';

/** Event-time rate of the benchmark feed, ticks per second. */
export const FEED_RATE = 200_000;

export interface E2eResult {
  ticks: number;
  jsonParsePerSec: number;
  pipelinePerSec: number;
  ratio: number;
  ingestOnlyPerSec: number;
  batchSize: number;
}

/** Bare JSON.parse over every message once: messages per second. */
function jsonParsePass(messages: readonly string[]): number {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i++) sink += (JSON.parse(messages[i] as string) as { size: number }).size;
  const rate = messages.length / ((performance.now() - t0) / 1000);
  if (sink === 42) process.stdout.write('');
  return rate;
}

async function pipelineRate(messages: readonly string[], batchSize: number, process: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-e2e-'));
  try {
    const config = loadConfig({
      env: {},
      // The lake's bronze writer is outside this figure's scope (it has its own benchmark).
      overrides: { dataDir: dir, 'ingest.unknownSymbols': 'accept', 'log.fsync': 'batch', 'processing.checkpointIntervalMs': 60_000, 'lake.enabled': false },
    });
    const platform = await Platform.start({ config, logger: createLogger('silent'), serve: false, acceptHistory: true });
    if (!process) await platform.runner.stop();
    try {
      const t0 = performance.now();
      await ingestAll(platform.ingest, messages, batchSize);
      if (process) await platform.runner.waitFor(await platform.ticksEnd(), 1);
      const seconds = (performance.now() - t0) / 1000;
      const s = platform.ingest.stats();
      if (s.accepted !== messages.length) throw new Error(`bench: expected ${messages.length} accepted, got ${s.accepted} (rejects ${JSON.stringify(s.rejectsByRule)})`);
      return messages.length / seconds;
    } finally {
      await platform.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchE2e(options: { ticks?: number; batchSize?: number } = {}): Promise<E2eResult> {
  const ticks = options.ticks ?? 1_000_000;
  const batchSize = options.batchSize ?? 5_000;
  // Event time advances as a live feed of 200,000 ticks/s would (200 ticks per symbol per second):
  // candle and indicator work per tick depends on how many ticks share a bucket.
  const messages = tickMessages(ticks, { symbols: 1_000, stepMs: 1_000 / FEED_RATE });
  // Warm-ups, then three rounds of one pass each of the peer, the pipeline and ingest alone (a
  // fresh platform and data dir each), keeping each one's best. Interleaved, all see the machine
  // alike: measured one after the other, a busy spell (a broker started for a later section) once
  // fell on the peer's passes alone and read 1.12M JSON.parse/s against the usual ~1.5M. The
  // order turns each round, so no side always runs right after a platform was torn down.
  jsonParsePass(messages.slice(0, Math.min(200_000, ticks)));
  await pipelineRate(messages.slice(0, Math.min(200_000, ticks)), batchSize, true);
  const best = [0, 0, 0];
  const passes: (() => Promise<number>)[] = [
    () => Promise.resolve(jsonParsePass(messages)),
    () => pipelineRate(messages, batchSize, true),
    () => pipelineRate(messages, batchSize, false),
  ];
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < passes.length; k++) {
      const which = (k + round) % passes.length;
      best[which] = Math.max(best[which] as number, await (passes[which] as () => Promise<number>)());
    }
  }
  const [jsonParsePerSec, pipelinePerSec, ingestOnlyPerSec] = best as [number, number, number];
  return { ticks, jsonParsePerSec, pipelinePerSec, ratio: pipelinePerSec / jsonParsePerSec, ingestOnlyPerSec, batchSize };
}
