import { readFile } from 'node:fs/promises';
import { computeIndicators, parseIndicatorSpec, readOhlcvCsv } from '../../processors/indicators/index.js';
import { StockStreamError } from '../../shared/errors.js';

/**
 * `stockstream indicators --input <csv> --indicators <specs>`: the batch face of the same
 * streaming indicator classes the live pipeline runs. Output format (ARCHITECTURE.md §5):
 * {"rows": n, "indicators": {"<spec>": {"<output>": [number|null, ...]}}}
 */
export async function runIndicators(opts: { input: string; indicators: string }): Promise<void> {
  const specs = opts.indicators.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (specs.length === 0) throw new StockStreamError('SS_CLI_USAGE', '--indicators: expected comma-separated specs such as sma:20,rsi:14, got nothing');
  for (const spec of specs) parseIndicatorSpec(spec);
  let text: string;
  try {
    text = await readFile(opts.input, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StockStreamError('SS_CLI_FILE', `--input ${opts.input}: cannot be read (${e.code ?? e.message}); check the path`, { cause: err });
  }
  const rows = readOhlcvCsv(text);
  process.stdout.write(`${JSON.stringify(computeIndicators(rows, specs))}\n`);
}
