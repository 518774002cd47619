/**
 * `stockstream bench`: the same suite as `npm run bench`. Loaded when the command runs: the
 * benchmarks compare against peer libraries that are dev dependencies, which an installed
 * package (or the Docker image) does not have.
 */
export async function runBench(opts: { quick?: boolean; write?: boolean }): Promise<void> {
  const { runBenchmarks } = await import('../../../bench/run.js');
  await runBenchmarks({ quick: opts.quick ?? false, write: opts.write ?? false });
}
