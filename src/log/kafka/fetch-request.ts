/**
 * Kafka's Fetch API, version 12, with a response parser that leaves each partition's records as
 * raw bytes (a view of the response, no copy) for record-batch.ts to decode when they are
 * polled. @platformatic/kafka's own Fetch parser decodes every record into objects as the
 * response arrives; this one is built the same way (its `createAPI`) and sent on its
 * connections, so the client still does framing, correlation and timeouts.
 *
 * Version 12 is the last that names topics rather than topic ids, and the first with flexible
 * (compact, tagged) encoding; Kafka 4 serves versions 4-17, and the consumer checks at open that
 * the broker lists 12. No fetch session is used (session
 * id 0, epoch -1: every request is a full fetch, KIP-227), so the broker keeps no per-consumer
 * state. https://kafka.apache.org/protocol#The_Messages_Fetch
 *
 * Request (v12):
 *   replica_id int32 (-1: a consumer), max_wait_ms int32, min_bytes int32, max_bytes int32,
 *   isolation_level int8, session_id int32, session_epoch int32,
 *   topics COMPACT_ARRAY of { topic COMPACT_STRING,
 *     partitions COMPACT_ARRAY of { partition int32, current_leader_epoch int32 (-1: unchecked),
 *       fetch_offset int64, last_fetched_epoch int32, log_start_offset int64, partition_max_bytes int32,
 *       TAG_BUFFER }, TAG_BUFFER },
 *   forgotten_topics_data COMPACT_ARRAY (empty), rack_id COMPACT_STRING, TAG_BUFFER
 * Response (v12):
 *   throttle_time_ms int32, error_code int16, session_id int32,
 *   responses COMPACT_ARRAY of { topic COMPACT_STRING,
 *     partitions COMPACT_ARRAY of { partition_index int32, error_code int16, high_watermark int64,
 *       last_stable_offset int64, log_start_offset int64,
 *       aborted_transactions COMPACT_NULLABLE_ARRAY of { producer_id int64, first_offset int64, TAG_BUFFER },
 *       preferred_read_replica int32, records COMPACT_RECORDS, TAG_BUFFER }, TAG_BUFFER },
 *   TAG_BUFFER
 * COMPACT lengths are unsigned varints of length + 1 (0 = null); a TAG_BUFFER is a count, then per
 * field a tag, a size and that many bytes (skipped here: diverging epoch, current leader, snapshot id).
 */

import { createAPI, Writer, type Reader } from '@platformatic/kafka';

export const FETCH_VERSION = 12;
const FETCH_API_KEY = 1;

/** Isolation levels (KIP-98): read_committed hides aborted transactions and stops at the last stable offset. */
export const READ_COMMITTED = 1;

export interface FetchPartition {
  readonly partition: number;
  readonly fetchOffset: number;
  readonly maxBytes: number;
}

export interface FetchTopic {
  readonly topic: string;
  readonly partitions: readonly FetchPartition[];
}

export interface FetchedPartition {
  readonly partition: number;
  /** A Kafka error code (https://kafka.apache.org/protocol#protocol_error_codes); 0 = none. */
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Under read_committed: the aborted transactions overlapping `records`. */
  readonly aborted: { producerId: number; firstOffset: number }[] | null;
  /** The record batches as sent, possibly ending in a cut batch; null when there are none. */
  readonly records: Buffer | null;
}

export interface FetchResponse {
  readonly errorCode: number;
  readonly topics: readonly { topic: string; partitions: FetchedPartition[] }[];
}

function createRequest(maxWaitMs: number, minBytes: number, maxBytes: number, isolationLevel: number, topics: readonly FetchTopic[]): Writer {
  return Writer.create()
    .appendInt32(-1)
    .appendInt32(maxWaitMs)
    .appendInt32(minBytes)
    .appendInt32(maxBytes)
    .appendInt8(isolationLevel)
    .appendInt32(0)
    .appendInt32(-1)
    .appendArray(topics as FetchTopic[], (w, t) => {
      w.appendString(t.topic).appendArray(t.partitions as FetchPartition[], (w, p) => {
        w.appendInt32(p.partition).appendInt32(-1).appendInt64(BigInt(p.fetchOffset)).appendInt32(-1).appendInt64(-1n).appendInt32(p.maxBytes);
      });
    })
    .appendArray([], () => undefined)
    .appendString('')
    .appendTaggedFields();
}

/** A cursor over one contiguous response. */
class Cursor {
  at: number;
  constructor(
    readonly buf: Buffer,
    at: number,
  ) {
    this.at = at;
  }

  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  int64(): number {
    const v = this.buf.readInt32BE(this.at) * 4_294_967_296 + this.buf.readUInt32BE(this.at + 4);
    this.at += 8;
    return v;
  }

  uvarint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.buf[this.at++];
      if (b === undefined) throw new RangeError('Fetch response ends inside a varint');
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return v;
      scale *= 128;
    }
  }

  string(): string {
    const n = this.uvarint() - 1;
    if (n < 0) return '';
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  skipTags(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint();
      this.at += this.uvarint();
    }
  }
}

function parseResponse(_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader): FetchResponse {
  // The client hands a chain of socket chunks: made contiguous once (a view when it is one chunk).
  const c = new Cursor(reader.buffer.buffer, reader.position);
  c.int32();
  const errorCode = c.int16();
  c.int32();
  const topics: { topic: string; partitions: FetchedPartition[] }[] = [];
  for (let nt = c.uvarint() - 1; nt > 0; nt--) {
    const topic = c.string();
    const partitions: FetchedPartition[] = [];
    for (let np = c.uvarint() - 1; np > 0; np--) {
      const partition = c.int32();
      const partitionError = c.int16();
      const highWatermark = c.int64();
      c.int64();
      const logStartOffset = c.int64();
      let aborted: { producerId: number; firstOffset: number }[] | null = null;
      const na = c.uvarint() - 1;
      if (na >= 0) {
        aborted = [];
        for (let i = 0; i < na; i++) {
          aborted.push({ producerId: c.int64(), firstOffset: c.int64() });
          c.skipTags();
        }
      }
      c.int32();
      const size = c.uvarint() - 1;
      let records: Buffer | null = null;
      if (size > 0) {
        if (c.at + size > c.buf.length) throw new RangeError(`Fetch response ends inside the records of ${topic}/${partition}`);
        records = c.buf.subarray(c.at, c.at + size);
        c.at += size;
      }
      c.skipTags();
      partitions.push({ partition, errorCode: partitionError, highWatermark, logStartOffset, aborted, records });
    }
    c.skipTags();
    topics.push({ topic, partitions });
  }
  return { errorCode, topics };
}

/** `fetchRaw(connection, maxWaitMs, minBytes, maxBytes, isolationLevel, topics, callback)`. */
export const fetchRaw = createAPI<[maxWaitMs: number, minBytes: number, maxBytes: number, isolationLevel: number, topics: readonly FetchTopic[]], FetchResponse>(FETCH_API_KEY, FETCH_VERSION, createRequest, parseResponse);
