/**
 * Decoder of Kafka record batches (message format v2, magic 2), straight into LogRecord objects:
 * the key as a string, the value as a view of the fetched bytes (no copy), headers only when the
 * record has some. Compressed batches are inflated by @platformatic/kafka's codecs, then decoded
 * here the same way. https://kafka.apache.org/documentation/#recordbatch
 *
 * RecordBatch (all integers big-endian; byte positions from the batch start):
 *    0 baseOffset           int64
 *    8 batchLength          int32   bytes after this field
 *   12 partitionLeaderEpoch int32
 *   16 magic                int8    2 (0 and 1 are the legacy message sets, refused)
 *   17 crc                  uint32  CRC-32C of attributes..end (checked by the broker on append)
 *   21 attributes           int16   bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd),
 *                                   bit 3 timestamp type (1 = log append time), bit 4 transactional,
 *                                   bit 5 control batch, bit 6 delete horizon set
 *   23 lastOffsetDelta      int32
 *   27 baseTimestamp        int64
 *   35 maxTimestamp         int64   the append time of every record when bit 3 is set
 *   43 producerId           int64
 *   51 producerEpoch        int16
 *   53 baseSequence         int32
 *   57 recordCount          int32
 *   61 records              compressed as a whole when bits 0-2 are set
 *
 * Record (varint = zigzag LEB128 as in protobuf's sint32, varlong its 64-bit form):
 *   length varint, attributes int8 (unused), timestampDelta varlong, offsetDelta varint,
 *   keyLength varint (-1 = null), key, valueLength varint (-1 = null), value,
 *   headerCount varint, then per header: keyLength varint, key (UTF-8), valueLength varint
 *   (-1 = null), value.
 *
 * Control batches hold transaction markers: one record whose key is version int16, type int16
 * (0 = abort, 1 = commit). They carry no data and are skipped; under read_committed they close
 * the aborted transactions that the fetch response lists (see AbortedTransactions).
 *
 * Offsets and timestamps become numbers, exact below 2^53. CRCs are not checked here (neither
 * does the client this replaces): the broker validates each batch on append and TCP guards the
 * transfer.
 */

import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka';
import { StockStreamError } from '../../shared/errors.js';
import type { LogRecord } from '../log.js';

export const BATCH_HEADER_BYTES = 61;
const LENGTH_AT = 8;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const BASE_TIMESTAMP_AT = 27;
const MAX_TIMESTAMP_AT = 35;
const PRODUCER_ID_AT = 43;
const RECORD_COUNT_AT = 57;

const COMPRESSION_MASK = 0x07;
const LOG_APPEND_TIME = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;
const ABORT_MARKER = 0;

const EMPTY_VALUE: Uint8Array = new Uint8Array(0);
/** Shared by every record without headers, so those records allocate none. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function corrupt(what: string): StockStreamError {
  return new StockStreamError('SS_LOG_CORRUPT', `Expected a Kafka record batch of format v2, but ${what}. The fetched bytes are not a v2 record batch (a broker too old, or corrupt data).`);
}

function int64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4_294_967_296 + buf.readUInt32BE(at + 4);
}

/** Read position of the varint readers below; the decoder is synchronous and never re-entered. */
let cursor = 0;

function varint(b: Uint8Array): number {
  let byte = b[cursor++]!;
  let raw = byte & 0x7f;
  if (byte & 0x80) {
    byte = b[cursor++]!;
    raw |= (byte & 0x7f) << 7;
    if (byte & 0x80) {
      byte = b[cursor++]!;
      raw |= (byte & 0x7f) << 14;
      if (byte & 0x80) {
        byte = b[cursor++]!;
        raw |= (byte & 0x7f) << 21;
        if (byte & 0x80) {
          byte = b[cursor++]!;
          if (byte > 0x0f) throw corrupt('a varint runs past 32 bits');
          raw |= byte << 28;
        }
      }
    }
  }
  return (raw >>> 1) ^ -(raw & 1);
}

function varlong(b: Uint8Array): number {
  let byte = b[cursor++]!;
  if ((byte & 0x80) === 0) return (byte >>> 1) ^ -(byte & 1);
  let raw = byte & 0x7f;
  let scale = 128;
  do {
    byte = b[cursor++]!;
    raw += (byte & 0x7f) * scale;
    scale *= 128;
    if (scale > 2 ** 70) throw corrupt('a varlong runs past 64 bits');
  } while (byte & 0x80);
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
}

