/**
 * mulberry32: a tiny seeded PRNG (https://gist.github.com/tommyettinger/46a874533244883189143505d203312c)
 * so randomized tests replay exactly from the seed they print on failure.
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

/** Standard normal deviate by Box–Muller. */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The seed for a randomized test: STOCKSTREAM_TEST_SEED replays a failure, else a fixed default. */
export function testSeed(fallback: number): number {
  const env = process.env.STOCKSTREAM_TEST_SEED;
  return env !== undefined && env !== '' ? Number(env) >>> 0 : fallback;
}
