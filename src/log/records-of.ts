import { StockStreamError } from '../shared/errors.js';
import type { ProducerRecord, RecordCodec } from './log.js';

/** Where recordsOf encodes a batch before one copy to a buffer of its exact size; grows as needed. */
let scratch = Buffer.allocUnsafe(1 << 16);
let scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);

/**
 * Refuses an item whose codec gives no string key or no finite timestamp: both logs check every
 * item of an appendItems batch this way before any of it is staged or sent.
 */
export function checkItem(topic: string, i: number, key: unknown, ts: number): asserts key is string {
  if (typeof key !== 'string') throw new StockStreamError('SS_INGEST_REJECT', `Expected item ${i} for '${topic}' to have a string key, got ${typeof key}.`);
  if (!Number.isFinite(ts)) throw new StockStreamError('SS_INGEST_REJECT', `Expected item ${i} for '${topic}' to have a finite epoch-ms timestamp, got ${ts}.`);
}

/**
 * The ProducerRecords of `items` (Log.appendItems for a log that takes records): every value
 * encoded into one buffer and each a view of it, the item as the payload. The values go into a
 * reused scratch against `maxBytes`, then one copy to a buffer of the exact size, so a record
 * kept for long keeps only its own batch's bytes. The batch is checked first (checkItem).
 */
export function recordsOf<T>(topic: string, items: readonly T[], codec: RecordCodec<T>): ProducerRecord[] {
  const n = items.length;
  for (let i = 0; i < n; i++) checkItem(topic, i, codec.key(items[i] as T), codec.timestamp(items[i] as T));
  const ends = new Int32Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const item = items[i] as T;
    const room = codec.maxBytes(item);
    if (pos + room > scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + room));
      scratch.copy(grown, 0, 0, pos);
      scratch = grown;
      scratchView = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
    }
    pos = codec.write(item, scratch, scratchView, pos);
    ends[i] = pos;
  }
  const buf = Buffer.allocUnsafe(pos);
  scratch.copy(buf, 0, 0, pos);
  const records = new Array<ProducerRecord>(n);
  for (let i = 0, at = 0; i < n; i++) {
    const item = items[i] as T;
    const end = ends[i] as number;
    records[i] = { key: codec.key(item), value: new Uint8Array(buf.buffer, buf.byteOffset + at, end - at), timestamp: codec.timestamp(item), payload: item };
    at = end;
  }
  return records;
}