/**
 * Keys decoded lately, by a hash of their bytes (direct-mapped): a symbol's key comes back as the
 * same string every time instead of a new one per record. ASCII keys of up to 32 bytes only.
 */
const KEY_SLOTS = 4096;
const keys: (string | undefined)[] = new Array<string | undefined>(KEY_SLOTS);

function keyAt(b: Buffer, start: number, length: number): string {
  if (length > 32) return b.toString('utf8', start, start + length);
  const end = start + length;
  let h = length;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x80) return b.toString('utf8', start, end);
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = (h ^ (h >>> 15)) & (KEY_SLOTS - 1);
  const known = keys[slot];
  if (known !== undefined && known.length === length) {
    let i = 0;
    while (i < length && known.charCodeAt(i) === b[start + i]) i++;
    if (i === length) return known;
  }
  const key = b.toString('latin1', start, end);
  keys[slot] = key;
  return key;
}

export interface BatchScan {
  /** Position after the last complete batch (a fetch may end inside one: it is cut at max bytes). */
  readonly end: number;
  /** The offset after the last complete batch, or -1 when there is none. */
  readonly nextOffset: number;
}

/** Walks the batch headers of a fetched records field, without decoding records. */
export function scanBatches(buf: Buffer, start: number, end: number): BatchScan {
  let at = start;
  let nextOffset = -1;
  while (end - at >= BATCH_HEADER_BYTES) {
    const length = buf.readInt32BE(at + LENGTH_AT);
    const batchEnd = at + 12 + length;
    if (batchEnd > end) break;
    const magic = buf[at + MAGIC_AT];
    if (magic !== 2) throw corrupt(`a batch at offset ${int64(buf, at)} has magic ${magic}`);
    if (length < BATCH_HEADER_BYTES - 12) throw corrupt(`a batch at offset ${int64(buf, at)} declares ${length} bytes, less than its header`);
    nextOffset = int64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_AT) + 1;
    at = batchEnd;
  }
  return { end: at, nextOffset };
}

/** Records a batch declares (an upper bound of what decodeBatch adds: control and skipped records add none). */
export function batchRecordCount(buf: Buffer, at: number): number {
  return buf.readInt32BE(at + RECORD_COUNT_AT);
}

export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
}

/**
 * The read_committed filter of one fetched partition, as the Java consumer applies it
 * (KIP-98): the fetch response lists the aborted transactions overlapping the data, each by
 * producer and first offset. A transactional batch is dropped while its producer has an aborted
 * transaction open at or before it; the producer's abort marker closes that transaction.
 * https://cwiki.apache.org/confluence/display/KAFKA/KIP-98+-+Exactly+Once+Delivery+and+Transactional+Messaging
 */
export class AbortedTransactions {
  readonly #pending: AbortedTransaction[];
  #next = 0;
  readonly #open = new Set<number>();

  constructor(aborted: readonly AbortedTransaction[]) {
    this.#pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Whether a transactional batch of `producerId` ending at `lastOffset` belongs to an aborted transaction. */
  aborted(producerId: number, lastOffset: number): boolean {
    this.#openUpTo(lastOffset);
    return this.#open.has(producerId);
  }

  /** A control batch of `producerId` ending at `lastOffset`: an abort marker closes its aborted transaction. */
  marker(producerId: number, lastOffset: number, type: number): void {
    this.#openUpTo(lastOffset);
    if (type === ABORT_MARKER) this.#open.delete(producerId);
  }

  #openUpTo(lastOffset: number): void {
    while (this.#next < this.#pending.length && (this.#pending[this.#next] as AbortedTransaction).firstOffset <= lastOffset) {
      this.#open.add((this.#pending[this.#next] as AbortedTransaction).producerId);
      this.#next++;
    }
  }
}

/** Inflates a compressed batch's records with the client's codec for `codec` (attribute bits 0-2). */
function inflate(buf: Buffer, start: number, end: number, codec: number, baseOffset: number): Buffer {
  const algorithm = compressionsAlgorithmsByBitmask[codec];
  if (algorithm === undefined || algorithm.available === false) throw corrupt(`the batch at offset ${baseOffset} uses compression codec ${codec}, which this process cannot inflate`);
  return algorithm.decompressSync(buf.subarray(start, end));
}

