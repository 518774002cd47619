/**
 * Record frames: how one record sits in a segment file. Frames are written back to back; a
 * segment is nothing but frames. All integers are little-endian.
 *
 *   byte  0  u32  crc      CRC-32C of bytes [4, 8 + bodyLength): the length field and the body
 *   byte  4  u32  bodyLength  bytes after this field (>= 24)
 *   byte  8  f64  offset   exact integer < 2^53
 *   byte 16  f64  timestamp  epoch ms
 *   byte 24  u16  keyLength
 *   byte 26  u16  headerCount
 *   byte 28  u32  valueLength
 *   byte 32       key      keyLength bytes of UTF-8
 *                 headers  headerCount × (u16 nameLength, u32 valueLength, name UTF-8, value UTF-8)
 *                 value    valueLength bytes
 *
 * The CRC covers the length so a damaged length is caught, and bodyLength must equal the sum of
 * the parts, so a frame is accepted only when every length in it agrees. Offsets and timestamps
 * are float64 because JavaScript numbers are: no BigInt on the hot path, exact below 2^53.
 */

import { readFloat64LE, sharedString } from '../../domain/index.js';
import { StockStreamError } from '../../shared/errors.js';
import type { LogRecord, RecordCodec } from '../log.js';
import { crc32c } from './crc32c.js';

export const FRAME_HEADER_BYTES = 32;
/** Smallest body: offset, timestamp and the three lengths. */
const MIN_BODY = FRAME_HEADER_BYTES - 8;
/** A larger length can only be damage; it also bounds how much a reader buffers for one frame. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const MAX_KEY_BYTES = 0xffff;

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Keys are short ASCII symbols: copying their char codes beats Buffer#write's argument checks
 * and encoder dispatch; anything else goes through the UTF-8 encoder.
 */
function writeKey(buf: Buffer, key: string, pos: number): number {
  const n = key.length;
  if (n > 32) return buf.write(key, pos);
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return buf.write(key, pos);
    buf[pos + i] = c;
  }
  return n;
}

/** A growable byte buffer that records are encoded into, then written with one write(2). */
export class FrameBuffer {
  buf: Buffer;
  length = 0;
  #view: DataView;

  constructor(capacity = 1 << 20) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.#view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  #ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Encodes one record at the end of the buffer and returns its frame length. */
  append(
    offset: number,
    timestamp: number,
    key: string,
    headers: Readonly<Record<string, string>> | undefined,
    value: Uint8Array,
  ): number {
    // Reserve the worst case (3 UTF-8 bytes per UTF-16 unit) so the string writes never overflow.
    this.#ensure(FRAME_HEADER_BYTES + key.length * 3 + value.length);
    const start = this.length;
    let pos = start + FRAME_HEADER_BYTES;
    const keyLength = writeKey(this.buf, key, pos);
    pos += keyLength;
    let headerCount = 0;
    if (headers !== undefined) {
      for (const name in headers) {
        const v = headers[name]!;
        this.#ensure(6 + name.length * 3 + v.length * 3 + value.length + (pos - start));
        const b = this.buf;
        const nameLength = b.write(name, pos + 6);
        const valueLength = b.write(v, pos + 6 + nameLength);
        this.#view.setUint16(pos, nameLength, true);
        this.#view.setUint32(pos + 2, valueLength, true);
        pos += 6 + nameLength + valueLength;
        headerCount++;
      }
    }
    // Header writes may have grown the buffer: take the current one.
    this.buf.set(value, pos);
    return this.#seal(start, keyLength, headerCount, pos, pos + value.length, offset, timestamp);
  }

  /**
   * Encodes one record whose value `codec` writes in place (Log.appendItems), without headers, and
   * returns its frame length; the value starts at `valueAt` afterwards.
   */
  appendItem<T>(offset: number, timestamp: number, key: string, item: T, codec: RecordCodec<T>): number {
    this.#ensure(FRAME_HEADER_BYTES + key.length * 3 + codec.maxBytes(item));
    const start = this.length;
    const keyLength = writeKey(this.buf, key, start + FRAME_HEADER_BYTES);
    const at = start + FRAME_HEADER_BYTES + keyLength;
    this.valueAt = at;
    return this.#seal(start, keyLength, 0, at, codec.write(item, this.buf, this.#view, at), offset, timestamp);
  }

  /** Where the value of the last appendItem starts in `buf`. */
  valueAt = 0;

