import { Platform, runSource } from '../../apps/index.js';
import { createLogger } from '../../shared/logger.js';
import { ReplaySource, openForReading } from '../../sources/replay/index.js';
import { configFrom, untilSignal, type CommonOptions } from './options.js';

export interface ReplayOptions extends CommonOptions {
  speed: number | 'max';
  serve: boolean;
  keepRunning?: boolean;
}

/**
 * `stockstream replay <file>`: ingest a recorded file through the real pipeline (journal,
 * candles, indicators), keeping event time; prints a summary when done. A crashed replay started
 * again resumes where the log stands, so no event is logged twice.
 */
export async function runReplay(file: string, opts: ReplayOptions): Promise<void> {
  const config = configFrom(opts, { source: 'replay', 'replay.file': file, 'replay.speed': opts.speed, 'ingest.unknownSymbols': 'accept' });
  // An unreadable file fails here, before the platform starts and prints its dashboard URL.
  await (await openForReading(file)).close();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const source = new ReplaySource({ file, speed: opts.speed });
  const platform = await Platform.start({ config, logger, serve: opts.serve, acceptHistory: true, idleWatermarks: opts.speed !== 'max' });
  try {
    if (platform.url !== null) process.stdout.write(`Replaying ${file}; dashboard ${platform.url}/\n`);
    const run = await runSource(platform, source, { resumeInput: file });
    const interrupted = untilSignal().then(async () => {
      await run.stop();
      return 'interrupted' as const;
    });
    const outcome = await Promise.race([run.done, interrupted]);
    if (outcome !== 'interrupted') {
      await platform.runner.waitFor(await platform.ticksEnd());
      await platform.runner.checkpoint();
      const s = platform.ingest.stats();
      const live = platform.store.stats();
      process.stdout.write(
        `Replayed ${outcome.records} records${outcome.resumedAt > 0 ? ` (resumed after ${outcome.resumedAt})` : ''}: ` +
          `${s.accepted} accepted, ${s.rejected} rejected${s.rejected > 0 ? ` (${Object.entries(s.rejectsByRule).map(([r, n]) => `${r}: ${n}`).join(', ')}; see topic ticks.dlq)` : ''}; ` +
          `${live.symbols} symbol${live.symbols === 1 ? "" : "s"} live.\n`,
      );
      if (opts.keepRunning && platform.url !== null) {
        process.stdout.write('Still serving; Ctrl-C to stop.\n');
        await untilSignal();
      }
    }
  } finally {
    await platform.close();
  }
}