/** The marker type (abort 0, commit 1) of the control record that starts `data` at `at`. */
function markerType(data: Buffer, at: number): number {
  cursor = at;
  varint(data);
  cursor++;
  varlong(data);
  varint(data);
  const keyLength = varint(data);
  if (keyLength < 4) throw corrupt(`a control record has a ${keyLength}-byte key, not version and type`);
  return data.readInt16BE(cursor + 2);
}

/**
 * Decodes the batch at `at` (complete, as scanBatches found it), appending to `out` its records
 * at or after `minOffset` unless the batch is a control batch or, under read_committed
 * (`aborted` given), part of an aborted transaction. Returns the position after the batch.
 */
export function decodeBatch(buf: Buffer, at: number, topic: string, partition: number, minOffset: number, out: LogRecord[], aborted: AbortedTransactions | null): number {
  const end = at + 12 + buf.readInt32BE(at + LENGTH_AT);
  const attributes = buf.readInt16BE(at + ATTRIBUTES_AT);
  const baseOffset = int64(buf, at);
  const lastOffset = baseOffset + buf.readInt32BE(at + LAST_OFFSET_DELTA_AT);
  const codec = attributes & COMPRESSION_MASK;
  if (attributes & CONTROL) {
    if (aborted !== null && batchRecordCount(buf, at) > 0) {
      const data = codec === 0 ? buf : inflate(buf, at + BATCH_HEADER_BYTES, end, codec, baseOffset);
      aborted.marker(int64(buf, at + PRODUCER_ID_AT), lastOffset, markerType(data, codec === 0 ? at + BATCH_HEADER_BYTES : 0));
    }
    return end;
  }
  if (aborted !== null && attributes & TRANSACTIONAL && aborted.aborted(int64(buf, at + PRODUCER_ID_AT), lastOffset)) return end;
  if (lastOffset < minOffset) return end;
  const count = batchRecordCount(buf, at);
  const baseTimestamp = int64(buf, at + BASE_TIMESTAMP_AT);
  const appendTime = attributes & LOG_APPEND_TIME ? int64(buf, at + MAX_TIMESTAMP_AT) : null;
  let data = buf;
  let dataEnd = end;
  cursor = at + BATCH_HEADER_BYTES;
  if (codec !== 0) {
    data = inflate(buf, cursor, end, codec, baseOffset);
    cursor = 0;
    dataEnd = data.length;
  }
  const arrayBuffer = data.buffer;
  const base = data.byteOffset;
  for (let i = 0; i < count; i++) {
    const length = varint(data);
    const recordEnd = cursor + length;
    if (length <= 0 || recordEnd > dataEnd) throw corrupt(`record ${i} of the batch at offset ${baseOffset} runs past the batch`);
    cursor++;
    const timestampDelta = varlong(data);
    const offset = baseOffset + varint(data);
    const keyLength = varint(data);
    let key = '';
    if (keyLength > 0) {
      key = keyAt(data, cursor, keyLength);
      cursor += keyLength;
    }
    const valueLength = varint(data);
    let value = EMPTY_VALUE;
    if (valueLength > 0) {
      value = new Uint8Array(arrayBuffer, base + cursor, valueLength);
      cursor += valueLength;
    }
    const headerCount = varint(data);
    let headers = NO_HEADERS;
    if (headerCount > 0) {
      const h: Record<string, string> = {};
      for (let j = 0; j < headerCount; j++) {
        const kl = varint(data);
        const name = kl > 0 ? data.toString('utf8', cursor, cursor + kl) : '';
        if (kl > 0) cursor += kl;
        const vl = varint(data);
        h[name] = vl > 0 ? data.toString('utf8', cursor, cursor + vl) : '';
        if (vl > 0) cursor += vl;
      }
      headers = h;
    }
    if (cursor !== recordEnd) throw corrupt(`record ${i} of the batch at offset ${baseOffset} has ${length} bytes but its fields take ${length + cursor - recordEnd}`);
    if (offset < minOffset) continue;
    out.push({ topic, partition, offset, key, value, timestamp: appendTime ?? baseTimestamp + timestampDelta, headers });
  }
  return end;
}
