/**
 * `npm run bench` / `stockstream bench`: every benchmark of the embedded core in one run, each
 * figure next to its peer measured in the same run, and (with --write) BENCHMARKS.md updated with
 * the machine description. Performance is proven here, never by timed unit tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';
import { benchE2e } from './e2e.js';

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
  say('## End to end (parse → validate → journal, group commit, fsync batch → dedup → 6 candle intervals → KPIs → 7 indicators → live store)');
  say(`| measure | value |`);
  say(`|---|---|`);
  say(`| ticks | ${fmt(e2e.ticks)} (~100-byte JSON, 1,000 symbols, batches of ${fmt(e2e.batchSize)}) |`);
  say(`| bare JSON.parse (peer) | ${fmt(e2e.jsonParsePerSec)} msg/s |`);
  say(`| StockStream end to end | ${fmt(e2e.pipelinePerSec)} ticks/s |`);
  say(`| **ratio to JSON.parse** | **${e2e.ratio.toFixed(2)}** (target ≥ 0.5, stretch 0.7) |`);
  say(`| ingest only (parse, validate, encode, journal) | ${fmt(e2e.ingestOnlyPerSec)} ticks/s |`);
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
