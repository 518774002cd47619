import { INTERVALS, type Interval } from './interval.js';
import { bar, quote, trade, type MarketEvent } from './market-event.js';
import { readFloat64LE } from './float64-bytes.js';
import { sharedString } from './string-table.js';

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

/**
 * Writes `s` as UTF-8 at `at` and returns the byte count; the caller leaves room for the worst case
 * (3 bytes per UTF-16 unit; a lone surrogate becomes U+FFFD). Copying ASCII char codes beats
 * Buffer#write's argument checks and encoder dispatch for the short strings written per event.
 */
export function writeUtf8(dst: Uint8Array, s: string, at: number): number {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) break;
    dst[at + i] = c;
    i++;
  }
  return i === n ? n : Buffer.from(dst.buffer, dst.byteOffset, dst.byteLength).write(s, at, 'utf8');
}

/** Writes u16 length + UTF-8 bytes at `pos`; the caller sized `buf` with encodedSize or maxEncodedSize. Returns the end. */
function writeStr(buf: Buffer, s: string, pos: number): number {
  const at = pos + 2;
  const len = writeUtf8(buf, s, at);
  buf[pos] = len & 0xff;
  buf[pos + 1] = len >>> 8;
  return at + len;
}

/** Bytes encodeEventInto writes for `e`. */
export function encodedSize(e: MarketEvent): number {
  let size = 2 + 8 + 6 + strBytes(e.symbol) + strBytes(e.source) + strBytes(e.id);
  if (e.kind === 'trade') {
    size += 17;
    // Indexed, not for…of: the iterator's result objects are not optimised away here (~90 bytes a tick in the heap profile).
    const cs = e.conditions;
    for (let i = 0; i < cs.length; i++) size += 2 + strBytes(cs[i] as string);
  } else if (e.kind === 'quote') size += 32;
  else size += 41;
  return size;
}

/**
 * At least the bytes encodeEventInto writes for `e` (3 per UTF-16 unit of its strings), from
 * string lengths alone: a writer that encodes into scratch room checks it instead of scanning
 * every string twice (encodedSize cost ~45 ns a tick).
 */
export function maxEncodedSize(e: MarketEvent): number {
  let size = 2 + 8 + 6 + 3 * (e.symbol.length + e.source.length + e.id.length);
  if (e.kind === 'trade') {
    size += 17;
    const cs = e.conditions;
    for (let i = 0; i < cs.length; i++) size += 2 + 3 * (cs[i] as string).length;
  } else if (e.kind === 'quote') size += 32;
  else size += 41;
  return size;
}

/**
 * Encodes `e` into `buf` at `pos`, which must have encodedSize(e) bytes left; returns the end.
 * Lets a writer encode many events into one buffer (the journal's frame buffer) instead of
 * allocating one per event. Numbers go through `view`, a DataView over all of `buf` that the
 * writer keeps with it, which the compiler inlines: ~3 ns a double against ~10 ns for eight byte
 * stores.
 */
export function encodeEventInto(e: MarketEvent, buf: Buffer, pos: number, view: DataView): number {
  const v = view;
  buf[pos] = VERSION;
  buf[pos + 1] = KIND_CODE[e.kind];
  v.setFloat64(pos + 2, e.ts, true);
  let p = pos + 10;
  if (e.kind === 'trade') {
    v.setFloat64(p, e.price, true);
    v.setFloat64(p + 8, e.size, true);
    buf[p + 16] = e.conditions.length;
    p += 17;
    const cs = e.conditions;
    for (let i = 0; i < cs.length; i++) p = writeStr(buf, cs[i] as string, p);
  } else if (e.kind === 'quote') {
    v.setFloat64(p, e.bid, true);
    v.setFloat64(p + 8, e.ask, true);
    v.setFloat64(p + 16, e.bidSize, true);
    v.setFloat64(p + 24, e.askSize, true);
    p += 32;
  } else {
    buf[p] = INTERVALS.indexOf(e.interval);
    v.setFloat64(p + 1, e.open, true);
    v.setFloat64(p + 9, e.high, true);
    v.setFloat64(p + 17, e.low, true);
    v.setFloat64(p + 25, e.close, true);
    v.setFloat64(p + 33, e.volume, true);
    p += 41;
  }
  p = writeStr(buf, e.symbol, p);
  p = writeStr(buf, e.source, p);
  return writeStr(buf, e.id, p);
}

