/**
 * One segment of a partition: `<baseOffset, 20 digits>.log` holds record frames (record-frame.ts)
 * and `<baseOffset>.index` holds its sparse index once the segment is sealed. The index keeps one
 * entry per `indexIntervalBytes` of frames: (offset, file position, newest timestamp before that
 * position), so a read by offset or by timestamp jumps near its target instead of scanning.
 * Timestamps may go backwards (producers set them), so the timestamp column is the running
 * maximum before each entry; it never decreases and can be binary-searched.
 *
 * Index file (little-endian), written only for sealed segments after their frames are durable;
 * the active segment's index lives in memory and is rebuilt by the recovery scan on open:
 *
 *   byte  0  u32  magic 0x31585353 ("SSX1")
 *   byte  4  u32  entryCount
 *   byte  8  f64  baseOffset
 *   byte 16  f64  lastOffset       (baseOffset - 1 when empty)
 *   byte 24  f64  segmentBytes     the .log size the index describes; a mismatch forces a rescan
 *   byte 32  f64  maxTimestamp
 *   byte 40       entryCount × (f64 offset, f64 position, f64 maxTimestampBefore)
 *   end      u32  CRC-32C of every byte before it
 */

import fs from 'node:fs';
import path from 'node:path';
import type { LogRecord } from '../log.js';
import { crc32c } from './crc32c.js';
import { closeFile, readAt, writeFileAtomic } from './fs-io.js';
import { checkFrame, decodeFrame, FRAME_CORRUPT, FRAME_INCOMPLETE, frameOffset, frameTimestamp, MAX_FRAME_BYTES } from './record-frame.js';

const INDEX_MAGIC = 0x31585353;
const INDEX_HEADER = 40;
const READ_BLOCK = 256 * 1024;
const SCAN_BLOCK = 1024 * 1024;
/** Largest block read ahead for a sequential reader (a poll of 10,000 ticks takes ~1 MB). */
const READ_AHEAD_MAX = 2 * 1024 * 1024;

export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

export class Segment {
  readonly baseOffset: number;
  readonly file: string;
  readonly indexFile: string;
  readonly fd: number;
  /** Bytes readers may see: written and durable under the policy. */
  size = 0;
  /** Bytes written or being written; the next write goes here. */
  writePos = 0;
  lastOffset: number;
  maxTimestamp = -Infinity;
  /** Written under policy 'never' since the last fdatasync; close() syncs it. */
  unsynced = false;
  readonly idxOffset: number[] = [];
  readonly idxPosition: number[] = [];
  readonly idxMaxTsBefore: number[] = [];
  #refs = 0;
  #retired = false;
  #fdClosed = false;
  /**
   * The block after the last consumer read that stopped at its `max`, already being read: a
   * consumer working through a backlog asks for it next, and the thread-pool read (~0.15 ms for
   * 256 KB alone, ~0.7 ms while DuckDB's threads hold the cores) then overlaps what the caller does
   * with the records it got. Segment bytes below `size` never change, so the block stays valid.
   * One slot: another read leaves it alone; the next read ahead (of any consumer) replaces it.
   */
  #ahead: { nextOffset: number; position: number; bytes: Promise<Buffer | null> } | null = null;

  constructor(dir: string, baseOffset: number, fd: number) {
    this.baseOffset = baseOffset;
    this.file = path.join(dir, segmentFileName(baseOffset));
    this.indexFile = this.file.slice(0, -4) + '.index';
    this.fd = fd;
    this.lastOffset = baseOffset - 1;
  }

  addIndexEntry(offset: number, position: number, maxTsBefore: number): void {
    this.idxOffset.push(offset);
    this.idxPosition.push(position);
    this.idxMaxTsBefore.push(maxTsBefore);
  }

