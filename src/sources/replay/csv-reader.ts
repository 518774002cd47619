import { createInterface } from 'node:readline';
import { StockStreamError } from '../../shared/errors.js';
import type { RawRecord } from '../source.js';
import { splitCsvLine } from './csv-line.js';
import { fileError, openForReading } from './file-error.js';
import type { ReaderOptions, ReplayChunk } from './replay-chunk.js';
import { RowDecoder } from './row-decoder.js';

/**
 * CSV decoder. Format: UTF-8 (optional BOM), LF or CRLF, comma-separated, a header row first, e.g.
 *   ts,symbol,price,size                          (ticks; optional kind,id,bid,ask,bidSize,askSize)
 *   1704205800000,AAPL,190.10,100
 *   date,symbol,open,high,low,close,volume        (bars; optional interval, default 1m)
 *   2024-01-02,AAPL,187.15,188.44,183.89,185.64,82488700
 * Column rules and time formats: row-decoder.ts and event-time.ts. Blank lines are skipped. A row
 * without an id gets `<file basename>:<line number>` (the header is line 1), stable across replays.
 * Read line by line, so memory does not grow with the file.
 */
export async function* readCsv(o: ReaderOptions): AsyncGenerator<ReplayChunk> {
  const fh = await openForReading(o.file);
  const stream = fh.createReadStream({ encoding: 'utf8', highWaterMark: 1 << 20 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let decoder: RowDecoder | null = null;
  let lineNo = 0;
  let records: RawRecord[] = [];
  let times: number[] = [];
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (line.trim() === '') continue;
      if (decoder === null) {
        decoder = new RowDecoder(splitCsvLine(line), o.file, o.source);
        continue;
      }
      const event = decoder.decode(splitCsvLine(line), lineNo);
      records.push(event);
      if (o.needTimes) times.push(typeof event['ts'] === 'number' ? event['ts'] : NaN);
      if (records.length >= o.batchSize) {
        yield { records, times };
        records = [];
        times = [];
      }
    }
  } catch (err) {
    throw err instanceof StockStreamError ? err : fileError(o.file, 'read the file', err);
  } finally {
    lines.close();
    stream.destroy();
  }
  if (decoder === null) {
    throw new StockStreamError('SS_CLI_FILE', `${o.file}: the file is empty, expected a header row such as "ts,symbol,price,size" and data rows`, {
      context: { file: o.file },
    });
  }
  if (records.length > 0) yield { records, times };
}
