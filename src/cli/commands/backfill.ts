import cliProgress from 'cli-progress';
import { backfillFiles, backfillFromLog } from '../../apps/index.js';
import { StockStreamError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { configFrom, untilSignal, type CommonOptions } from './options.js';

function progressBar(): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    {
      format: '{file} [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
      noTTYOutput: true,
      notTTYSchedule: 5_000,
    },
    cliProgress.Presets.shades_classic,
  );
}

/**
 * `stockstream backfill <files…>`: rebuild bronze to gold from recorded files, with a progress bar
 * (rows, rate, ETA) on stderr. Ctrl-C stops cleanly; the same command resumes.
 */
export async function runBackfill(files: string[], opts: CommonOptions & { models: boolean; fromLog?: boolean; from?: string; to?: string }): Promise<void> {
  const config = configFrom(opts, { source: 'replay', 'ingest.unknownSymbols': 'accept' });
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  if (opts.fromLog === true) {
    if (files.length > 0) throw new StockStreamError('SS_CLI_USAGE', 'backfill: give files or --from-log, not both');
    if (opts.from === undefined) throw new StockStreamError('SS_CLI_USAGE', 'backfill --from-log: --from YYYY-MM-DD is required (and --to, default the same day)');
    const bar = progressBar();
    let started = false;
    const r = await backfillFromLog(config, { from: opts.from, to: opts.to ?? opts.from }, {
      logger,
      runModels: opts.models,
      onProgress: (p) => {
        if (!started) {
          bar.start(p.total, 0, { file: p.file, rate: 0 });
          started = true;
        }
        bar.update(p.done, { file: p.file, rate: 0 });
      },
    });
    if (started) bar.stop();
    process.stdout.write(`Rebuilt bronze for ${r.datesRebuilt.length > 0 ? r.datesRebuilt.join(', ') : 'no date (the log holds nothing in that range)'} from ${r.scanned} log records (${r.files} files).\n`);
    if (r.models !== null) process.stdout.write(`Models: full refresh, run ${r.models.runId} ${r.models.status}, ${r.models.rows} rows in ${(r.models.durationMs / 1000).toFixed(1)} s.\n`);
    return;
  }
  if (files.length === 0) throw new StockStreamError('SS_CLI_USAGE', 'backfill: name the files to load, or use --from-log --from YYYY-MM-DD [--to YYYY-MM-DD]');
  const abort = new AbortController();
  void untilSignal().then(() => abort.abort());
  const bar = progressBar();
  let current = '';
  let started = 0;
  let from = 0;
  const result = await backfillFiles(config, files, {
    logger,
    signal: abort.signal,
    runModels: opts.models,
    onProgress: (p) => {
      if (p.file !== current) {
        if (current !== '') bar.stop();
        current = p.file;
        started = performance.now();
        from = p.done;
        bar.start(p.total, p.done, { file: p.file, rate: 0 });
      }
      const secs = (performance.now() - started) / 1000;
      bar.update(p.done, { file: p.file, rate: secs > 0 ? Math.round((p.done - from) / secs) : 0 });
    },
  });
  if (current !== '') bar.stop();
  if (abort.signal.aborted) {
    process.stderr.write('Interrupted. Run the same command again to resume where it stopped.\n');
    process.exitCode = 130;
    return;
  }
  for (const f of result.files) process.stdout.write(`${f.file}: ${f.records} records${f.resumedAt > 0 ? ` (resumed after ${f.resumedAt})` : ''}\n`);
  process.stdout.write(`Ingested ${result.accepted} events, ${result.rejected} rejected (see bronze.rejects).\n`);
  const m = result.models;
  if (m !== null) {
    process.stdout.write(`Models: run ${m.runId} ${m.status}, ${m.rows} rows in ${(m.durationMs / 1000).toFixed(1)} s (${m.models.filter((x) => x.status === 'success').length} models). Query with: stockstream sql "SELECT * FROM gold.ohlc_daily"\n`);
  }
}
