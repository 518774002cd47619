import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/shared/config/index.js';
import { isStockStreamError } from '../../src/shared/errors.js';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isStockStreamError(err, 'SS_CONFIG_INVALID'), 'config failures carry SS_CONFIG_INVALID').toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('gives documented defaults with no file and no environment', () => {
    const c = loadConfig({ env: {}, file: undefined });
    expect(c.port, 'the quick start serves on 8080').toBe(8080);
    expect(c.source, 'the quick start runs the simulator').toBe('simulator');
    expect(c.simulator.calendar, 'the quick start keeps markets open at any hour').toBe('always-open');
    expect(c.processing.allowedLatenessMs, 'allowed lateness defaults to 2 s (issue 2)').toBe(2000);
    expect(c.processing.heapGrowingPercent, 'the old generation may grow 3x between full GCs (the latency bench p99 depends on it)').toBe(200);
    expect(Object.isFrozen(c.log), 'config is frozen after validation').toBe(true);
  });

  it('layers file < environment < overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-config-'));
    const file = join(dir, 'stockstream.yaml');
    writeFileSync(file, 'port: 9000\nlog:\n  fsync: always\nsimulator:\n  seed: 7\n');
    const c = loadConfig({ file, env: { STOCKSTREAM_PORT: '9100', STOCKSTREAM_SIMULATOR__RATE_PER_SEC: '5000' }, overrides: { 'simulator.seed': 8 } });
    expect(c.port, 'environment beats the file').toBe(9100);
    expect(c.log.fsync, 'file values survive when nothing overrides them').toBe('always');
    expect(c.simulator.ratePerSec, 'nested env names use __').toBe(5000);
    expect(c.simulator.seed, 'flags beat everything').toBe(8);
  });

  it('reports every problem at once, naming the setting and where it came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-config-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'port: 99999\nlog:\n  fsync: sometimes\nprocesing: {}\n');
    const msg = problemsOf(() => loadConfig({ file, env: { STOCKSTREAM_SIMULATOR__SEED: 'abc', STOCKSTREAM_PROCESSING__HEAP_GROWING_PERCENT: '12.5' } }));
    expect(msg, 'the count of problems leads the message').toMatch(/^configuration has 5 problems/);
    expect(msg, 'a fractional heap growth is refused: V8 takes whole percents').toMatch(/processing\.heapGrowingPercent: .*expected int.*STOCKSTREAM_PROCESSING__HEAP_GROWING_PERCENT/);
    expect(msg, 'an out-of-range port is named').toMatch(/port: .*65535.* \(from .*bad\.yaml\)/);
    expect(msg, 'a bad enum names the allowed values').toMatch(/log\.fsync: .*"always".*"batch".*"never"/);
    expect(msg, 'a typo is an unknown setting, not a silent default').toMatch(/unknown setting "procesing"/);
    expect(msg, 'env-sourced problems name the variable').toMatch(/simulator\.seed: .*\(from environment STOCKSTREAM_SIMULATOR__SEED\)/);
  });

  it('fails clearly when an explicit file is missing or not YAML', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/ss.yaml', env: {} })), 'a missing explicit file names the path and the fix').toMatch(/config file \/nonexistent\/ss\.yaml: cannot be read \(ENOENT\); pass an existing file/);
    const dir = mkdtempSync(join(tmpdir(), 'ss-config-'));
    const file = join(dir, 'x.yaml');
    writeFileSync(file, 'port: [1,\n');
    expect(problemsOf(() => loadConfig({ file, env: {} })), 'broken YAML is named as such').toMatch(/not valid YAML/);
  });
});