export function encodeEvent(e: MarketEvent): Buffer {
  const buf = Buffer.allocUnsafe(encodedSize(e));
  encodeEventInto(e, buf, 0, new DataView(buf.buffer, buf.byteOffset, buf.byteLength));
  return buf;
}

function readStr(buf: Buffer, pos: number): string {
  const len = buf.readUInt16LE(pos);
  return buf.toString('utf8', pos + 2, pos + 2 + len);
}

/** readStr for symbol and source, which repeat on every tick: shared strings (string-table.ts). */
function readSharedStr(buf: Buffer, pos: number): string {
  const len = buf.readUInt16LE(pos);
  return sharedString(buf, pos + 2, pos + 2 + len);
}

/**
 * One event's fields in a reusable flat record, for readers that turn many records into columns
 * (the lake's bronze writer) and would otherwise make an event object per record only to copy it
 * apart. Numbers of other kinds are NaN; `kind` and `interval` are the codes of the layout above.
 */
export interface EventFields {
  kind: number;
  ts: number;
  symbol: string;
  source: string;
  /** The id when the fields come from an event object; '' when decoded from bytes (see idStart). */
  id: string;
  /**
   * Where the id's UTF-8 bytes lie in the bytes decoded, [idStart, idEnd); -1 when the fields come
   * from an event object. Decoding leaves the id as bytes so that a reader copying it on (the
   * bronze writer) makes no string per record.
   */
  idStart: number;
  idEnd: number;
  price: number;
  size: number;
  /** Trade conditions joined with ',', or null when there are none. */
  conditions: string | null;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  /** Index in INTERVALS; -1 unless a bar. */
  interval: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Kind names by code: `EVENT_KINDS[fields.kind]`. */
export const EVENT_KINDS: readonly MarketEvent['kind'][] = ['trade', 'quote', 'bar'];

export function emptyEventFields(): EventFields {
  return { kind: 0, ts: 0, symbol: '', source: '', id: '', idStart: -1, idEnd: -1, price: NaN, size: NaN, conditions: null, bid: NaN, ask: NaN, bidSize: NaN, askSize: NaN, interval: -1, open: NaN, high: NaN, low: NaN, close: NaN, volume: NaN };
}

function clearKindFields(f: EventFields): void {
  f.price = f.size = f.bid = f.ask = f.bidSize = f.askSize = f.open = f.high = f.low = f.close = f.volume = NaN;
  f.conditions = null;
  f.interval = -1;
}

/** Writes `e` into `out` (the in-process form of decodeEventFields). */
export function eventFields(e: MarketEvent, out: EventFields): void {
  clearKindFields(out);
  out.kind = KIND_CODE[e.kind];
  out.ts = e.ts;
  out.symbol = e.symbol;
  out.source = e.source;
  out.id = e.id;
  out.idStart = out.idEnd = -1;
  if (e.kind === 'trade') {
    out.price = e.price;
    out.size = e.size;
    out.conditions = e.conditions.length === 0 ? null : e.conditions.join(',');
  } else if (e.kind === 'quote') {
    out.bid = e.bid;
    out.ask = e.ask;
    out.bidSize = e.bidSize;
    out.askSize = e.askSize;
  } else {
    out.interval = INTERVALS.indexOf(e.interval);
    out.open = e.open;
    out.high = e.high;
    out.low = e.low;
    out.close = e.close;
    out.volume = e.volume;
  }
}

/**
 * Decodes `encodeEvent` output, the bytes [start, end) of `bytes` (all of it by default), into
 * `out`, making no object; the id stays bytes: [idStart, idEnd) of `bytes`. Throws as decodeEvent does.
 */
export function decodeEventFields(bytes: Uint8Array, out: EventFields, start = 0, end = bytes.length): void {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[start] !== VERSION) throw new RangeError(`event codec: expected version ${VERSION}, got ${buf[start]}`);
  const kind = buf[start + 1] as number;
  if (kind > 2) throw new RangeError(`event codec: unknown kind code ${kind}`);
  clearKindFields(out);
  out.kind = kind;
  out.ts = readFloat64LE(buf, start + 2);
  let pos = start + 10;
  if (kind === 0) {
    out.price = readFloat64LE(buf, pos);
    out.size = readFloat64LE(buf, pos + 8);
    const n = buf[pos + 16] as number;
    pos += 17;
    for (let i = 0; i < n; i++) {
      const c = readStr(buf, pos);
      out.conditions = i === 0 ? c : `${out.conditions},${c}`;
      pos += 2 + buf.readUInt16LE(pos);
    }
  } else if (kind === 1) {
    out.bid = readFloat64LE(buf, pos);
    out.ask = readFloat64LE(buf, pos + 8);
    out.bidSize = readFloat64LE(buf, pos + 16);
    out.askSize = readFloat64LE(buf, pos + 24);
    pos += 32;
  } else {
    out.interval = buf[pos] as number;
    out.open = readFloat64LE(buf, pos + 1);
    out.high = readFloat64LE(buf, pos + 9);
    out.low = readFloat64LE(buf, pos + 17);
    out.close = readFloat64LE(buf, pos + 25);
    out.volume = readFloat64LE(buf, pos + 33);
    pos += 41;
  }
  out.symbol = readSharedStr(buf, pos);
  pos += 2 + buf.readUInt16LE(pos);
  out.source = readSharedStr(buf, pos);
  pos += 2 + buf.readUInt16LE(pos);
  out.id = '';
  out.idStart = pos + 2;
  out.idEnd = pos + 2 + buf.readUInt16LE(pos);
  if (out.idEnd > end) throw new RangeError(`event codec: id of ${out.idEnd - out.idStart} bytes runs past the record's ${end - start}`);
}

