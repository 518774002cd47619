/**
 * Event time from a file cell, as epoch milliseconds.
 *
 * - A number is taken as epoch ms (DuckDB hands TIMESTAMP/DATE columns over already converted).
 * - A string of digits is epoch time whose unit follows its length: up to 10 digits seconds
 *   (1700000000), 11-13 milliseconds, 14-16 microseconds, longer nanoseconds; a fraction is allowed.
 * - Anything else is ISO-8601 (`2024-01-02T14:30:00Z`, `2024-01-02 14:30:00.5+07:00`,
 *   `2024-01-02`). A date-time without a zone is taken as UTC so that a replay means the same thing
 *   on every machine.
 *
 * Returns the raw text when it cannot be read, so ingest validation rejects the row naming `ts`
 * and the value; undefined for an empty cell (a "missing" reject).
 */
export function parseEventTime(cell: string | number | null | undefined): number | string | undefined {
  if (cell === null || cell === undefined) return undefined;
  if (typeof cell === 'number') return cell;
  const s = cell.trim();
  if (s === '') return undefined;
  if (EPOCH_RE.test(s)) {
    const digits = s.indexOf('.') === -1 ? s.length : s.indexOf('.');
    const n = Number(s);
    if (digits <= 10) return Math.round(n * 1000);
    if (digits <= 13) return n;
    if (digits <= 16) return Math.round(n / 1000);
    return Math.round(n / 1_000_000);
  }
  const iso = s.length > 10 && s[10] === ' ' ? `${s.slice(0, 10)}T${s.slice(11)}` : s;
  const ms = Date.parse(NO_ZONE_RE.test(iso) ? `${iso}Z` : iso);
  return Number.isFinite(ms) ? ms : cell;
}

const EPOCH_RE = /^\d+(\.\d+)?$/;
const NO_ZONE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