  /** Fills in the header of the frame at `start` whose value lies in [valueAt, end), and its CRC. */
  #seal(start: number, keyLength: number, headerCount: number, valueAt: number, end: number, offset: number, timestamp: number): number {
    if (keyLength > MAX_KEY_BYTES) {
      throw new StockStreamError(
        'SS_INGEST_REJECT',
        `A record key must be at most ${MAX_KEY_BYTES} bytes of UTF-8, got ${keyLength}; use a shorter key (keys are symbols).`,
      );
    }
    const v = this.#view;
    v.setUint32(start + 4, end - start - 8, true);
    v.setFloat64(start + 8, offset, true);
    v.setFloat64(start + 16, timestamp, true);
    v.setUint16(start + 24, keyLength, true);
    v.setUint16(start + 26, headerCount, true);
    v.setUint32(start + 28, end - valueAt, true);
    v.setUint32(start, crc32c(this.buf, start + 4, end), true);
    this.length = end;
    return end - start;
  }

  reset(): void {
    this.length = 0;
  }
}

/** Result of looking at the bytes at a position: a whole valid frame, too few bytes, or damage. */
export const FRAME_INCOMPLETE = -1;
export const FRAME_CORRUPT = -2;

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
}

function u16(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8);
}

/**
 * Checks the frame at `pos` in `buf[.., end)`: returns its total length when the CRC and every
 * length agree, FRAME_INCOMPLETE when the buffer ends inside it, FRAME_CORRUPT otherwise.
 */
export function checkFrame(buf: Buffer, pos: number, end: number): number {
  if (end - pos < 8) return FRAME_INCOMPLETE;
  const bodyLength = u32(buf, pos + 4);
  if (bodyLength < MIN_BODY || bodyLength > MAX_FRAME_BYTES) return FRAME_CORRUPT;
  const total = bodyLength + 8;
  if (end - pos < total) return FRAME_INCOMPLETE;
  if (crc32c(buf, pos + 4, pos + total) !== u32(buf, pos)) return FRAME_CORRUPT;
  // Walk the parts: their lengths must add up to the body exactly.
  const keyLength = u16(buf, pos + 24);
  const headerCount = u16(buf, pos + 26);
  const valueLength = u32(buf, pos + 28);
  let p = pos + FRAME_HEADER_BYTES + keyLength;
  for (let h = 0; h < headerCount; h++) {
    if (p + 6 > pos + total) return FRAME_CORRUPT;
    p += 6 + u16(buf, p) + u32(buf, p + 2);
  }
  return p + valueLength === pos + total ? total : FRAME_CORRUPT;
}

/** Lets a reader peek at offset and timestamp of a frame already checked. */
export function frameOffset(buf: Buffer, pos: number): number {
  return readFloat64LE(buf, pos + 8);
}

export function frameTimestamp(buf: Buffer, pos: number): number {
  return readFloat64LE(buf, pos + 16);
}

/**
 * A record read from a segment block. Its value is a view into the block (no copy: readers
 * allocate a fresh block per read, so records never alias memory that is reused), made on first
 * access: a reader that copies the bytes on reads them at `valueSource`/`valueAt` instead, and a
 * Buffer view per record (~100 bytes of young garbage) is never made.
 */
class FileRecord implements LogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly valueSource: Buffer;
  readonly valueAt: number;
  readonly valueLength: number;
  #value: Buffer | null = null;

  constructor(topic: string, partition: number, offset: number, key: string, timestamp: number, headers: Readonly<Record<string, string>>, source: Buffer, at: number, length: number) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.key = key;
    this.timestamp = timestamp;
    this.headers = headers;
    this.valueSource = source;
    this.valueAt = at;
    this.valueLength = length;
  }

  get value(): Buffer {
    return (this.#value ??= this.valueSource.subarray(this.valueAt, this.valueAt + this.valueLength));
  }

  /** JSON and structured logs see a plain record's fields, not the whole block. */
  toJSON(): LogRecord {
    const { topic, partition, offset, key, value, timestamp, headers } = this;
    return { topic, partition, offset, key, value, timestamp, headers };
  }
}

/** Decodes a checked frame (see FileRecord). */
export function decodeFrame(buf: Buffer, pos: number, topic: string, partition: number): LogRecord {
  const keyLength = u16(buf, pos + 24);
  const headerCount = u16(buf, pos + 26);
  const valueLength = u32(buf, pos + 28);
  let p = pos + FRAME_HEADER_BYTES;
  // Keys are symbols: the same few strings again and again.
  const key = sharedString(buf, p, p + keyLength);
  p += keyLength;
  let headers = EMPTY_HEADERS;
  if (headerCount > 0) {
    const h: Record<string, string> = {};
    for (let i = 0; i < headerCount; i++) {
      const nameLength = u16(buf, p);
      const vLength = u32(buf, p + 2);
      const name = buf.toString('utf8', p + 6, p + 6 + nameLength);
      h[name] = buf.toString('utf8', p + 6 + nameLength, p + 6 + nameLength + vLength);
      p += 6 + nameLength + vLength;
    }
    headers = h;
  }
  return new FileRecord(topic, partition, readFloat64LE(buf, pos + 8), key, readFloat64LE(buf, pos + 16), headers, buf, p, valueLength);
}
