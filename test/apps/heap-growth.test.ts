import { afterEach, describe, expect, it, vi } from 'vitest';

const setFlagsFromString = vi.fn<(flags: string) => void>();
vi.mock('node:v8', () => ({ default: { setFlagsFromString } }));
const { setHeapGrowingPercent } = await import('../../src/apps/heap-growth.js');

describe('setHeapGrowingPercent', () => {
  afterEach(() => setFlagsFromString.mockClear());

  it('hands V8 the configured growth as its --heap-growing-percent flag', () => {
    setHeapGrowingPercent(200);
    expect(setFlagsFromString.mock.calls, 'one flag string, the percent as configured').toEqual([['--heap-growing-percent=200']]);
  });

  it('sets 0 too, so a platform configured with 0 gives the decision back to V8 after another set it', () => {
    setHeapGrowingPercent(150);
    setHeapGrowingPercent(0);
    expect(setFlagsFromString.mock.calls.at(-1), "0 is V8's own default: dynamic growth").toEqual(['--heap-growing-percent=0']);
  });
});
