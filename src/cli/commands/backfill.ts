import cliProgress from 'cli-progress';
import { backfillFiles } from '../../apps/index.js';
import { createLogger } from '../../shared/logger.js';
import { configFrom, untilSignal, type CommonOptions } from './options.js';

/**
 * `stockstream backfill <files…>`: rebuild bronze to gold from recorded files, with a progress bar
 * (rows, rate, ETA) on stderr. Ctrl-C stops cleanly; the same command resumes.
 */
export async function runBackfill(files: string[], opts: CommonOptions & { models: boolean }): Promise<void> {
  const config = configFrom(opts, { source: 'replay', 'ingest.unknownSymbols': 'accept' });
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const abort = new AbortController();
  void untilSignal().then(() => abort.abort());
  const bar = new cliProgress.SingleBar(
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
