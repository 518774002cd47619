/** Number and time formats for the dashboard. Prices keep their market's convention (VND has no decimals). */

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const fmtCache = new Map<string, Intl.NumberFormat>();

function nf(digits: number): Intl.NumberFormat {
  const key = String(digits);
  let f = fmtCache.get(key);
  if (f === undefined) fmtCache.set(key, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f;
}

function priceDigits(currency: string | null | undefined): number {
  return currency === 'VND' ? 0 : 2;
}

export function price(v: number | null | undefined, currency?: string | null): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : nf(priceDigits(currency)).format(v);
}

export function pct(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${v > 0 ? '+' : ''}${nf(2).format(v)}%`;
}

export function num(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : nf(digits).format(v);
}

export function big(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : compact.format(v);
}

export function bytes(v: number): string {
  if (v < 1024) return `${v} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let x = v / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x.toFixed(x < 10 ? 1 : 0)} ${units[i]}`;
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
  return `${Math.floor(ms / 86_400_000)} d ${Math.round((ms % 86_400_000) / 3_600_000)} h`;
}

const timeFmts = new Map<string, Intl.DateTimeFormat>();

/** `ms` in a time zone; `style` picks the fields. */
export function time(ms: number, timeZone = 'UTC', style: 'time' | 'datetime' | 'date' | 'seconds' = 'datetime'): string {
  const key = `${timeZone}|${style}`;
  let f = timeFmts.get(key);
  if (f === undefined) {
    const o: Intl.DateTimeFormatOptions = { timeZone, hourCycle: 'h23' };
    if (style !== 'time' && style !== 'seconds') Object.assign(o, { year: 'numeric', month: '2-digit', day: '2-digit' });
    if (style !== 'date') Object.assign(o, { hour: '2-digit', minute: '2-digit' });
    if (style === 'seconds' || style === 'datetime') o.second = '2-digit';
    timeFmts.set(key, (f = new Intl.DateTimeFormat('en-CA', o)));
  }
  return f.format(ms);
}

/** "in 3 h 20 min" / "5 min ago". */
export function relative(ms: number, now = Date.now()): string {
  const d = ms - now;
  return d >= 0 ? `in ${duration(d)}` : `${duration(-d)} ago`;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** RFC 4180 CSV: header row then rows, CRLF line ends. */
export function toCsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [columns.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\r\n') + '\r\n';
}
