import { INTERVALS, type Interval } from './interval.js';
import { bar, quote, trade, type MarketEvent } from './market-event.js';

/**
 * Binary encoding of a validated market event as a log record value. The log carries events
 * already validated at ingress, so decoding trusts the bytes (a CRC in the log guards them).
 * Binary instead of JSON because encode + decode sit on the hot path twice per tick, and
 * fixed-width numbers round-trip exactly.
 *
 * Layout (little endian):
 *   u8  version (=1)
 *   u8  kind: 0 trade | 1 quote | 2 bar
 *   f64 ts
 *   trade: f64 price, f64 size, u8 nConditions, then nConditions strings
 *   quote: f64 bid, f64 ask, f64 bidSize, f64 askSize
 *   bar:   u8 interval index (INTERVALS), f64 open, high, low, close, volume
 *   then strings symbol, source, id
 * A string is u16 byte length + UTF-8 bytes.
 */
const VERSION = 1;
const KIND_CODE = { trade: 0, quote: 1, bar: 2 } as const;

function strBytes(s: string): number {
  // ASCII fast path: symbols, sources and ids are almost always ASCII.
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function writeStr(buf: Buffer, s: string, pos: number, len: number): number {
  buf.writeUInt16LE(len, pos);
  buf.write(s, pos + 2, len, len === s.length ? 'latin1' : 'utf8');
  return pos + 2 + len;
}

export function encodeEvent(e: MarketEvent): Buffer {
  const symLen = strBytes(e.symbol);
  const srcLen = strBytes(e.source);
  const idLen = strBytes(e.id);
  let size = 2 + 8 + 6 + symLen + srcLen + idLen;
  if (e.kind === 'trade') {
    size += 17;
    for (const c of e.conditions) size += 2 + strBytes(c);
  } else if (e.kind === 'quote') size += 32;
  else size += 41;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = VERSION;
  buf[1] = KIND_CODE[e.kind];
  buf.writeDoubleLE(e.ts, 2);
  let pos = 10;
  if (e.kind === 'trade') {
    buf.writeDoubleLE(e.price, pos);
    buf.writeDoubleLE(e.size, pos + 8);
    buf[pos + 16] = e.conditions.length;
    pos += 17;
    for (const c of e.conditions) pos = writeStr(buf, c, pos, strBytes(c));
  } else if (e.kind === 'quote') {
    buf.writeDoubleLE(e.bid, pos);
    buf.writeDoubleLE(e.ask, pos + 8);
    buf.writeDoubleLE(e.bidSize, pos + 16);
    buf.writeDoubleLE(e.askSize, pos + 24);
    pos += 32;
  } else {
    buf[pos] = INTERVALS.indexOf(e.interval);
    buf.writeDoubleLE(e.open, pos + 1);
    buf.writeDoubleLE(e.high, pos + 9);
    buf.writeDoubleLE(e.low, pos + 17);
    buf.writeDoubleLE(e.close, pos + 25);
    buf.writeDoubleLE(e.volume, pos + 33);
    pos += 41;
  }
  pos = writeStr(buf, e.symbol, pos, symLen);
  pos = writeStr(buf, e.source, pos, srcLen);
  writeStr(buf, e.id, pos, idLen);
  return buf;
}

function readStr(buf: Buffer, pos: number): string {
  const len = buf.readUInt16LE(pos);
  return buf.toString('utf8', pos + 2, pos + 2 + len);
}

/** Decodes `encodeEvent` output. Throws on an unknown version: the caller dead-letters the record. */
export function decodeEvent(bytes: Uint8Array): MarketEvent {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] !== VERSION) throw new RangeError(`event codec: expected version ${VERSION}, got ${buf[0]}`);
  const kind = buf[1];
  const ts = buf.readDoubleLE(2);
  let pos = 10;
  if (kind === 0) {
    const price = buf.readDoubleLE(pos);
    const size = buf.readDoubleLE(pos + 8);
    const n = buf[pos + 16] as number;
    pos += 17;
    let conditions: string[] | undefined;
    if (n > 0) {
      conditions = [];
      for (let i = 0; i < n; i++) {
        const c = readStr(buf, pos);
        conditions.push(c);
        pos += 2 + buf.readUInt16LE(pos);
      }
    }
    const symbol = readStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    const source = readStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    return trade({ symbol, ts, source, id: readStr(buf, pos), price, size, conditions });
  }
  if (kind === 1) {
    const bid = buf.readDoubleLE(pos);
    const ask = buf.readDoubleLE(pos + 8);
    const bidSize = buf.readDoubleLE(pos + 16);
    const askSize = buf.readDoubleLE(pos + 24);
    pos += 32;
    const symbol = readStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    const source = readStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    return quote({ symbol, ts, source, id: readStr(buf, pos), bid, ask, bidSize, askSize });
  }
  if (kind === 2) {
    const interval = INTERVALS[buf[pos] as number] as Interval;
    const open = buf.readDoubleLE(pos + 1);
    const high = buf.readDoubleLE(pos + 9);
    const low = buf.readDoubleLE(pos + 17);
    const close = buf.readDoubleLE(pos + 25);
    const volume = buf.readDoubleLE(pos + 33);
    pos += 41;
    const symbol = readStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    const source = readStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    return bar({ symbol, ts, source, id: readStr(buf, pos), interval, open, high, low, close, volume });
  }
  throw new RangeError(`event codec: unknown kind code ${kind}`);
}
