import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { CRC32C_INIT, crc32c, crc32cUpdate } from '../../log/journal/crc32c.js';
import { StockStreamError } from '../../shared/errors.js';

/**
 * A checkpoint is the operator state of one partition together with the input offsets it covers
 * and the output positions it had written. It is the source of truth for where a restart
 * resumes; group offsets are committed to the log right after it, for visibility and lag.
 *
 * State is plain JSON data plus typed arrays: operators keep their bulk state (dedup
 * fingerprints, candle slots) in typed arrays so a checkpoint copies memory instead of building
 * and stringifying hundreds of thousands of values on the event loop.
 */
export interface Checkpoint<State> {
  readonly version: 1;
  readonly topic: string;
  readonly partition: number;
  /** Next input offset to process. */
  readonly offset: number;
  readonly state: State;
  readonly writtenAt: number;
}

/*
 * File format (little-endian), one file per partition, replaced atomically:
 *
 *   "SSCK"            4 bytes magic
 *   format            u32, = 2
 *   jsonBytes         u32
 *   json              UTF-8: the checkpoint with every typed array replaced by {"$bin": i}
 *   arrays            u32 count, then per array: u8 kind (index into ARRAY_KINDS), 3 bytes zero,
 *                     u32 byteLength, the bytes, zero padding to a multiple of 8
 *   crc               u32 CRC-32C of every byte before it
 *
 * The CRC turns a disk that returned bad bytes into a clear error instead of a wrong restore.
 */
const MAGIC = 0x4b435353; // "SSCK" read as a little-endian u32
const FORMAT = 2;
const ARRAY_KINDS = [Float64Array, Uint32Array, Int32Array, Uint8Array] as const;
type StoredArray = InstanceType<(typeof ARRAY_KINDS)[number]>;

function arrayKind(v: unknown): number {
  for (let k = 0; k < ARRAY_KINDS.length; k++) if (v instanceof ARRAY_KINDS[k]!) return k;
  return -1;
}

/**
 * `v` with every typed array inside replaced by {"$bin": i} (pushed onto `arrays`), copying only
 * the objects and arrays on the way to one; a JSON.stringify replacer would instead cost a call
 * per value of the whole state.
 */
function extractArrays(v: unknown, arrays: StoredArray[]): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (ArrayBuffer.isView(v)) {
    if (arrayKind(v) < 0) throw new TypeError(`checkpoint: ${v.constructor.name} is not a storable array; use one of ${ARRAY_KINDS.map((k) => k.name).join(', ')}`);
    return { $bin: arrays.push(v as StoredArray) - 1 };
  }
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      if (typeof e !== 'object' || e === null) continue;
      const x = extractArrays(e, arrays);
      if (x !== e) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | null = null;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const e = o[k];
    if (typeof e !== 'object' || e === null) continue;
    const x = extractArrays(e, arrays);
    if (x !== e) (out ??= { ...o })[k] = x;
  }
  return out ?? v;
}

/**
 * Bytes checksummed per event-loop turn: a tick pipeline's checkpoint is ~800 KB, whose CRC in
 * one piece held the loop for ~0.8 ms at every checkpoint of every partition (ticks waiting
 * behind it, BENCHMARKS.md); 64 KiB take ~60 µs.
 */
const CRC_SLICE_BYTES = 64 * 1024;

/**
 * The checkpoint as bytes: JSON for the small parts, raw memory for typed arrays. The bytes are
 * laid out before this returns (the state may change afterwards; a bad array throws at once); the
 * CRC is then computed CRC_SLICE_BYTES at a time, yielding to the event loop between slices.
 */
export function encodeCheckpoint(cp: Checkpoint<unknown>): Promise<Buffer> {
  const arrays: StoredArray[] = [];
  const json = Buffer.from(JSON.stringify(extractArrays(cp, arrays)));
  let size = 12 + json.length + 4;
  for (const a of arrays) size += 8 + ((a.byteLength + 7) & ~7);
  size += 4;
  const out = Buffer.alloc(size);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(FORMAT, 4);
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  let pos = 12 + json.length;
  out.writeUInt32LE(arrays.length, pos);
  pos += 4;
  for (const a of arrays) {
    out.writeUInt8(arrayKind(a), pos);
    out.writeUInt32LE(a.byteLength, pos + 4);
    pos += 8;
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), pos);
    pos += (a.byteLength + 7) & ~7;
  }
  return seal(out, pos);
}

