/**
 * The few file operations the journal needs, as promises over node:fs callbacks (lighter than
 * FileHandle on the hot path), with failures turned into SS_LOG_IO errors that name the file.
 */

import fs from 'node:fs';
import path from 'node:path';
import { StockStreamError } from '../../shared/errors.js';

export function ioError(what: string, file: string, cause: unknown): StockStreamError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StockStreamError(
    'SS_LOG_IO',
    `Expected to ${what} ${file}, but it failed: ${reason}. Check the disk (space, permissions) and the journal directory.`,
    { cause, context: { file } },
  );
}

export function openFile(file: string, flags: string | number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(file, flags, 0o644, (err, fd) => (err ? reject(ioError('open', file, err)) : resolve(fd)));
  });
}

export function closeFile(fd: number): Promise<void> {
  return new Promise((resolve) => fs.close(fd, () => resolve()));
}

/** Writes all of `buf[start, end)` at `position`, looping over short writes. */
export async function writeAt(fd: number, buf: Uint8Array, start: number, end: number, position: number, file: string): Promise<void> {
  while (start < end) {
    const n = await new Promise<number>((resolve, reject) => {
      fs.write(fd, buf, start, end - start, position, (err, written) =>
        err ? reject(ioError('write', file, err)) : resolve(written),
      );
    });
    start += n;
    position += n;
  }
}

/** Reads up to `length` bytes at `position` into a fresh buffer; the result may be shorter at EOF. */
export async function readAt(fd: number, length: number, position: number, file: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = await new Promise<number>((resolve, reject) => {
      fs.read(fd, buf, got, length - got, position + got, (err, read) => (err ? reject(ioError('read', file, err)) : resolve(read)));
    });
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

export function datasync(fd: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(ioError('fsync', file, err)) : resolve())));
}

export function truncateFd(fd: number, length: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, length, (err) => (err ? reject(ioError('truncate', file, err)) : resolve())));
}

export function fileSize(fd: number, file: string): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (err, st) => (err ? reject(ioError('stat', file, err)) : resolve(st.size))));
}

/** fsync of a file (its data and metadata) or of a directory (the names created or renamed in it). */
export async function syncPath(path: string, what = 'fsync'): Promise<void> {
  const fd = await openFile(path, 'r');
  try {
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(ioError(what, path, err)) : resolve())));
  } finally {
    await closeFile(fd);
  }
}

/** fsync of a directory makes the names created or renamed in it durable (a new file's entry). */
export function syncDir(dir: string): Promise<void> {
  return syncPath(dir, 'fsync directory');
}

/** Replaces `file` atomically: write a temp file, fsync it, rename over, fsync the directory. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, sync: boolean): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${tmpCounter++}`;
  const fd = await openFile(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    await writeAt(fd, bytes, 0, bytes.length, 0, tmp);
    if (sync) await datasync(fd, tmp);
  } finally {
    await closeFile(fd);
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    throw ioError('rename into', file, err);
  }
  if (sync) await syncDir(path.dirname(file));
}
let tmpCounter = 0;

export async function mkdirp(dir: string): Promise<void> {
  try {
    await fs.promises.mkdir(dir, { recursive: true });
  } catch (err) {
    throw ioError('create directory', dir, err);
  }
}
