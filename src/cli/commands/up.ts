import { Platform, createSource, runSource } from '../../apps/index.js';
import { createLogger } from '../../shared/logger.js';
import { defaultUniverse } from '../../sources/simulator/index.js';
import { configFrom, untilSignal, type CommonOptions } from './options.js';

export interface UpOptions extends CommonOptions {
  source?: 'simulator' | 'replay';
  seed?: number;
  rate?: number;
  faithfulCalendar?: boolean;
  file?: string;
  speed?: number | 'max';
}

/** `stockstream up`: the whole platform in this process until Ctrl-C, then a clean shutdown. */
export async function runUp(opts: UpOptions): Promise<void> {
  const config = configFrom(opts, {
    source: opts.source,
    'simulator.seed': opts.seed,
    'simulator.ratePerSec': opts.rate,
    'simulator.calendar': opts.faithfulCalendar ? 'faithful' : undefined,
    'replay.file': opts.file,
    'replay.speed': opts.speed,
  });
  const logger = createLogger(config.logLevel);
  // The simulator's start prices play the previous session's close, so change % is live at once.
  const prevCloses = config.source === 'simulator' ? new Map(defaultUniverse().map((i) => [i.symbol, i.startPrice])) : undefined;
  const platform = await Platform.start({ config, logger, acceptHistory: config.source === 'replay', ...(prevCloses ? { prevCloses } : {}) });
  const source = createSource(config, platform);
  const run = await runSource(platform, source, config.source === 'replay' && config.replay.file ? { resumeInput: config.replay.file } : {});
  const what =
    config.source === 'simulator'
      ? `simulated market, seed ${config.simulator.seed}, ${config.simulator.ratePerSec} events/s, ${config.simulator.calendar === 'always-open' ? 'markets always open' : 'real exchange hours'}`
      : `replay of ${config.replay.file} at ${config.replay.speed === 'max' ? 'max speed' : `${config.replay.speed}x`}`;
  process.stdout.write(
    `StockStream is up: ${what}\n` +
      `  Dashboard  ${platform.url}/\n` +
      `  API        ${platform.url}/api/health · /api/candles?symbol=AAPL&interval=1m · /api/kpis\n` +
      `  Stream     ${platform.url?.replace(/^http/, 'ws')}/api/stream\n` +
      `  Data       ${config.dataDir}\n` +
      `Press Ctrl-C to stop.\n`,
  );
  if (config.source === 'simulator' && config.simulator.calendar === 'faithful') {
    const now = Date.now();
    const exchanges = [...new Set(platform.store.instruments().map((i) => i.exchange))];
    for (const ex of exchanges) {
      const cal = platform.calendarOfExchange(ex);
      const phase = cal.phaseAt(now);
      const next = phase === 'regular' ? '' : `, opens ${new Date(cal.nextOpen(now)).toISOString().replace('.000Z', 'Z')}`;
      process.stdout.write(`  ${ex.padEnd(10)} ${phase}${next}\n`);
    }
  }
  const refresh = setInterval(() => void platform.refreshMetrics().catch(() => undefined), 5_000);
  let stopping = false;
  run.done.then(
    ({ records }) => {
      if (!stopping) logger.info({ records }, 'source finished; still serving');
    },
    (err: unknown) => logger.error({ err }, 'source stopped with an error; still serving what was ingested'),
  );
  const signal = await untilSignal();
  stopping = true;
  process.stdout.write(`\n${signal}: stopping (flush, checkpoint, commit)…\n`);
  clearInterval(refresh);
  await run.stop();
  await run.done.catch(() => undefined);
  await platform.close();
  process.stdout.write('StockStream stopped cleanly.\n');
}
