import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, requireBuild } from '../integration/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'ss-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  requireBuild();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd: work, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineFailure(r: { status: number | null; stderr: string }, pattern: RegExp, why: string): void {
  expect(r.status, `${why}: exits non-zero`).not.toBe(0);
  expect(r.stderr.trim().split('\n').length, `${why}: one line, got:\n${r.stderr}`).toBe(1);
  expect(r.stderr, `${why}: no stack trace`).not.toMatch(/\n\s+at /);
  expect(r.stderr, `${why}: says what was wrong`).toMatch(pattern);
}

const CSV = ['date,open,high,low,close,volume', ...Array.from({ length: 40 }, (_, i) => `2026-01-${String((i % 28) + 1).padStart(2, '0')},${100 + i},${102 + i},${99 + i},${101 + i},${1000 + i}`)].join('\n');

describe('stockstream CLI', () => {
  it('indicators prints the documented JSON shape, aligned to input rows with nulls in warm-up', () => {
    const file = join(work, 'ohlcv.csv');
    writeFileSync(file, CSV);
    const r = run(['indicators', '--input', file, '--indicators', 'sma:5,macd:3:6:2,bbands:5:2,stoch:5:3:3,obv']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { rows: number; indicators: Record<string, Record<string, (number | null)[]>> };
    expect(out.rows, 'rows counts the input rows').toBe(40);
    expect(Object.keys(out.indicators['macd:3:6:2'] ?? {}), 'MACD outputs').toEqual(['macd', 'signal', 'histogram']);
    expect(Object.keys(out.indicators['bbands:5:2'] ?? {}), 'Bollinger outputs').toEqual(['upper', 'middle', 'lower']);
    expect(Object.keys(out.indicators['stoch:5:3:3'] ?? {}), 'Stochastic outputs').toEqual(['k', 'd']);
    const sma = out.indicators['sma:5']?.['value'] ?? [];
    expect(sma.length, 'arrays align with the input rows').toBe(40);
    expect(sma.slice(0, 5), 'null during warm-up, then values').toEqual([null, null, null, null, 103]);
  });

  it('fails with one line and no stack for bad arguments, unreadable files and bad specs', () => {
    expectOneLineFailure(run(['indicators', '--input', join(work, 'missing.csv'), '--indicators', 'sma:5']), /missing\.csv: cannot be read \(ENOENT\)/, 'a missing input file');
    const file = join(work, 'ok.csv');
    writeFileSync(file, CSV);
    expectOneLineFailure(run(['indicators', '--input', file, '--indicators', 'rsi:x']), /indicator "rsi:x": period must be an integer >= 2, got "x"; e\.g\. rsi:14/, 'a bad indicator spec');
    const bad = join(work, 'bad.csv');
    writeFileSync(bad, 'date,open,high,low,close,volume\n2026-01-02,1,2,0.5,abc,10\n');
    expectOneLineFailure(run(['indicators', '--input', bad, '--indicators', 'sma:2']), /line 2, column "close": expected a number, got "abc"/, 'a bad CSV cell');
    const missing = run(['replay', join(work, 'nope.ndjson'), '--port', '0', '--data-dir', join(work, 'd1')]);
    expectOneLineFailure(missing, /nope\.ndjson.*(ENOENT|cannot be read|does not exist)/, 'an unreadable replay file');
    expect(missing.stdout, 'an unreadable replay file fails before the platform starts: no "Replaying …; dashboard" line').toBe('');
    expectOneLineFailure(run(['up', '--port', 'abc']), /port must be an integer from 0 to 65535, got "abc"/, 'a bad port');
    expectOneLineFailure(run(['replay', 'x.csv', '--speed', 'fast']), /speed must be a positive number or "max", got "fast"/, 'a bad speed');
    expectOneLineFailure(run(['frobnicate']), /unknown command 'frobnicate'/, 'an unknown command');
    const damaged = join(work, 'd3');
    mkdirSync(join(damaged, 'checkpoints'), { recursive: true });
    writeFileSync(join(damaged, 'checkpoints', 'ticks-p0.ckpt'), 'not a checkpoint');
    expectOneLineFailure(
      run(['up', '--port', '0', '--data-dir', damaged]),
      /ticks-p0\.ckpt: is not a valid checkpoint .*delete it to rebuild state from the log/,
      'a damaged checkpoint file names the file and the fix',
    );
  });

  it('reports every configuration problem at once and exits before starting', () => {
    const r = run(['up', '--data-dir', join(work, 'd2')], { STOCKSTREAM_LOG__FSYNC: 'sometimes', STOCKSTREAM_PORTT: '1' });
    expect(r.status, 'an invalid config exits non-zero').toBe(2);
    expect(r.stderr, 'all problems in one message').toMatch(/configuration has 2 problems/);
    expect(r.stderr, 'names the bad value source').toMatch(/log\.fsync: .*\(from environment STOCKSTREAM_LOG__FSYNC\)/);
    expect(r.stderr, 'catches a misspelt variable').toMatch(/unknown setting "portt"/);
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
  });

  it('refuses a scaled-out role the configuration cannot run, naming each setting and its fix', () => {
    const r = run(['up', '--role', 'serve', '--data-dir', join(work, 'role')], { STOCKSTREAM_LOG__KIND: 'journal' });
    expect(r.status, 'a role the config cannot run exits as a config error').toBe(2);
    expect(r.stderr, 'the journal cannot be shared between processes').toMatch(/role: 'serve' needs log\.kind 'kafka', got 'journal'.*STOCKSTREAM_LOG__KIND=kafka/);
    expect(r.stderr, 'serve instances need Redis for live updates').toMatch(/redis\.url: role 'serve' needs Redis.*STOCKSTREAM_REDIS__URL=/);
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    expect(run(['up', '--role', 'everything']).stderr, 'an unknown role lists the choices').toMatch(/all, ingest, process, lake, serve/);
  });

  it('up serves live candles from the simulator quickly, and Ctrl-C stops it cleanly', async () => {
    requireBuild();
    const child = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', join(work, 'up')], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const t0 = Date.now();
    let url: string | undefined;
    let candles: unknown[] = [];
    while (Date.now() - t0 < 20_000) {
      url ??= /Dashboard\s+(http:\/\/\S+?)\/?\n/.exec(stdout)?.[1];
      if (url !== undefined) {
        const res = await fetch(`${url}/api/candles?symbol=AAPL&interval=1s`).catch(() => null);
        if (res?.ok) candles = (await res.json()) as unknown[];
        if (candles.length > 0) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - t0) / 1000;
    expect(url, `up prints the dashboard URL; stdout: ${stdout}`).toBeDefined();
    expect(candles.length, 'live candles are served').toBeGreaterThan(0);
    expect(seconds, 'the quick start serves live candles within 10 s (issue 2)').toBeLessThan(10);
    const page = await fetch(`${url}/`);
    expect(await page.text(), 'the page at / is served').toMatch(/<html/i);
    child.kill('SIGINT');
    expect(await exited, 'Ctrl-C exits 0').toBe(0);
    expect(stdout, 'and says it flushed and stopped').toMatch(/stopped cleanly/);
  }, 60_000);
});
