import { StockStreamError } from '../shared/errors.js';
import type { ProducerRecord, RecordCodec } from './log.js';

/** Where recordsOf encodes a batch before one copy to a buffer of its exact size; grows as needed. */
let scratch = Buffer.allocUnsafe(1 << 16);
let scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);

/**
 * The ProducerRecords of `items` (Log.appendItems for a log that takes records): every value
 * encoded into one buffer and each a view of it, the item as the payload. The values go into a
 * reused scratch against `maxBytes`, then one copy to a buffer of the exact size, so a record
 * kept for long keeps only its own batch's bytes. An item without a string key or a finite
 * timestamp refuses the batch before anything is encoded, as the journal does.
 */
export function recordsOf<T>(items: readonly T[], codec: RecordCodec<T>): ProducerRecord[] {
  const n = items.length;
  for (let i = 0; i < n; i++) {
    const key: unknown = codec.key(items[i] as T);
    const ts = codec.timestamp(items[i] as T);
    if (typeof key !== 'string' || !Number.isFinite(ts)) {
      throw new StockStreamError('SS_INGEST_REJECT', `Expected item ${i} to have a string key and a finite epoch-ms timestamp, got key ${typeof key} and timestamp ${ts}.`);
    }
  }
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
