/**
 * Builds Kafka v2 record batches byte by byte, as a producer puts them on the wire, for the
 * decoder's tests (format: src/log/kafka/record-batch.ts, https://kafka.apache.org/documentation/#recordbatch).
 * Independent of the decoder: varints are written with BigInt arithmetic, the CRC is the client's.
 */
import { compressionsAlgorithms, crc32c } from '@platformatic/kafka';

export interface BuiltRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: [string, Buffer | null][];
  offsetDelta: number;
  timestampDelta: number;
}

export type Codec = 'none' | 'gzip' | 'snappy' | 'lz4';

export interface BuiltBatch {
  baseOffset: number;
  /** Defaults to the last record's offsetDelta (0 for none). */
  lastOffsetDelta?: number;
  baseTimestamp: number;
  maxTimestamp?: number;
  logAppendTime?: boolean;
  transactional?: boolean;
  control?: boolean;
  producerId?: number;
  codec?: Codec;
  magic?: number;
  records: BuiltRecord[];
}

export const CODEC_BITS: Record<Codec, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3 };

/** Zigzag LEB128 of a signed 64-bit value. */
export function varlong(v: number | bigint): Buffer {
  const n = BigInt(v);
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  do {
    let byte = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) byte |= 0x80;
    out.push(byte);
  } while (z > 0n);
  return Buffer.from(out);
}

function bytesField(b: Buffer | null): Buffer {
  return b === null ? varlong(-1) : Buffer.concat([varlong(b.length), b]);
}

export function encodeRecord(r: BuiltRecord): Buffer {
  const headers = r.headers ?? [];
  const body = Buffer.concat([
    Buffer.from([0]),
    varlong(r.timestampDelta),
    varlong(r.offsetDelta),
    bytesField(r.key),
    bytesField(r.value),
    varlong(headers.length),
    ...headers.flatMap(([k, v]) => [bytesField(Buffer.from(k, 'utf8')), bytesField(v)]),
  ]);
  return Buffer.concat([varlong(body.length), body]);
}

/** A control record's key and value: version 0, type 0 = abort, 1 = commit. */
export function markerRecord(type: 0 | 1): BuiltRecord {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return { key, value: Buffer.from([0, 0, 0, 0, 0, 0]), offsetDelta: 0, timestampDelta: 0 };
}

export function encodeBatch(b: BuiltBatch): Buffer {
  const codec = b.codec ?? 'none';
  let records: Buffer = Buffer.concat(b.records.map(encodeRecord));
  if (codec !== 'none') records = compressionsAlgorithms[codec].compressSync(records);
  const attributes = CODEC_BITS[codec] | (b.logAppendTime ? 0x08 : 0) | (b.transactional ? 0x10 : 0) | (b.control ? 0x20 : 0);
  const lastOffsetDelta = b.lastOffsetDelta ?? b.records[b.records.length - 1]?.offsetDelta ?? 0;
  const afterCrc = Buffer.alloc(40);
  afterCrc.writeInt16BE(attributes, 0);
  afterCrc.writeInt32BE(lastOffsetDelta, 2);
  afterCrc.writeBigInt64BE(BigInt(b.baseTimestamp), 6);
  afterCrc.writeBigInt64BE(BigInt(b.maxTimestamp ?? b.baseTimestamp), 14);
  afterCrc.writeBigInt64BE(BigInt(b.producerId ?? -1), 22);
  afterCrc.writeInt16BE(0, 30);
  afterCrc.writeInt32BE(0, 32);
  afterCrc.writeInt32BE(b.records.length, 36);
  const checked = Buffer.concat([afterCrc, records]);
  const head = Buffer.alloc(21);
  head.writeBigInt64BE(BigInt(b.baseOffset), 0);
  head.writeInt32BE(9 + checked.length, 8);
  head.writeInt32BE(0, 12);
  head.writeInt8(b.magic ?? 2, 16);
  head.writeUInt32BE(crc32c(checked), 17);
  return Buffer.concat([head, checked]);
}