async function seal(out: Buffer, end: number): Promise<Buffer> {
  let reg = CRC32C_INIT;
  for (let at = 0; at < end; at += CRC_SLICE_BYTES) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    reg = crc32cUpdate(reg, out, at, Math.min(end, at + CRC_SLICE_BYTES));
  }
  out.writeUInt32LE(~reg >>> 0, end);
  return out;
}

/** Inverse of encodeCheckpoint; throws an Error naming what is wrong with the bytes. */
export function decodeCheckpoint<State>(buf: Buffer): Checkpoint<State> {
  if (buf.length < 20 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not a StockStream checkpoint (bad magic)');
  if (buf.readUInt32LE(4) !== FORMAT) throw new Error(`unsupported checkpoint format ${buf.readUInt32LE(4)}, expected ${FORMAT}`);
  const end = buf.length - 4;
  if (crc32c(buf, 0, end) !== buf.readUInt32LE(end)) throw new Error('checksum mismatch (the file is damaged)');
  const jsonBytes = buf.readUInt32LE(8);
  let pos = 12 + jsonBytes;
  if (pos + 4 > end) throw new Error('truncated JSON section');
  const text = buf.toString('utf8', 12, pos);
  const count = buf.readUInt32LE(pos);
  pos += 4;
  const arrays: StoredArray[] = [];
  for (let i = 0; i < count; i++) {
    if (pos + 8 > end) throw new Error(`truncated array ${i}`);
    const Kind = ARRAY_KINDS[buf.readUInt8(pos)];
    const bytes = buf.readUInt32LE(pos + 4);
    pos += 8;
    if (Kind === undefined || pos + bytes > end || bytes % Kind.BYTES_PER_ELEMENT !== 0) throw new Error(`array ${i} has a bad kind or length`);
    // A copy, so the array is aligned and owns its memory whatever the file buffer's layout.
    const a = new Kind(bytes / Kind.BYTES_PER_ELEMENT);
    new Uint8Array(a.buffer).set(buf.subarray(pos, pos + bytes));
    arrays.push(a);
    pos += (bytes + 7) & ~7;
  }
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && typeof (value as { $bin?: unknown }).$bin === 'number') {
      const a = arrays[(value as { $bin: number }).$bin];
      if (a === undefined) throw new Error(`reference to missing array ${(value as { $bin: number }).$bin}`);
      return a;
    }
    return value;
  }) as Checkpoint<State>;
}

/**
 * Where checkpoints are kept: a local directory when embedded (FileCheckpointStore), a log topic
 * when partitions move between processes (LogCheckpointStore), so a partition's new owner finds
 * the state its previous owner saved.
 */
export interface CheckpointStore {
  /** Encodes now (the state may change after this returns); resolves once the checkpoint is durable. */
  save<State>(name: string, checkpoint: Checkpoint<State>): Promise<void>;
  /** The newest complete checkpoint of the partition, or null when it has none. */
  load<State>(name: string, partition: number): Promise<Checkpoint<State> | null>;
}

/** Durable checkpoints: write to a temporary file, fsync, rename over, fsync the folder. */
export class FileCheckpointStore implements CheckpointStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(name: string, partition: number): string {
    return join(this.#dir, `${name}-p${partition}.ckpt`);
  }

  /** Encodes now (the state may change after this returns), then writes in the background of the returned promise. */
  save<State>(name: string, checkpoint: Checkpoint<State>): Promise<void> {
    return this.#write(this.#path(name, checkpoint.partition), encodeCheckpoint(checkpoint));
  }

  async #write(path: string, encoding: Promise<Buffer>): Promise<void> {
    const bytes = await encoding;
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async load<State>(name: string, partition: number): Promise<Checkpoint<State> | null> {
    const path = this.#path(name, partition);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StockStreamError('SS_PROCESS_STATE', `checkpoint ${path}: cannot be read (${(err as Error).message})`, { cause: err });
    }
    return restorable<State>(bytes, partition, `checkpoint ${path}`, 'delete it', { path });
  }
}

/**
 * The checkpoint of `partition` in `bytes`, or SS_PROCESS_STATE saying what is wrong with it
 * (`what` names where it came from, `fix` how to start over from the log instead).
 */
export function restorable<State>(bytes: Buffer, partition: number, what: string, fix: string, context: Record<string, unknown>): Checkpoint<State> {
  try {
    const cp = decodeCheckpoint<State>(bytes);
    if (cp.version !== 1 || cp.partition !== partition || typeof cp.offset !== 'number') throw new Error('unexpected shape');
    return cp;
  } catch (err) {
    throw new StockStreamError('SS_PROCESS_STATE', `${what}: is not a valid checkpoint (${(err as Error).message}); ${fix} to rebuild state from the log`, { cause: err, context });
  }
}
