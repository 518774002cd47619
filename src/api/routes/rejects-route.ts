import type { FastifyInstance } from 'fastify';
import type { LogRecord } from '../../log/log.js';
import { DLQ_TOPIC, type DeadLetter } from '../../sources/ingest/index.js';
import { readRange, recordValue, type LogReader } from '../log-view/index.js';
import { optionalInt, rejectUnknown, type Query } from '../schemas/query-params.js';

const MAX_REJECTS = 1000;
const DEFAULT_REJECTS = 100;

/** `GET /api/rejects` row: where the dead letter sits in `ticks.dlq`, its log time, and its own fields. */
export type RejectRow = { partition: number; offset: number; ts: number } & (DeadLetter | { message: string; raw: unknown });

/**
 * Wire format of a `ticks.dlq` record (sources/ingest/ingest-writer.ts): the value is the UTF-8
 * JSON of a DeadLetter {"rule", "field", "value", "message", "source", "raw", "receivedAt"}; the
 * key is the raw input's symbol (else the source); headers `rule` and `field`. A record that is
 * not such an object (another producer on Kafka) is shown with a message saying so.
 */
function toRejectRow(r: LogRecord): RejectRow {
  const at = { partition: r.partition, offset: r.offset, ts: r.timestamp };
  const shown = recordValue(r.value);
  if (shown.encoding === 'json' && typeof shown.value === 'object' && shown.value !== null && !Array.isArray(shown.value)) {
    return { ...at, ...(shown.value as DeadLetter) };
  }
  return {
    ...at,
    message: `this ${DLQ_TOPIC} record is not a dead-letter JSON object; GET /api/topics/${DLQ_TOPIC}/messages?partition=${r.partition}&offset=${r.offset}&limit=1 shows it as stored`,
    raw: shown.value,
  };
}

/**
 * `GET /api/rejects?limit=100`: the newest dead letters, newest first. Reads only the last
 * `limit` records of each partition of `ticks.dlq` (from the offsets `topics()` reports), never
 * the whole topic, then keeps the newest `limit` by log time.
 */
export function registerRejectsRoute(app: FastifyInstance, log: LogReader): void {
  app.get('/api/rejects', async (request) => {
    const query = request.query as Query;
    rejectUnknown(query, ['limit']);
    const limit = optionalInt(query, 'limit', 1, MAX_REJECTS, DEFAULT_REJECTS);
    const topic = (await log.topics()).find((t) => t.name === DLQ_TOPIC);
    if (topic === undefined) return [];
    const rows: RejectRow[] = [];
    for (const p of topic.partitions) {
      const records = await readRange(log, DLQ_TOPIC, p.partition, Math.max(p.startOffset, p.endOffset - limit), p.endOffset, limit);
      for (const r of records) rows.push(toRejectRow(r));
    }
    rows.sort((a, b) => b.ts - a.ts || a.partition - b.partition || b.offset - a.offset);
    return rows.slice(0, limit);
  });
}
