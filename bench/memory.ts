/**
 * Memory with 5,000 live symbols at default history depth (issue 2: ≤ 100 KB per symbol). Runs in
 * its own process with --expose-gc so the figure is this workload's alone. Every symbol trades
 * through the real pipeline (dedup, candles, KPIs, indicators, live store), then each symbol's
 * rings are filled past their default depth for every interval, so every ring is full and has
 * evicted into its series' indicator state, as after a long session. Reported: RSS and heap growth over the started-but-empty platform,
 * divided by the symbol count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Platform } from '../src/apps/platform.js';
import { INTERVALS, INTERVAL_MS, type Candle } from '../src/domain/index.js';
import { loadConfig } from '../src/shared/config/index.js';
import { createLogger } from '../src/shared/logger.js';
import { DEFAULT_DEPTHS } from '../src/stores/live/index.js';
import { tickMessages, inFreshProcess } from './fixtures.js';

export interface MemoryResult {
  symbols: number;
  rssBytesPerSymbol: number;
  heapBytesPerSymbol: number;
  rssTotalMiB: number;
  candlesHeld: number;
}

async function measure(symbols: number): Promise<MemoryResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const settle = async (): Promise<{ rss: number; heap: number }> => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed };
  };
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-mem-'));
  try {
    // The lake's bronze writer is outside this figure's scope (it has its own benchmark).
    const config = loadConfig({ env: {}, overrides: { dataDir: dir, 'ingest.unknownSymbols': 'accept', 'log.fsync': 'never', 'processing.checkpointIntervalMs': 600_000, 'lake.enabled': false } });
    const platform = await Platform.start({ config, logger: createLogger('silent'), serve: false, acceptHistory: true });
    const base = await settle();
    // Ten trades per symbol through the whole pipeline: every operator holds state for each symbol.
    const messages = tickMessages(symbols * 10, { symbols, stepMs: 1 });
    for (let i = 0; i < messages.length; i += 5_000) await platform.ingest.write(messages.slice(i, i + 5_000));
    await platform.runner.waitFor(await platform.ticksEnd(), 5);
    // Then full rings: default depth per interval, plus one so each evicts into the live indicators.
    // After the trades' own candles (the fixture starts 2026-01-05 14:30 UTC), so nothing is older than a ring's oldest.
    const t0 = Date.UTC(2026, 0, 6);
    for (let s = 0; s < symbols; s++) {
      const symbol = `S${String(s).padStart(4, '0')}`;
      for (const iv of INTERVALS) {
        const candles: Candle[] = [];
        const depth = DEFAULT_DEPTHS[iv];
        for (let k = 0; k <= depth; k++) {
          const start = t0 + k * INTERVAL_MS[iv];
          const p = 100 + Math.sin(k / 7) * 5;
          candles.push({ symbol, interval: iv, start, end: start + INTERVAL_MS[iv], open: p, high: p + 1, low: p - 1, close: p + 0.5, volume: 1_000 + k, vwap: p, trades: 10, final: true, rev: 0 });
        }
        platform.store.applyCandles(candles);
      }
    }
    const after = await settle();
    const stats = platform.store.stats();
    await platform.close();
    return {
      symbols,
      rssBytesPerSymbol: (after.rss - base.rss) / symbols,
      heapBytesPerSymbol: (after.heap - base.heap) / symbols,
      rssTotalMiB: after.rss / 2 ** 20,
      candlesHeld: stats.candles,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the measurement in a fresh process. */
export function benchMemory(symbols = 5_000): MemoryResult {
  return inFreshProcess<MemoryResult>('memory', ['--expose-gc', import.meta.filename, String(symbols)]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await measure(Number(process.argv[2] ?? 5_000)))}\n`);
}
