import { Platform, createSource, describeLog, runSource, runs } from '../../apps/index.js';
import { createLogger } from '../../shared/logger.js';
import { defaultUniverse } from '../../sources/simulator/index.js';
import { configFrom, untilSignal, type CommonOptions } from './options.js';

export interface UpOptions extends CommonOptions {
  role?: 'all' | 'ingest' | 'process' | 'lake' | 'serve';
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
    role: opts.role,
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
  // Sources run where ingest does; other roles read what ingest instances put on the log.
  const run = runs(config.role, 'ingest') ? await runSource(platform, createSource(config, platform), config.source === 'replay' && config.replay.file ? { resumeInput: config.replay.file } : {}) : null;
  const what =
    config.source === 'simulator'
      ? `simulated market, seed ${config.simulator.seed}, ${config.simulator.ratePerSec} events/s, ${config.simulator.calendar === 'always-open' ? 'markets always open' : 'real exchange hours'}`
      : `replay of ${config.replay.file} at ${config.replay.speed === 'max' ? 'max speed' : `${config.replay.speed}x`}`;
  if (config.role === 'all') {
    process.stdout.write(
      `StockStream is up: ${what}\n` +
        `  Dashboard  ${platform.url}/\n` +
        `  API        ${platform.url}/api/health · /api/candles?symbol=AAPL&interval=1m · /api/kpis\n` +
        `  Stream     ${platform.url?.replace(/^http/, 'ws')}/api/stream\n` +
        `  Data       ${config.dataDir}\n` +
        `  Log        ${describeLog(config)}\n` +
        `Press Ctrl-C to stop.\n`,
    );
  } else {
    const doing: Record<Exclude<typeof config.role, 'all'>, string> = {
      ingest: `ingesting the ${what} into the log`,
      process: 'processing ticks partitions of consumer group processors (candles, KPIs; live updates to Redis)',
      lake: 'landing the log in the lake and running the lake jobs',
      serve: 'serving the API and dashboard from live updates in Redis',
    };
    process.stdout.write(
      `StockStream ${config.role} instance is up: ${doing[config.role]}\n` +
        (config.role === 'serve' ? `  Dashboard  ${platform.url}/\n` : `  Health     ${platform.url}/api/health · /metrics\n`) +
        `  Log        ${describeLog(config)}\n` +
        (config.redis.url === null ? '' : `  Redis      ${config.redis.url.replace(/\/\/[^@/]*@/, '//***@')}\n`) +
        `Press Ctrl-C to stop.\n`,
    );
  }
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
  run?.done.then(
    ({ records }) => {
      if (!stopping) logger.info({ records }, 'source finished; still serving');
    },
    (err: unknown) => logger.error({ err }, 'source stopped with an error; still serving what was ingested'),
  );
  const signal = await untilSignal();
  stopping = true;
  process.stdout.write(`\n${signal}: stopping (flush, checkpoint, commit)…\n`);
  clearInterval(refresh);
  await run?.stop();
  await run?.done.catch(() => undefined);
  await platform.close();
  process.stdout.write('StockStream stopped cleanly.\n');
}
