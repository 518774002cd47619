import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { describeFailure } from './errors.js';
import { runBackfill } from './commands/backfill.js';
import { runBench } from './commands/bench.js';
import { runIndicators } from './commands/indicators.js';
import { runJobs, runModelsRun, runModelsTest, runSql } from './commands/lake.js';
import { runReplay } from './commands/replay.js';
import { runUp } from './commands/up.js';

function int(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

function speed(value: string): number | 'max' {
  if (value === 'max') return 'max';
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`speed must be a positive number or "max", got "${value}"`);
  return n;
}

const program = new Command()
  .name('stockstream')
  .description('Real-time stock market analytics: ticks → candles, indicators and KPIs, live.')
  .version('0.1.0')
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({
    // Commander's own messages already say what was wrong; keep them to one line on stderr.
    writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `stockstream: ${s.slice(7)}` : s),
  });

const common = (cmd: Command): Command =>
  cmd
    .option('--config <file>', 'configuration file (default ./stockstream.yaml when present)')
    .option('--port <port>', 'HTTP port (STOCKSTREAM_PORT)', int('port', 0, 65_535))
    .option('--host <host>', 'interface to listen on (STOCKSTREAM_HOST)')
    .option('--data-dir <dir>', 'journal, checkpoints and lake (STOCKSTREAM_DATA_DIR)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent');

common(program.command('up'))
  .description('run the whole platform embedded in this process and print the dashboard URL; with --role, one part of it scaled out over Kafka')
  .addOption(new Option('--role <role>', 'what this process runs: all, or one of ingest, process, lake, serve sharing work over Kafka (STOCKSTREAM_ROLE)').choices(['all', 'ingest', 'process', 'lake', 'serve']))
  .addOption(new Option('--source <source>', 'market data source (STOCKSTREAM_SOURCE)').choices(['simulator', 'replay']))
  .option('--seed <n>', 'simulator seed', int('seed', 0, 2 ** 31 - 1))
  .option('--rate <n>', 'simulator events per second', int('rate', 1, 2_000_000))
  .option('--faithful-calendar', 'simulate real exchange sessions (closed at night, lunch break on HOSE)')
  .option('--file <file>', 'file for --source replay')
  .option('--speed <n|max>', 'replay speed for --source replay', speed)
  .action(runUp);

common(program.command('replay'))
  .description('replay a CSV, NDJSON or Parquet file of ticks or bars through the pipeline, keeping event time')
  .argument('<file>', 'ticks or bars (.csv, .ndjson/.jsonl, .parquet)')
  .option('--speed <n|max>', 'multiple of event time, or max', speed, 'max')
  .option('--no-serve', 'do not start the HTTP API while replaying')
  .option('--keep-running', 'keep serving after the file is done')
  .action(runReplay);

program
  .command('indicators')
  .description('compute indicators over an OHLCV CSV and print JSON aligned to the input rows')
  .requiredOption('--input <file>', 'CSV with a date|time|timestamp column and open,high,low,close,volume')
  .requiredOption('--indicators <specs>', 'comma-separated, e.g. sma:20,rsi:14,macd:12:26:9,bbands:20:2')
  .action(runIndicators);

const lakeOptions = (cmd: Command): Command =>
  cmd.option('--config <file>', 'configuration file (default ./stockstream.yaml when present)').option('--data-dir <dir>', 'where the lake lives (STOCKSTREAM_DATA_DIR)');

lakeOptions(program.command('backfill'))
  .description('rebuild the lake (bronze to gold) from recorded files through the real pipeline, or from the log for a range of dates; with a progress bar; resumable')
  .argument('[files...]', 'CSV, NDJSON or Parquet files of ticks or bars')
  .option('--from-log', 'rebuild bronze for --from..--to (UTC dates) from the journal, then every model')
  .option('--from <date>', 'first UTC date YYYY-MM-DD (with --from-log)')
  .option('--to <date>', 'last UTC date YYYY-MM-DD (with --from-log; default --from)')
  .option('--no-models', 'land bronze only; do not run the models afterwards')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
  .action(runBackfill);

lakeOptions(program.command('sql'))
  .description('run a read-only SQL query over the lake: bronze.*, silver.*, gold.*, meta.* (uses a running `up` when there is one)')
  .argument('<query>', 'one SELECT, e.g. "SELECT * FROM gold.ohlc_1m WHERE symbol = \'AAPL\' ORDER BY start DESC LIMIT 5"')
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
  .action(runSql);

const models = program.command('models').description('run and test the SQL models (models/bronze, silver, gold)');
lakeOptions(models.command('run'))
  .description('materialize the models, incrementally (only new data) unless --full-refresh')
  .option('--select <selector>', 'models to run: name, name+ (and downstream), +name (and upstream), or a layer')
  .option('--full-refresh', 'rebuild the selected models from all their input')
  .action(runModelsRun);
lakeOptions(models.command('test'))
  .description('run the data tests declared beside the models; exits 1 if any fails')
  .option('--select <selector>', 'models whose tests to run')
  .action(runModelsTest);

lakeOptions(program.command('jobs'))
  .description('scheduled lake jobs: list, runs [job] (history), run <job> (now)')
  .argument('<action>', 'list | runs | run')
  .argument('[job]', 'job name, e.g. lake.incremental')
  .option('--limit <n>', 'runs to show', int('limit', 1, 10_000))
  .action(runJobs);

program
  .command('bench')
  .description('run the benchmarks and print the figures (also: npm run bench)')
  .option('--quick', 'shorter runs, for a smoke check')
  .option('--write', 'update BENCHMARKS.md with the results')
  .action(runBench);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const { text, exitCode } = describeFailure(err);
    process.stderr.write(`${text}\n`);
    process.exitCode = exitCode;
  }
}