/** Decodes `encodeEvent` output. Throws on an unknown version: the caller dead-letters the record. */
export function decodeEvent(bytes: Uint8Array): MarketEvent {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] !== VERSION) throw new RangeError(`event codec: expected version ${VERSION}, got ${buf[0]}`);
  const kind = buf[1];
  const ts = readFloat64LE(buf, 2);
  let pos = 10;
  if (kind === 0) {
    const price = readFloat64LE(buf, pos);
    const size = readFloat64LE(buf, pos + 8);
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
    const symbol = readSharedStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    const source = readSharedStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    return trade({ symbol, ts, source, id: readStr(buf, pos), price, size, conditions });
  }
  if (kind === 1) {
    const bid = readFloat64LE(buf, pos);
    const ask = readFloat64LE(buf, pos + 8);
    const bidSize = readFloat64LE(buf, pos + 16);
    const askSize = readFloat64LE(buf, pos + 24);
    pos += 32;
    const symbol = readSharedStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    const source = readSharedStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    return quote({ symbol, ts, source, id: readStr(buf, pos), bid, ask, bidSize, askSize });
  }
  if (kind === 2) {
    const interval = INTERVALS[buf[pos] as number] as Interval;
    const open = readFloat64LE(buf, pos + 1);
    const high = readFloat64LE(buf, pos + 9);
    const low = readFloat64LE(buf, pos + 17);
    const close = readFloat64LE(buf, pos + 25);
    const volume = readFloat64LE(buf, pos + 33);
    pos += 41;
    const symbol = readSharedStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    const source = readSharedStr(buf, pos);
    pos += 2 + buf.readUInt16LE(pos);
    return bar({ symbol, ts, source, id: readStr(buf, pos), interval, open, high, low, close, volume });
  }
  throw new RangeError(`event codec: unknown kind code ${kind}`);
}
