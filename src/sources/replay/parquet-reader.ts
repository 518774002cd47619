import { DuckDBInstance } from '@duckdb/node-api';
import { StockStreamError } from '../../shared/errors.js';
import type { RawRecord } from '../source.js';
import { openForReading } from './file-error.js';
import type { ReaderOptions, ReplayChunk } from './replay-chunk.js';
import { RowDecoder, type Cell } from './row-decoder.js';

/**
 * Parquet decoder, through DuckDB's `read_parquet`. Columns as for CSV (row-decoder.ts). The time
 * column may be TIMESTAMP, TIMESTAMPTZ or DATE (converted to epoch ms in SQL), a number of
 * epoch seconds/ms/µs/ns, or ISO-8601 text. Every other column is cast to VARCHAR and decoded like
 * a CSV cell, so a bad value is rejected by ingest with the same message whatever the format. A
 * row without an id gets `<file basename>:<row number>` (first row = 1). Streamed one DuckDB chunk
 * (2,048 rows) at a time.
 */
export async function* readParquet(o: ReaderOptions): AsyncGenerator<ReplayChunk> {
  // Fail with the OS reason (ENOENT, EACCES) rather than DuckDB's glob message.
  await (await openForReading(o.file)).close();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const from = `read_parquet('${o.file.replaceAll("'", "''")}')`;
    let columns: { name: string; type: string }[];
    try {
      const described = await connection.run(`DESCRIBE SELECT * FROM ${from}`);
      columns = (await described.getRowObjectsJS()).map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
    } catch (err) {
      throw new StockStreamError('SS_CLI_FILE', `${o.file}: not a readable Parquet file (${(err as Error).message.split('\n')[0]}); check that it is Parquet or pass another format`, {
        cause: err,
        context: { file: o.file },
      });
    }
    const decoder = new RowDecoder(
      columns.map((c) => c.name),
      o.file,
      o.source,
    );
    const timeAliases = new Set(['ts', 'time', 'timestamp', 'date', 'datetime']);
    const select = columns
      .map((c) => {
        const q = `"${c.name.replaceAll('"', '""')}"`;
        if (timeAliases.has(c.name.trim().toLowerCase()) && /^(TIMESTAMP|DATE)/.test(c.type)) {
          return /^DATE/.test(c.type) ? `CAST(epoch_ms(CAST(${q} AS TIMESTAMP)) AS DOUBLE)` : `CAST(epoch_ms(${q}) AS DOUBLE)`;
        }
        return `CAST(${q} AS VARCHAR)`;
      })
      .join(', ');
    const result = await connection.stream(`SELECT ${select} FROM ${from}`);
    let row = 0;
    while (true) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const rows = chunk.getRows() as Cell[][];
      for (let start = 0; start < rows.length; start += o.batchSize) {
        const records: RawRecord[] = [];
        const times: number[] = [];
        for (const cells of rows.slice(start, start + o.batchSize)) {
          const event = decoder.decode(cells, ++row);
          records.push(event);
          if (o.needTimes) times.push(typeof event['ts'] === 'number' ? event['ts'] : NaN);
        }
        yield { records, times };
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
