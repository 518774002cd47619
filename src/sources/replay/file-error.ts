import { open, type FileHandle } from 'node:fs/promises';
import { StockStreamError } from '../../shared/errors.js';

/** SS_CLI_FILE naming the path, what was being done and the OS reason (ENOENT, EACCES, ...). */
export function fileError(file: string, doing: string, err: unknown): StockStreamError {
  const e = err as NodeJS.ErrnoException;
  const message = String(e?.message ?? err);
  // Node's own messages already start with the code ("ENOENT: no such file or directory, open …").
  const reason = e?.code !== undefined && !message.startsWith(e.code) ? `${e.code}: ${message}` : message;
  return new StockStreamError('SS_CLI_FILE', `${file}: cannot ${doing} (${reason}); check the path, that it is a readable file, and its permissions`, {
    cause: err,
    context: { file, osCode: e?.code },
  });
}

/** Opens a regular file for reading, turning every failure into SS_CLI_FILE up front. */
export async function openForReading(file: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw fileError(file, 'open the file', err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw new StockStreamError('SS_CLI_FILE', `${file}: is not a regular file (a directory or device); pass the path of a CSV, NDJSON or Parquet file`, {
        context: { file },
      });
    }
  } catch (err) {
    await fh.close();
    throw err instanceof StockStreamError ? err : fileError(file, 'stat the file', err);
  }
  return fh;
}
