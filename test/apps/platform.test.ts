import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Platform } from '../../src/apps/index.js';
import { loadConfig } from '../../src/shared/config/index.js';
import { createLogger } from '../../src/shared/logger.js';

const dirs: string[] = [];
const platforms: Platform[] = [];
afterEach(async () => {
  for (const p of platforms.splice(0)) await p.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-platform-'));
  dirs.push(dir);
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, 'processing.checkpointIntervalMs': 100 } });
  const p = await Platform.start({ config, logger: createLogger('silent') });
  platforms.push(p);
  return p;
}

async function settle(p: Platform): Promise<void> {
  await p.runner.waitFor(await p.ticksEnd(), 2);
}

describe('Platform with bad input', () => {
  it('dead-letters every kind of bad input with its reason, counts duplicates and late events, and keeps processing good data', async () => {
    const p = await start();
    const now = Date.now();
    const ok = (id: string, ts: number, price = 190) => ({ kind: 'trade', symbol: 'AAPL', ts, source: 'test', id, price, size: 100 });
    await p.ingest.write([
      ok('g1', now - 5_000),
      '{"kind":"trade","symbol":"AAPL",',
      { kind: 'trade', symbol: 'AAPL', ts: now, source: 'test', id: 'm1', size: 100 },
      { ...ok('n1', now), price: Number.NaN },
      { ...ok('z1', now), price: 0 },
      { ...ok('s1', now), size: -5 },
      ok('f1', now + 3_600_000),
      ok('p1', now - 30 * 86_400_000),
      { ...ok('u1', now), symbol: 'NOPE' },
      ok('g2', now - 1_000, 191),
    ]);
    await settle(p);
    // Duplicates of accepted ids, and a trade 10 s behind the watermark (beyond the 2 s lateness).
    await p.ingest.write([ok('g1', now - 5_000), ok('g2', now - 1_000, 191), ok('l1', now - 11_000, 150)]);
    await settle(p);
    await p.ingest.write([ok('g3', now, 192)]);
    await settle(p);

    const s = p.ingest.stats();
    expect(s.rejectsByRule, 'each bad input is refused under its own rule').toEqual({ malformed: 1, missing: 1, non_finite: 1, non_positive: 1, negative: 1, future: 1, past: 1, unknown_symbol: 1 });
    expect(s.accepted, 'good events, duplicates and the late trade are all valid input').toBe(6);

    const dlq = await p.log.read({ topic: 'ticks.dlq', partition: 0 }, 0, 100);
    const letters = dlq.map((r) => JSON.parse(Buffer.from(r.value).toString()) as { rule: string; field: string; message: string; raw: unknown });
    expect(letters.length, 'every reject is in the dead-letter topic').toBe(8);
    const nan = letters.find((l) => l.rule === 'non_finite');
    expect(nan?.field, 'the dead letter names the field').toBe('price');
    expect(nan?.message, 'and says what came').toMatch(/finite number, got NaN/);

    const metrics = await p.metrics.text();
    expect(metrics, 'rejects are counted by rule').toMatch(/stockstream_ingest_rejects_total\{rule="unknown_symbol"\} 1/);
    expect(metrics, 'duplicates are counted').toMatch(/stockstream_duplicate_events_total 2/);
    expect(metrics, 'late events are counted (once per interval they miss)').toMatch(/stockstream_late_events_total [1-9]/);
    expect(metrics, 'string table misses are exported: each symbol and source was made once at least').toMatch(/stockstream_string_table_misses_total [1-9]/);
    const late = (await p.log.topics()).find((t) => t.name === 'ticks.late');
    expect(late?.partitions.reduce((n, x) => n + x.endOffset, 0), 'late events are written to ticks.late').toBeGreaterThan(0);

    const health = p.health();
    expect(health.components['processing']?.status, 'bad input never stops processing').toBe('ok');
    const res = await p.api!.inject({ url: '/api/kpis' });
    const kpi = (JSON.parse(res.body) as { symbol: string; last: number; volume: number }[]).find((k) => k.symbol === 'AAPL');
    expect(kpi?.last, 'the good trade after the bad ones is live').toBe(192);
    expect(kpi?.volume, 'duplicates add no volume; the late trade still counts in session KPIs').toBe(400);
  });
});

describe('Platform with the lake on', () => {
  it('bronze.* shows the files the bronze writer lands at once, without waiting for a model run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-platform-'));
    dirs.push(dir);
    const config = loadConfig({ env: {}, overrides: { dataDir: dir, port: 0, 'lake.jobs.enabled': false } });
    const p = await Platform.start({ config, logger: createLogger('silent'), serve: false });
    platforms.push(p);
    const lake = p.lakehouse!;
    const count = async (table: string): Promise<number> => Number((await lake.sql.query(`SELECT count(*) FROM ${table}`)).rows[0]?.[0]);
    expect(await count('bronze.ticks'), 'nothing landed yet: the view is empty, not an error').toBe(0);

    const now = Date.now();
    await p.ingest.write(Array.from({ length: 40 }, (_, i) => ({ kind: 'trade', symbol: i % 2 ? 'AAPL' : 'MSFT', ts: now - 1_000 + i, source: 'test', id: `v${i}`, price: 190, size: 10 })));
    await p.bronze!.requestFlush();
    expect(await count('bronze.ticks'), 'the first flush is visible in the view it landed under, before any model run').toBe(40);
    expect(await count('bronze.rejects'), 'a table still without files stays an empty view').toBe(0);

    await p.ingest.write([{ kind: 'trade', symbol: 'AAPL', ts: now, source: 'test', id: 'later', price: 191, size: 5 }, { kind: 'trade', symbol: 'AAPL', ts: now, source: 'test', id: 'bad', price: -1, size: 5 }]);
    await p.bronze!.requestFlush();
    expect([await count('bronze.ticks'), await count('bronze.rejects')], 'later flushes and the first reject show too').toEqual([41, 1]);
    expect(await lake.jobs.runs({ limit: 10 }), 'no job ran: the views followed the writer alone').toEqual([]);
  });
});
