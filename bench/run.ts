/**
 * `npm run bench` / `stockstream bench`: every benchmark of the embedded core in one run, each
 * figure next to its peer measured in the same run, and (with --write) BENCHMARKS.md updated with
 * the machine description. Performance is proven here, never by timed unit tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';
import { benchDashboard, dashboardBenchMissing } from './dashboard.js';
import { FEED_RATE, benchE2e } from './e2e.js';
import { benchIndicators, formatIndicatorBench } from './indicators.js';
import { benchBackfill, benchBronze, benchFreshness } from './lake.js';
import { benchLatency } from './latency.js';
import { benchKafka } from './kafka.js';
import { benchJournal } from './log-journal.js';
import { benchMemory } from './memory.js';

export interface BenchOptions {
  quick: boolean;
  write: boolean;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let disk = '';
  try {
    disk = execFileSync('df', ['-h', '--output=source,fstype', '.'], { encoding: 'utf8' }).trim().split('\n')[1]?.trim() ?? '';
  } catch {
    disk = 'unknown';
  }
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}, data dir on ${disk}`;
}

export async function runBenchmarks(options: BenchOptions): Promise<void> {
  const lines: string[] = [];
  const say = (s: string): void => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  say(`Machine: ${machine()}`);
  say(`Date: ${new Date().toISOString().slice(0, 10)}; command: npm run bench${options.quick ? ' -- --quick' : ''}`);
  say('');

  const e2e = await benchE2e({ ticks: options.quick ? 200_000 : 1_000_000 });
  say('## End to end, one core');
  say('');
  say(`Parse → validate → journal append (group commit, fsync batch) → dedup → candles at 6 intervals → KPIs → live store rings, with the 7 default indicators maintained (their state takes each bar as the live ring evicts it; values for every held candle are replayed exactly on request, so no indicator work happens per tick). ~100-byte JSON trades over 1,000 symbols; event time advances as a ${fmt(FEED_RATE)} ticks/s feed would.`);
  say('');
  say('| measure | value |');
  say('|---|---|');
  say(`| ticks | ${fmt(e2e.ticks)} (batches of ${fmt(e2e.batchSize)}, 4 in flight) |`);
  say(`| bare JSON.parse of the same messages (peer, best of 3 passes) | ${fmt(e2e.jsonParsePerSec)} msg/s |`);
  say(`| StockStream end to end (best of 3 passes, interleaved with the peer's) | ${fmt(e2e.pipelinePerSec)} ticks/s |`);
  say(`| **ratio to JSON.parse** | **${e2e.ratio.toFixed(2)}** (target ≥ 0.5, stretch 0.7) |`);
  say(`| ingest only (parse, validate, encode, durable append; best of 3 passes) | ${fmt(e2e.ingestOnlyPerSec)} ticks/s (${(e2e.ingestOnlyPerSec / e2e.jsonParsePerSec).toFixed(2)} × JSON.parse) |`);
  say('');

  // Three runs, each in a fresh process; the median one by p99 is the figure. One 10 s run on
  // this shared 2-core VM read anywhere from ~3 to ~10 ms at the same code (a neighbour's burst
  // lands in one run's tail, not in all three).
  const latRuns = Array.from({ length: options.quick ? 1 : 3 }, () => benchLatency({ seconds: options.quick ? 4 : 10 })).sort((a, b) => a.written.p99 - b.written.p99);
  const lat = latRuns[Math.floor(latRuns.length / 2)] as (typeof latRuns)[number];
  say('## Latency, tick handed to ingest → its WebSocket frame');
  say('');
  say(
    `${fmt(lat.ratePerSec)} ticks/s steady over 1,000 symbols for ${lat.seconds} s after a 2 s warm-up, fsync 'batch' (durable before processing), one client in a separate process subscribed to every symbol's ticks. ${fmt(lat.sent)} ticks sent. "Written": the frame carrying the tick handed to the socket (the target's definition); "received": the client process got it. ${latRuns.length > 1 ? `${latRuns.length} runs, each in a fresh process; the table shows the median run by p99 (written p99 of the runs: ${latRuns.map((r) => `${r.written.p99.toFixed(2)} ms`).join(', ')}).` : ''}`,
  );
  say('');
  say('| until the frame is | p50 | p90 | p99 | max | ticks |');
  say('|---|---:|---:|---:|---:|---:|');
  say(`| written | ${lat.written.p50.toFixed(2)} ms | ${lat.written.p90.toFixed(2)} ms | **${lat.written.p99.toFixed(2)} ms** (target ≤ 5) | ${lat.written.max.toFixed(1)} ms | ${fmt(lat.written.count)} |`);
  say(`| received | ${lat.received.p50.toFixed(2)} ms | ${lat.received.p90.toFixed(2)} ms | ${lat.received.p99.toFixed(2)} ms | ${lat.received.max.toFixed(1)} ms | ${fmt(lat.received.count)} |`);
  say('');

  const mem = benchMemory(options.quick ? 1_000 : 5_000);
  say('## Memory per live symbol');
  say('');
  say(`${fmt(mem.symbols)} symbols through the whole pipeline, then every interval's ring filled past its default depth (so every series holds indicator state for the 7 default indicators; ${fmt(mem.candlesHeld)} candles held).`);
  say('');
  say('| RSS growth per symbol | heap growth per symbol | total RSS |');
  say('|---:|---:|---:|');
  say(`| **${(mem.rssBytesPerSymbol / 1024).toFixed(1)} KB** (target ≤ 100) | ${(mem.heapBytesPerSymbol / 1024).toFixed(1)} KB | ${mem.rssTotalMiB.toFixed(0)} MiB |`);
  say('');

  const ind = await benchIndicators({ bars: options.quick ? 50_000 : 200_000, maxRuns: options.quick ? 5 : 25 });
  say('## Indicator updates against peers');
  say('');
  say(formatIndicatorBench(ind));
  say('');

  const j = await benchJournal({ records: options.quick ? 500_000 : 2_000_000 });
  say('## Journal append');
  say('');
  say(`100-byte records, batches of 1,000 over 8 partitions, fsync 'batch': **${fmt(j.recordsPerSec)} records/s**, ${j.mbPerSec.toFixed(0)} MB/s, ${fmt(j.fsyncs)} fsyncs.`);
  say('');

  const kb = await benchKafka({ ticks: options.quick ? 200_000 : 1_000_000 });
  say('## Scale out: ingest → process over Kafka');
  say('');
  if ('skipped' in kb) {
    say(`Not measured: ${kb.skipped}.`);
  } else {
    say(
      `${fmt(kb.ticks)} of the same ~100-byte JSON ticks over 1,000 symbols, ${kb.partitions} partitions, batches of ${fmt(kb.batchSize)}. Broker: Apache Kafka 4.1.1 from deploy/local/kafka.sh at ${kb.brokers} on this machine (single KRaft node as broker and controller, 512 MiB heap, replication 1, log flush left to the OS page cache, sharing the 2 cores with the benchmark). Peer, in the same run: raw @platformatic/kafka 1.35, an idempotent acks=all producer sending the messages one batch at a time while a consumer group member reads them (time from the first send to the last message read). StockStream: one process running ingest (parse, validate, encode, durable append) and the tick pipelines reading the partitions back through the consumer group (time from the first write to the last tick processed).`,
    );
    say('');
    say('| measure | value |');
    say('|---|---|');
    say(`| raw @platformatic/kafka produce + consume (peer) | ${fmt(kb.rawPerSec)} msg/s |`);
    say(`| StockStream ingest → process over Kafka, one process | ${fmt(kb.oursPerSec)} ticks/s |`);
    say(`| **ratio to the peer** | **${kb.ratio.toFixed(2)}** (target ≥ 0.6) |`);
    say(`| **a process instance alone** (ticks already on Kafka) | **${fmt(kb.processPerSec)} ticks/s** consumed (target ≥ 150,000) |`);
  }
  say('');

  const bf = await benchBackfill({ ticks: options.quick ? 200_000 : 10_000_000 });
  say('## Lakehouse: backfill from a file to gold');
  say('');
  say(
    `${fmt(bf.ticks)} simulated events (default universe, 30 % quotes) in one NDJSON file of ${bf.fileMb.toFixed(0)} MB. Peer, in the same run: bare DuckDB (2 threads) COPY of the file to Parquet, then one-minute OHLC per symbol from it. StockStream: \`stockstream backfill\` — every event validated and made durable in the journal, the live operators (dedup, candles at 6 intervals, KPIs), the bronze writer, then every model (silver, the 7 gold tables).`,
  );
  say('');
  say('| measure | value |');
  say('|---|---|');
  say(`| DuckDB COPY + OHLC (peer) | ${bf.duckdbSeconds.toFixed(1)} s, ${fmt(bf.duckdbPerSec)} events/s |`);
  say(`| StockStream backfill to gold | ${bf.oursSeconds.toFixed(1)} s, ${fmt(bf.oursPerSec)} events/s (models: ${bf.modelsSeconds.toFixed(1)} s) |`);
  say(`| **ratio to the peer** | **${bf.ratio.toFixed(3)}** (target ≥ 0.5) |`);
  // What bounds the ratio (ARCHITECTURE §2.2: candles and indicators by the live operators in
  // backfill too, so every trade takes the tick path; bronze and silver each land every event).
  // Generous to us: quotes cost nothing on the tick path (they make no candles), trades go at the
  // end-to-end rate (all-trade ticks), the landings at DuckDB's own cost, and the models are free.
  const tickPathSeconds = bf.trades / e2e.pipelinePerSec;
  const bothCoresSeconds = (tickPathSeconds + 2 * bf.parquetWriteCpuSeconds) / 2;
  say(`| peer's steps | COPY ${bf.duckdbCopySeconds.toFixed(1)} s, OHLC ${bf.duckdbOhlcSeconds.toFixed(1)} s |`);
  say(`| bound, this design: the ${fmt(bf.trades)} trades through the tick path on its one thread at end to end's rate, all else free | ≥ ${tickPathSeconds.toFixed(1)} s, ratio ≤ ${(bf.duckdbSeconds / tickPathSeconds).toFixed(2)} |`);
  say(
    `| bound, both cores: that tick path's CPU plus two Parquet landings (DuckDB alone, ${bf.parquetWriteCpuSeconds.toFixed(1)} CPU s each), spread perfectly over the 2 cores, models free | ≥ ${bothCoresSeconds.toFixed(1)} s, ratio ≤ ${(bf.duckdbSeconds / bothCoresSeconds).toFixed(2)} |`,
  );
  say('');

  // Measured as the pipeline it is compared with: the best of three runs (each a fresh process).
  const br = Array.from({ length: options.quick ? 1 : 3 }, () => benchBronze({ rows: options.quick ? 200_000 : 1_000_000 })).reduce((a, b) => (b.rowsPerSec > a.rowsPerSec ? b : a));
  say('## Lakehouse: bronze writer sustained rate');
  say('');
  say(`${fmt(br.rows)} events already in the journal (4 partitions), landed by the bronze writer alone in a fresh process, its background loop flushing every 100,000 rows (the next batch is read while DuckDB writes the last): decode, DuckDB staging, a \`COPY … PARTITION_BY (log_partition, date, symbol)\` to snappy Parquet per lane (log partition p % 2; the two run at once), fsync, rename, commit (${fmt(br.files)} files).${options.quick ? '' : ' Best of three runs, as the pipeline figure is the best of three passes.'}`);
  say('');
  say('| bronze writer | live pipeline (end to end, above) | ratio |');
  say('|---:|---:|---:|');
  say(`| ${fmt(br.rowsPerSec)} rows/s | ${fmt(e2e.pipelinePerSec)} ticks/s | **${(br.rowsPerSec / e2e.pipelinePerSec).toFixed(2)}** (must be ≥ 1 not to be the bottleneck) |`);
  say('');

  if (!options.quick) {
    const fr = await benchFreshness();
    say('## Lakehouse: freshness');
    say('');
    say(`\`stockstream up\` with the simulator at its default rate and the default schedule (lake.incremental every minute). Right after an incremental run ends — near the worst case — a marker trade is ingested; gold.ohlc_1m is polled every 250 ms until it shows the marker.`);
    say('');
    say('| tick → visible in gold | incremental run before it |');
    say('|---:|---:|');
    say(`| **${(fr.visibleAfterMs / 1000).toFixed(1)} s** (target ≤ 70 s) | ${(fr.runMs / 1000).toFixed(1)} s |`);
    say('');
  }

  const webMissing = dashboardBenchMissing();
  say('## Dashboard (issue 5)');
  say('');
  if (webMissing !== null) say(`Not measured: ${webMissing}.`);
  else {
    const d = await benchDashboard({ seconds: options.quick ? 8 : 20, firstCandleRuns: options.quick ? 3 : 7 });
    say(`Debian's Chromium (headless, playwright-core) against \`up\`'s platform in this process serving the built app. Initial JavaScript: gzip (level 9) of every script fetched to draw the market overview with its treemap, cold cache. First candle: navigation start → first candle drawn on \`#/symbol/AAPL?i=1m\` (~300 candles of history), fresh context per run. Tick → screen: a trade handed to ingest → the animation frame that shows it in the symbol view (AAPL at ${d.tickToScreen.ratePerSec}/s while ${fmt(d.tickToScreen.backgroundPerSec)} trades/s stream for the other symbols), both on this machine's clock.`);
    say('');
    say('| budget | measured | target |');
    say('|---|---:|---:|');
    say(`| initial JavaScript | **${(d.initialJsGzipBytes / 1024).toFixed(1)} KB gzip** (${d.initialJsFiles} files) | ≤ 300 KB |`);
    say(`| first candle drawn after load | **${fmt(d.firstCandleMs.median)} ms** median, ${fmt(d.firstCandleMs.max)} ms max of ${d.firstCandleMs.runs} | ≤ 1,500 ms |`);
    say(`| tick → screen | **p99 ${d.tickToScreen.p99.toFixed(1)} ms** (p50 ${d.tickToScreen.p50.toFixed(1)}, p90 ${d.tickToScreen.p90.toFixed(1)}, max ${d.tickToScreen.max.toFixed(1)}; ${fmt(d.tickToScreen.count)} ticks) | p99 ≤ 50 ms |`);
  }
  say('');

  if (options.write) {
    const path = 'BENCHMARKS.md';
    let doc = '';
    try {
      doc = readFileSync(path, 'utf8');
    } catch {
      doc = '';
    }
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    const block = `${start}\n${lines.join('\n')}\n${end}`;
    doc = doc.includes(start) ? doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), block) : `${doc}\n${block}\n`;
    writeFileSync(path, doc);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = new Set(process.argv.slice(2));
  await runBenchmarks({ quick: args.has('--quick'), write: args.has('--write') });
}
