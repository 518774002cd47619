import { runBenchmarks } from '../../../bench/run.js';

/** `stockstream bench`: the same suite as `npm run bench`. */
export async function runBench(opts: { quick?: boolean; write?: boolean }): Promise<void> {
  await runBenchmarks({ quick: opts.quick ?? false, write: opts.write ?? false });
}