  /** File position of the last index entry at or before `offset`. */
  positionForOffset(offset: number): number {
    const a = this.idxOffset;
    let lo = 0;
    let hi = a.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! <= offset) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best < 0 ? 0 : this.idxPosition[best]!;
  }

  /** File position from which the first record with timestamp >= ts must lie. */
  positionForTimestamp(ts: number): number {
    const a = this.idxMaxTsBefore;
    let lo = 0;
    let hi = a.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < ts) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best < 0 ? 0 : this.idxPosition[best]!;
  }

  /**
   * Keeps the fd open while an async operation uses it, even if retention deletes the segment
   * meanwhile. Returns false if the segment is already retired: its fd number may belong to
   * another file by now, so the caller must not touch it.
   */
  acquire(): boolean {
    if (this.#retired) return false;
    this.#refs++;
    return true;
  }

  get retired(): boolean {
    return this.#retired;
  }

  release(): void {
    if (--this.#refs === 0 && this.#retired) void this.#closeFd();
  }

  /** Removes the files; the fd closes when the last user releases it. */
  async retire(): Promise<void> {
    this.#retired = true;
    this.#ahead = null;
    await Promise.allSettled([fs.promises.unlink(this.file), fs.promises.unlink(this.indexFile)]);
    if (this.#refs === 0) await this.#closeFd();
  }

  async close(): Promise<void> {
    this.#retired = true;
    this.#ahead = null;
    if (this.#refs === 0) await this.#closeFd();
  }

  /**
   * Closes the fd once: a user's release during retire's unlink closes it, and retire must not
   * close it again (the number may belong to another file by then).
   */
  async #closeFd(): Promise<void> {
    if (this.#fdClosed) return;
    this.#fdClosed = true;
    await closeFile(this.fd);
  }

  /**
   * Appends to `out` the records with offset >= minOffset up to the visible size, until `out`
   * holds `max`. Returns false if a frame is damaged (caller raises SS_LOG_CORRUPT); a segment
   * retired by retention yields nothing. `readAhead`: a consumer's read that may stop at `max` in
   * a backlog; when it does, the block after it is read in the background for the next call (see
   * #ahead).
   */
  async readRecords(minOffset: number, max: number, out: LogRecord[], topic: string, partition: number, readAhead = false): Promise<boolean> {
    if (!this.acquire()) return true;
    try {
      const end = this.size;
      const ahead = this.#ahead;
      // Continuing where the last read stopped: start at its end, with the block read meanwhile.
      const resumed = ahead !== null && ahead.nextOffset === minOffset;
      if (resumed) this.#ahead = null;
      let pos = resumed ? ahead.position : this.positionForOffset(minOffset);
      const from = pos;
      let pending = resumed ? ahead.bytes : null;
      // A browser asking for a few records should not pull a whole block.
      let block = Math.min(READ_BLOCK, 16 * 1024 + max * 256);
      let last = -1;
      while (pos < end && out.length < max) {
        const early = pending === null ? null : await pending;
        pending = null;
        const fromAhead = early !== null && early.length > 0;
        const buf = fromAhead ? early : await readAt(this.fd, Math.min(block, end - pos), pos, this.file);
        let p = 0;
        while (p < buf.length && out.length < max) {
          const len = checkFrame(buf, p, buf.length);
          if (len === FRAME_INCOMPLETE) break;
          if (len === FRAME_CORRUPT) return false;
          const offset = frameOffset(buf, p);
          if (offset >= minOffset) {
            out.push(decodeFrame(buf, p, topic, partition));
            last = offset;
          }
          p += len;
        }
        // Read ahead for a smaller request, the block may end inside a frame: read from the file.
        if (p === 0 && fromAhead) continue;
        if (p === 0) {
          // One frame is larger than the block: read it whole next time.
          if (block >= MAX_FRAME_BYTES + 8 || buf.length < block) return false;
          block *= 2;
          continue;
        }
        pos += p;
      }
      // About what this call read (from its resume point or index entry), so the next one waits
      // for no read at all.
      if (readAhead && out.length >= max && last >= 0 && pos < end) {
        const next = Math.min(Math.max(block, Math.ceil((pos - from) * 1.25)), READ_AHEAD_MAX, end - pos);
        this.#ahead = { nextOffset: last + 1, position: pos, bytes: this.#readAhead(pos, next) };
      }
      return true;
    } finally {
      this.release();
    }
  }

  /** Reads `length` bytes at `position` for the next sequential read; null if that fails (the read then goes to the file itself). */
  #readAhead(position: number, length: number): Promise<Buffer | null> {
    if (!this.acquire()) return Promise.resolve(null);
    return readAt(this.fd, length, position, this.file)
      .catch(() => null)
      .finally(() => this.release());
  }

  /** Offset of the first record with timestamp >= ts, or -1 if none in the visible bytes. */
  async offsetForTimestamp(ts: number): Promise<number> {
    if (this.maxTimestamp < ts || !this.acquire()) return -1;
    try {
      const end = this.size;
      let pos = this.positionForTimestamp(ts);
      let block = READ_BLOCK;
      while (pos < end) {
        const buf = await readAt(this.fd, Math.min(block, end - pos), pos, this.file);
        let p = 0;
        while (p < buf.length) {
          const len = checkFrame(buf, p, buf.length);
          if (len < 0) break;
          if (frameTimestamp(buf, p) >= ts) return frameOffset(buf, p);
          p += len;
        }
        if (p === 0) {
          if (block >= MAX_FRAME_BYTES + 8 || buf.length < block) return -1;
          block *= 2;
          continue;
        }
        pos += p;
      }
      return -1;
    } finally {
      this.release();
    }
  }

  /**
   * Verifies every frame from the start of the file, rebuilding the index, lastOffset and
   * maxTimestamp. Returns the length of the valid prefix and why the scan stopped before the
   * end of the file, if it did (the caller truncates there).
   */
  async scan(fileSize: number, indexIntervalBytes: number): Promise<{ validBytes: number; problem: string | null }> {
    this.idxOffset.length = 0;
    this.idxPosition.length = 0;
    this.idxMaxTsBefore.length = 0;
    this.lastOffset = this.baseOffset - 1;
    this.maxTimestamp = -Infinity;
    let pos = 0;
    let lastIndexed = -Infinity;
    let block = SCAN_BLOCK;
    let problem: string | null = null;
    outer: while (pos < fileSize) {
      const buf = await readAt(this.fd, Math.min(block, fileSize - pos), pos, this.file);
      let p = 0;
      while (p < buf.length) {
        const len = checkFrame(buf, p, buf.length);
        if (len === FRAME_INCOMPLETE) break;
        const at = pos + p;
        if (len === FRAME_CORRUPT) {
          problem = `damaged frame (bad length or CRC) at byte ${at}`;
          pos = at;
          break outer;
        }
        const offset = frameOffset(buf, p);
        if (!Number.isSafeInteger(offset) || offset <= this.lastOffset) {
          problem = `frame at byte ${at} has offset ${offset}, expected above ${this.lastOffset}`;
          pos = at;
          break outer;
        }
        if (at === 0 || at - lastIndexed >= indexIntervalBytes) {
          this.addIndexEntry(offset, at, this.maxTimestamp);
          lastIndexed = at;
        }
        this.lastOffset = offset;
        const ts = frameTimestamp(buf, p);
        if (ts > this.maxTimestamp) this.maxTimestamp = ts;
        p += len;
      }
      if (p === 0) {
        if (buf.length < block || block >= MAX_FRAME_BYTES + 8) {
          problem = `torn frame at byte ${pos}: the file ends ${fileSize - pos} bytes into it`;
          break;
        }
        block *= 2;
        continue;
      }
      pos += p;
    }
    this.size = pos;
    this.writePos = pos;
    return { validBytes: pos, problem };
  }

  async writeIndexFile(sync: boolean): Promise<void> {
    const n = this.idxOffset.length;
    const buf = Buffer.alloc(INDEX_HEADER + n * 24 + 4);
    buf.writeUInt32LE(INDEX_MAGIC, 0);
    buf.writeUInt32LE(n, 4);
    buf.writeDoubleLE(this.baseOffset, 8);
    buf.writeDoubleLE(this.lastOffset, 16);
    buf.writeDoubleLE(this.size, 24);
    buf.writeDoubleLE(this.maxTimestamp, 32);
    for (let i = 0; i < n; i++) {
      const at = INDEX_HEADER + i * 24;
      buf.writeDoubleLE(this.idxOffset[i]!, at);
      buf.writeDoubleLE(this.idxPosition[i]!, at + 8);
      buf.writeDoubleLE(this.idxMaxTsBefore[i]!, at + 16);
    }
    buf.writeUInt32LE(crc32c(buf, 0, buf.length - 4), buf.length - 4);
    await writeFileAtomic(this.indexFile, buf, sync);
  }

  /** Loads the index file if it is intact and describes exactly `fileSize` bytes. */
  async loadIndexFile(fileSize: number): Promise<boolean> {
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(this.indexFile);
    } catch {
      return false;
    }
    if (buf.length < INDEX_HEADER + 4 || buf.readUInt32LE(0) !== INDEX_MAGIC) return false;
    const n = buf.readUInt32LE(4);
    if (buf.length !== INDEX_HEADER + n * 24 + 4) return false;
    if (crc32c(buf, 0, buf.length - 4) !== buf.readUInt32LE(buf.length - 4)) return false;
    if (buf.readDoubleLE(8) !== this.baseOffset || buf.readDoubleLE(24) !== fileSize) return false;
    this.lastOffset = buf.readDoubleLE(16);
    this.maxTimestamp = buf.readDoubleLE(32);
    for (let i = 0; i < n; i++) {
      const at = INDEX_HEADER + i * 24;
      this.addIndexEntry(buf.readDoubleLE(at), buf.readDoubleLE(at + 8), buf.readDoubleLE(at + 16));
    }
    this.size = fileSize;
    this.writePos = fileSize;
    return true;
  }
}
