/**
 * Exchange-local wall time ↔ UTC without a time-zone library: Intl.DateTimeFormat tells the
 * wall time of an instant in a zone, from which the zone's offset follows. Formatters are cached
 * per zone because constructing one is far slower than using it. 'UTC' skips Intl entirely.
 */

const MS_PER_MIN = 60_000;
const MS_PER_DAY = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's wall time at `ts`, expressed as if that wall time were UTC (ms, second precision). */
function wallAsUtc(ts: number, timeZone: string): number {
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of formatterFor(timeZone).formatToParts(ts)) {
    switch (p.type) {
      case 'year': y = Number(p.value); break;
      case 'month': mo = Number(p.value); break;
      case 'day': d = Number(p.value); break;
      case 'hour': h = Number(p.value); break;
      case 'minute': mi = Number(p.value); break;
      case 'second': s = Number(p.value); break;
      default: break;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** Offset of the zone at instant ts: local wall time minus UTC, in ms (New York in winter: −5 h). */
export function zoneOffsetMs(ts: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  const whole = Math.floor(ts / 1000) * 1000;
  return wallAsUtc(whole, timeZone) - whole;
}

/** Parses 'YYYY-MM-DD' to the epoch ms of that date's 00:00 UTC; throws RangeError when malformed. */
export function parseDate(date: string): number {
  const m = DATE_RE.exec(date);
  if (m === null) throw new RangeError(`date: expected 'YYYY-MM-DD', got ${JSON.stringify(date)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new RangeError(`date: ${JSON.stringify(date)} is not a calendar date`);
  }
  return ms;
}

/** Formats the UTC calendar date of `ms` as 'YYYY-MM-DD'. */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The date `days` after 'YYYY-MM-DD'. */
export function addDays(date: string, days: number): string {
  return formatDate(parseDate(date) + days * MS_PER_DAY);
}

/** Day of week of 'YYYY-MM-DD': 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  return new Date(parseDate(date)).getUTCDay();
}

/** The zone-local date of ts as 'YYYY-MM-DD'. */
export function localDateOf(ts: number, timeZone: string): string {
  return formatDate(ts + zoneOffsetMs(ts, timeZone));
}

/**
 * The instant at which the zone's wall clock reads `minutes` after midnight of `date` (minutes may
 * be 1440 for the next midnight). A wall time skipped by a spring-forward gap maps to the instant
 * after the gap, like Temporal's 'compatible' disambiguation; session times never fall in a gap.
 */
export function zonedToUtc(date: string, minutes: number, timeZone: string): number {
  const naive = parseDate(date) + minutes * MS_PER_MIN;
  if (timeZone === 'UTC') return naive;
  const o1 = zoneOffsetMs(naive, timeZone);
  const a = naive - o1;
  const oa = zoneOffsetMs(a, timeZone);
  if (oa === o1) return a;
  const b = naive - oa;
  if (zoneOffsetMs(b, timeZone) === oa) return b;
  return Math.max(a, b);
}

/** Parses 'HH:MM' to minutes after midnight; throws RangeError when malformed. */
export function parseClock(clock: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(clock);
  const h = m === null ? NaN : Number(m[1]);
  const mi = m === null ? NaN : Number(m[2]);
  if (!(h >= 0 && h <= 24 && mi >= 0 && mi < 60) || h * 60 + mi > 1440) {
    throw new RangeError(`time: expected 'HH:MM' between 00:00 and 24:00, got ${JSON.stringify(clock)}`);
  }
  return h * 60 + mi;
}
