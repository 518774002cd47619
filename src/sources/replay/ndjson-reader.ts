import { createInterface } from 'node:readline';
import type { ReaderOptions, ReplayChunk } from './replay-chunk.js';
import { fileError, openForReading } from './file-error.js';

/**
 * NDJSON decoder. Format: one market event per line in the wire format of src/domain/validate.ts,
 *   {"kind":"trade","symbol":"AAPL","ts":1704205800000,"source":"x","id":"1","price":190.1,"size":100}
 * UTF-8, LF or CRLF line ends, optional BOM; blank lines are skipped. Lines go to the sink as text,
 * unparsed: ingest parses and validates each once, so a malformed line becomes a reject naming the
 * problem, never a crash. For pacing only, `ts` is picked out of the text with a pattern (no JSON
 * parse); a line without a readable ts travels with its neighbours.
 */
export async function* readNdjson(o: ReaderOptions): AsyncGenerator<ReplayChunk> {
  const fh = await openForReading(o.file);
  const stream = fh.createReadStream({ encoding: 'utf8', highWaterMark: 1 << 20 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let records: string[] = [];
  let times: number[] = [];
  let first = true;
  try {
    for await (const raw of lines) {
      let line = raw;
      if (first) {
        first = false;
        if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      }
      if (line.trim() === '') continue;
      records.push(line);
      if (o.needTimes) times.push(timeOf(line));
      if (records.length >= o.batchSize) {
        yield { records, times };
        records = [];
        times = [];
      }
    }
  } catch (err) {
    throw fileError(o.file, 'read the file', err);
  } finally {
    lines.close();
    stream.destroy();
  }
  if (records.length > 0) yield { records, times };
}

const TS_RE = /"ts"\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/;

function timeOf(line: string): number {
  const m = TS_RE.exec(line);
  return m === null ? NaN : Number(m[1]);
}
