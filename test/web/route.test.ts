import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../web/src/backoff.js';
import { parseHash } from '../../web/src/route.js';

describe('dashboard routes', () => {
  it('reads the view, its path and its query from the hash; no hash is the overview', () => {
    const r = parseHash('#/symbol/BRK.B?i=5m');
    expect(r.view).toBe('symbol');
    expect(r.params.path).toEqual(['BRK.B']);
    expect(r.params.query.get('i')).toBe('5m');
    expect(parseHash('').view).toBe('overview');
    expect(parseHash('#/topics/ticks.dlq').params.path, 'a dotted topic name stays one segment').toEqual(['ticks.dlq']);
    expect(parseHash('#/topics/a%2Fb').params.path, 'segments are URI-decoded').toEqual(['a/b']);
  });
});

describe('reconnect backoff', () => {
  it('doubles from 0.25 s to a 10 s ceiling, with ±25 % jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, () => 0.5)), 'no jitter at the midpoint').toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffMs(0, () => 0)).toBe(188);
    expect(backoffMs(10, () => 0.999999)).toBe(12_500);
  });
});
