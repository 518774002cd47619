import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { Platform, runSource } from '../../src/apps/index.js';
import type { Candle } from '../../src/domain/index.js';
import { loadConfig } from '../../src/shared/config/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { ReplaySource } from '../../src/sources/replay/index.js';
import { CLI, mulberry32, requireBuild } from './helpers.js';

const SEED = Number(process.env['SS_SEED'] ?? 7);
const work = mkdtempSync(join(tmpdir(), 'ss-stream-batch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SPECS = ['sma:20', 'ema:20', 'rsi:14', 'macd:12:26:9', 'bbands:20:2', 'atr:14'];

/** Three symbols trading every ~0.7 s for 3 hours, in event-time order, with distinct timestamps per symbol. */
function writeTicks(file: string): void {
  const rand = mulberry32(SEED);
  const lines: string[] = [];
  const t0 = Date.UTC(2026, 0, 6, 0, 0);
  const price = [100, 250, 40];
  for (let i = 0; i < 45_000; i++) {
    const s = i % 3;
    price[s] = Math.max(1, (price[s] as number) * (1 + (rand() - 0.5) * 0.004));
    lines.push(JSON.stringify({ kind: 'trade', symbol: ['AAA', 'BBB', 'CCC'][s], ts: t0 + i * 240 + s, source: 'rec', id: `t${i}`, price: Math.round((price[s] as number) * 100) / 100, size: 100 * (1 + Math.floor(rand() * 9)) }));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

describe('stream equals batch', () => {
  it('live 1m candles equal DuckDB SQL over the same ticks, and live indicators equal `stockstream indicators` over those candles', async () => {
    requireBuild();
    const file = join(work, 'ticks.ndjson');
    writeTicks(file);
    const config = loadConfig({ env: {}, overrides: { dataDir: join(work, 'data'), 'ingest.unknownSymbols': 'accept', 'processing.indicators': SPECS, 'live.depths': { '1m': 1000 } } });
    const platform = await Platform.start({ config, logger: createLogger('silent'), serve: false, acceptHistory: true, idleWatermarks: false });
    let live: Candle[];
    let liveIndicators: Record<string, { start: number; [k: string]: number | null }[]>;
    try {
      const run = await runSource(platform, new ReplaySource({ file, speed: 'max' }));
      await run.done;
      await platform.runner.waitFor(await platform.ticksEnd());
      live = platform.store.candles('AAA', '1m').filter((c) => c.final);
      liveIndicators = platform.store.indicators('AAA', '1m', SPECS) as typeof liveIndicators;
      const all = ['AAA', 'BBB', 'CCC'].flatMap((s) => platform.store.candles(s, '1m').filter((c) => c.final));

      // Independent oracle: plain SQL over the raw file.
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const reader = await conn.runAndReadAll(`
        SELECT symbol, (floor(ts / 60000) * 60000)::BIGINT AS start,
               arg_min(price, ts) AS open, max(price) AS high, min(price) AS low, arg_max(price, ts) AS close,
               sum(size)::DOUBLE AS volume, sum(price * size) / sum(size) AS vwap, count(*)::INTEGER AS trades
        FROM read_json('${file}', format = 'newline_delimited')
        WHERE kind = 'trade'
        GROUP BY ALL ORDER BY symbol, start`);
      const sql = reader.getRowObjectsJS() as { symbol: string; start: bigint | number; open: number; high: number; low: number; close: number; volume: number; vwap: number; trades: number }[];
      conn.closeSync();
      const bySql = new Map(sql.map((r) => [`${r.symbol}|${Number(r.start)}`, r]));
      expect(all.length, 'the replay produced final 1m candles for every symbol').toBeGreaterThan(500);
      for (const c of all) {
        const r = bySql.get(`${c.symbol}|${c.start}`);
        expect(r, `SQL has the candle ${c.symbol} ${new Date(c.start).toISOString()}`).toBeDefined();
        if (r === undefined) continue;
        expect([c.open, c.high, c.low, c.close, c.volume, c.trades], `${c.symbol} ${c.start}: OHLCV and trade count equal SQL exactly`).toEqual([r.open, r.high, r.low, r.close, r.volume, r.trades]);
        expect(close(c.vwap, r.vwap), `${c.symbol} ${c.start}: vwap ${c.vwap} equals SQL ${r.vwap} to 1e-9`).toBe(true);
      }
    } finally {
      await platform.close();
    }

    // The batch CLI over the live candles gives the same indicator values, to the bit.
    const csv = join(work, 'aaa-1m.csv');
    writeFileSync(csv, ['timestamp,open,high,low,close,volume', ...live.map((c) => `${new Date(c.start).toISOString()},${c.open},${c.high},${c.low},${c.close},${c.volume}`)].join('\n'));
    const r = spawnSync(process.execPath, [CLI, 'indicators', '--input', csv, '--indicators', SPECS.join(',')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const batch = JSON.parse(r.stdout) as { rows: number; indicators: Record<string, Record<string, (number | null)[]>> };
    expect(batch.rows, 'the CLI read every live candle').toBe(live.length);
    for (const spec of SPECS) {
      const points = new Map((liveIndicators[spec] ?? []).map((p) => [p.start, p]));
      const outputs = batch.indicators[spec] ?? {};
      live.forEach((c, i) => {
        const p = points.get(c.start);
        for (const [name, values] of Object.entries(outputs)) {
          expect(p?.[name] ?? null, `${spec}.${name} at ${new Date(c.start).toISOString()}: live equals batch`).toBe(values[i] ?? null);
        }
      });
    }
  }, 120_000);
});
