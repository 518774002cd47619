import { StockStreamError } from '../../shared/errors.js';
import type { OhlcvBar } from './indicator.js';

/**
 * OHLCV CSV for `stockstream indicators --input` (ARCHITECTURE.md §5).
 *
 * Wire format: a header line, then one bar per line, comma-separated, oldest first. The header
 * names a time column (`date`, `time` or `timestamp`, case-insensitive; the first found wins) and
 * `open,high,low,close,volume` in any order; other columns are ignored. Fields may be wrapped in
 * double quotes (a doubled quote inside is a literal quote). Blank lines are skipped. The VWAP
 * session is the date part of the time value: the first 10 characters of an ISO-like date
 * (`2024-03-01`, `2024-03-01T14:30:00Z`, `2024-03-01 09:30`), or the UTC date of an epoch number
 * (seconds below 1e11, milliseconds above).
 */
export function readOhlcvCsv(text: string): OhlcvBar[] {
  const lines = text.split(/\r?\n/);
  let headerLine = 0;
  while (headerLine < lines.length && (lines[headerLine] as string).trim() === '') headerLine++;
  if (headerLine >= lines.length) {
    throw fileError('the file is empty; expected a header such as "date,open,high,low,close,volume"');
  }
  const header = splitCsvLine(stripBom(lines[headerLine] as string), headerLine + 1).map((h) => h.trim().toLowerCase());
  const find = (name: string): number => header.indexOf(name);
  let timeCol = -1;
  for (const name of ['date', 'time', 'timestamp']) {
    timeCol = find(name);
    if (timeCol >= 0) break;
  }
  const priceNames = ['open', 'high', 'low', 'close', 'volume'] as const;
  const missing: string[] = [];
  if (timeCol < 0) missing.push('a time column (date, time or timestamp)');
  const cols = priceNames.map((name) => {
    const i = find(name);
    if (i < 0) missing.push(`"${name}"`);
    return i;
  });
  if (missing.length > 0) {
    throw fileError(
      `line ${headerLine + 1}: the header lacks ${missing.join(', ')}; expected a time column (date, time or timestamp) and open, high, low, close, volume, got "${header.join(',')}"`,
    );
  }
  const [openCol, highCol, lowCol, closeCol, volumeCol] = cols as [number, number, number, number, number];
  const bars: OhlcvBar[] = [];
  for (let l = headerLine + 1; l < lines.length; l++) {
    const line = lines[l] as string;
    if (line.trim() === '') continue;
    const lineNo = l + 1;
    const fields = splitCsvLine(line, lineNo);
    if (fields.length !== header.length) {
      throw fileError(`line ${lineNo}: expected ${header.length} fields like the header, got ${fields.length}`);
    }
    const num = (col: number): number => {
      const raw = (fields[col] as string).trim();
      const v = raw === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(v)) {
        throw fileError(`line ${lineNo}, column "${header[col]}": expected a number, got "${raw}"`);
      }
      return v;
    };
    bars.push({
      open: num(openCol),
      high: num(highCol),
      low: num(lowCol),
      close: num(closeCol),
      volume: volumeOf(num(volumeCol), lineNo, header[volumeCol] as string),
      session: sessionOf((fields[timeCol] as string).trim(), lineNo, header[timeCol] as string),
    });
  }
  return bars;
}

function volumeOf(v: number, lineNo: number, column: string): number {
  // A negative volume would silently flip OBV, MFI and VWAP: refuse it where it can still be fixed.
  if (v < 0) throw fileError(`line ${lineNo}, column "${column}": expected a non-negative number, got "${v}"`);
  return v;
}

function sessionOf(raw: string, lineNo: number, column: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(raw)) return raw.slice(0, 10);
  if (/^\d+(\.\d+)?$/.test(raw)) {
    const n = Number(raw);
    return new Date(n < 1e11 ? n * 1000 : n).toISOString().slice(0, 10);
  }
  throw fileError(
    `line ${lineNo}, column "${column}": expected a date or time such as 2024-03-01, 2024-03-01T14:30:00Z or epoch milliseconds, got "${raw}"`,
  );
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function splitCsvLine(line: string, lineNo: number): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw fileError(`line ${lineNo}: a quoted field is not closed; close it with a double quote`);
  out.push(field);
  return out;
}

function fileError(message: string): StockStreamError {
  return new StockStreamError('SS_CLI_FILE', message);
}
