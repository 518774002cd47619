import { isStockStreamError } from '../shared/errors.js';

/**
 * What the CLI prints for a failure: one line (or the config problem list) and no stack trace for
 * user and external errors; internal errors add the stack because they are bugs to report.
 */
export function describeFailure(err: unknown): { text: string; exitCode: number } {
  if (isStockStreamError(err)) {
    const text = `stockstream: ${err.message} [${err.code}]`;
    if (err.kind === 'internal') return { text: `${text}\n${err.stack ?? ''}`, exitCode: 70 };
    return { text, exitCode: err.kind === 'user' ? 2 : 1 };
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string') {
    // Operating-system errors (EADDRINUSE, EACCES, ...) are environmental, not bugs.
    return { text: `stockstream: ${e.message}`, exitCode: 1 };
  }
  return { text: `stockstream: unexpected error: ${(err as Error)?.stack ?? String(err)}`, exitCode: 70 };
}
