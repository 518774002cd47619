import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, readJournal, requireBuild, writeSession } from './helpers.js';

const SEED = Number(process.env['SS_SEED'] ?? 20261121);
const LINES = 200_000;
const work = mkdtempSync(join(tmpdir(), 'ss-crash-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ENV = {
  ...process.env,
  // Frequent checkpoints so the crash lands between checkpoints, exercising restore + replay.
  STOCKSTREAM_PROCESSING__CHECKPOINT_INTERVAL_MS: '150',
  STOCKSTREAM_LOG__FSYNC: 'batch',
  STOCKSTREAM_LOG_LEVEL: 'error',
};

function replayToEnd(file: string, dataDir: string): string {
  const r = spawnSync(process.execPath, [CLI, 'replay', file, '--no-serve', '--data-dir', dataDir], { env: ENV, encoding: 'utf8', timeout: 240_000 });
  expect(r.status, `replay must finish cleanly (seed ${SEED}); stderr: ${r.stderr}`).toBe(0);
  return r.stdout;
}

function consumed(dataDir: string): number {
  try {
    return (JSON.parse(readFileSync(join(dataDir, 'checkpoints', 'replay-source.json'), 'utf8')) as { consumed: number }).consumed;
  } catch {
    return 0;
  }
}

describe('kill -9 during a sustained replay', () => {
  it('converges after restart to the uninterrupted run: same final candles, every input event in the log exactly once', async () => {
    requireBuild();
    const file = join(work, 'session.ndjson');
    const { validIds } = writeSession(file, SEED, LINES);

    const clean = join(work, 'clean');
    replayToEnd(file, clean);

    const crashed = join(work, 'crashed');
    const child = spawn(process.execPath, [CLI, 'replay', file, '--no-serve', '--data-dir', crashed], { env: ENV, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Kill once a good part of the file is durable but well before the end.
    const deadline = Date.now() + 120_000;
    while (consumed(crashed) < LINES * 0.3 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    const at = consumed(crashed);
    expect(child.exitCode, `the replay must still be running when killed (seed ${SEED})`).toBeNull();
    child.kill('SIGKILL');
    await exited;
    expect(at, `the kill must land mid-stream (consumed ${at} of ${LINES})`).toBeLessThan(LINES);

    const out = replayToEnd(file, crashed);
    expect(out, 'the restarted replay says it resumed').toMatch(/resumed after \d+/);

    const a = await readJournal(clean);
    const b = await readJournal(crashed);
    expect(a.tickIds, `the uninterrupted run logs every valid input event once (seed ${SEED})`).toEqual(validIds);
    expect(b.tickIds, `after kill -9 and restart every valid input event is in the log exactly once (seed ${SEED})`).toEqual(validIds);
    expect(a.candles.size, 'the session produces final candles').toBeGreaterThan(1_000);
    expect([...a.candles.values()].some((c) => c.rev > 0), 'the session amends some candles (late trades within lateness)').toBe(true);
    // A map of 20,000 candles prints as "Map{ …(n) }" on both sides: name the candles that differ.
    const differing: string[] = [];
    for (const [key, c] of a.candles) {
      const d = b.candles.get(key);
      if (d === undefined || JSON.stringify(d) !== JSON.stringify(c) || !Object.is(d.vwap, c.vwap)) differing.push(`${key}: uninterrupted ${JSON.stringify(c)}, after the crash ${JSON.stringify(d)}`);
    }
    for (const key of b.candles.keys()) if (!a.candles.has(key)) differing.push(`${key}: only after the crash`);
    expect(differing.slice(0, 10), `final candles after the crash equal the uninterrupted run's (seed ${SEED}, killed at ${at} consumed; ${differing.length} differ)`).toEqual([]);
    expect(b.candles, `final candles after the crash equal the uninterrupted run's (seed ${SEED})`).toEqual(a.candles);
    expect(a.dlq, 'malformed lines were dead-lettered').toBeGreaterThan(0);
    expect(b.dlq, `after kill -9 and restart every malformed line is dead-lettered exactly once (seed ${SEED}, killed at ${at} consumed)`).toBe(a.dlq);
  }, 300_000);
});
