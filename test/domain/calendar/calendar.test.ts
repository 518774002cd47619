import { describe, expect, it, vi } from 'vitest';
import { calendarFor, NYSE_HOLIDAYS, VN_HOLIDAYS, zonedToUtc } from '../../../src/domain/index.js';

const utc = (iso: string): number => Date.parse(iso);
const MIN = 60_000;

describe('zonedToUtc', () => {
  it('converts New York wall time with the offset in force on that date (DST-correct)', () => {
    expect(zonedToUtc('2025-03-07', 570, 'America/New_York'), 'EST (UTC−5) before the spring change').toBe(utc('2025-03-07T14:30:00Z'));
    expect(zonedToUtc('2025-03-10', 570, 'America/New_York'), 'EDT (UTC−4) after the spring change').toBe(utc('2025-03-10T13:30:00Z'));
    expect(zonedToUtc('2025-11-03', 570, 'America/New_York'), 'back to EST after the fall change').toBe(utc('2025-11-03T14:30:00Z'));
    expect(zonedToUtc('2025-03-09', 150, 'America/New_York'), '02:30 does not exist on 2025-03-09: it maps past the gap (03:30 EDT)').toBe(utc('2025-03-09T07:30:00Z'));
  });
});

describe('NYSE calendar', () => {
  const nyse = calendarFor('NYSE');

  it('places the 09:30–16:00 session in UTC by the date’s DST offset', () => {
    const winter = nyse.day('2025-03-07');
    expect(winter?.regular, 'EST: 14:30–21:00 UTC').toEqual([{ start: utc('2025-03-07T14:30:00Z'), end: utc('2025-03-07T21:00:00Z') }]);
    expect(winter?.pre, 'pre 04:00–09:30 EST').toEqual({ start: utc('2025-03-07T09:00:00Z'), end: utc('2025-03-07T14:30:00Z') });
    expect(winter?.post, 'post 16:00–20:00 EST').toEqual({ start: utc('2025-03-07T21:00:00Z'), end: utc('2025-03-08T01:00:00Z') });
    const summer = nyse.day('2025-03-10');
    expect(summer?.regular, 'EDT: 13:30–20:00 UTC the Monday after the spring change').toEqual([{ start: utc('2025-03-10T13:30:00Z'), end: utc('2025-03-10T20:00:00Z') }]);
  });

  it('handles the DST transition days themselves (Sundays: closed all day, 23 h and 25 h long)', () => {
    for (const date of ['2025-03-09', '2025-11-02']) {
      expect(nyse.day(date), `${date} is a Sunday: no session`).toBeNull();
      expect(nyse.isTradingDate(date), `${date} is not a trading date`).toBe(false);
    }
    const open = calendarFor('NYSE', { alwaysOpen: true });
    const spring = open.day('2025-03-09')?.regular[0];
    expect(spring && spring.end - spring.start, 'the spring-forward local day lasts 23 h').toBe(23 * 60 * MIN);
    const fall = open.day('2025-11-02')?.regular[0];
    expect(fall && fall.end - fall.start, 'the fall-back local day lasts 25 h').toBe(25 * 60 * MIN);
    expect(open.dayAt(utc('2025-11-02T05:30:00Z'))?.date, '01:30 EDT (first pass) belongs to 2025-11-02').toBe('2025-11-02');
    expect(open.dayAt(utc('2025-11-02T06:30:00Z'))?.date, '01:30 EST (second pass) still belongs to 2025-11-02').toBe('2025-11-02');
    expect(open.dayAt(utc('2025-11-03T04:59:59.999Z'))?.date, '23:59:59.999 EST is the last instant of 2025-11-02').toBe('2025-11-02');
    expect(open.dayAt(utc('2025-11-03T05:00:00Z'))?.date, 'local midnight EST starts 2025-11-03').toBe('2025-11-03');
    expect(nyse.day('2025-11-03')?.regular[0]?.start, 'the Monday after fall-back opens at 14:30 UTC').toBe(utc('2025-11-03T14:30:00Z'));
    expect(nyse.day('2025-10-31')?.regular[0]?.start, 'the Friday before fall-back opens at 13:30 UTC').toBe(utc('2025-10-31T13:30:00Z'));
  });

  it('reports phases with start inclusive and end exclusive', () => {
    const cases: [string, string][] = [
      ['2025-03-10T07:59:59.999Z', 'closed'],
      ['2025-03-10T08:00:00.000Z', 'pre'],
      ['2025-03-10T13:29:59.999Z', 'pre'],
      ['2025-03-10T13:30:00.000Z', 'regular'],
      ['2025-03-10T19:59:59.999Z', 'regular'],
      ['2025-03-10T20:00:00.000Z', 'post'],
      ['2025-03-10T23:59:59.999Z', 'post'],
      ['2025-03-11T00:00:00.000Z', 'closed'],
    ];
    for (const [iso, phase] of cases) expect(nyse.phaseAt(utc(iso)), `${iso} must be ${phase}`).toBe(phase);
    // Revisit out of order so the cached segment cannot hide a wrong answer.
    for (const [iso, phase] of [...cases].reverse()) expect(nyse.phaseAt(utc(iso)), `${iso} must be ${phase} (reverse order)`).toBe(phase);
  });

  it('returns the day only inside its pre-to-post span', () => {
    expect(nyse.dayAt(utc('2025-03-10T08:00:00Z'))?.date, 'pre-market belongs to the day').toBe('2025-03-10');
    expect(nyse.dayAt(utc('2025-03-10T23:59:00Z'))?.date, 'post-market belongs to the day').toBe('2025-03-10');
    expect(nyse.dayAt(utc('2025-03-11T00:00:00Z')), 'after 20:00 local no session day').toBeNull();
    expect(nyse.dayAt(utc('2025-03-10T07:00:00Z')), 'before 04:00 local no session day').toBeNull();
  });

  it('closes on weekends and the built-in holidays, and replaces them when given', () => {
    expect(nyse.isTradingDate('2025-03-08'), 'Saturday').toBe(false);
    expect(nyse.day('2025-07-04'), 'Independence Day is a holiday').toBeNull();
    expect(nyse.phaseAt(utc('2025-07-04T15:00:00Z')), 'regular hours on a holiday are closed').toBe('closed');
    expect(nyse.dayAt(utc('2025-07-04T15:00:00Z')), 'no session day on a holiday').toBeNull();
    for (const d of NYSE_HOLIDAYS) {
      const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
      expect(wd > 0 && wd < 6, `built-in holiday ${d} must be a weekday (observed date)`).toBe(true);
    }
    const custom = calendarFor('NYSE', { holidays: ['2025-03-10'] });
    expect(custom.isTradingDate('2025-03-10'), 'a configured holiday closes the day').toBe(false);
    expect(custom.isTradingDate('2025-07-04'), 'configured holidays replace the built-in list').toBe(true);
  });

  it('shortens the session on early-close days and moves post-market with it', () => {
    const d = nyse.day('2025-12-24');
    expect(d?.regular, 'Christmas Eve closes at 13:00 EST').toEqual([{ start: utc('2025-12-24T14:30:00Z'), end: utc('2025-12-24T18:00:00Z') }]);
    expect(d?.post, 'after-hours 13:00–17:00').toEqual({ start: utc('2025-12-24T18:00:00Z'), end: utc('2025-12-24T22:00:00Z') });
  });

  it('finds the next regular open strictly after a time, skipping weekends and holidays', () => {
    expect(nyse.nextOpen(utc('2025-07-03T12:00:00Z')), 'before the open: the same day').toBe(utc('2025-07-03T13:30:00Z'));
    expect(nyse.nextOpen(utc('2025-07-03T13:30:00Z')), 'strictly after: at the open, the next one (skips the holiday and the weekend)').toBe(utc('2025-07-07T13:30:00Z'));
    expect(nyse.nextOpen(utc('2025-03-07T22:00:00Z')), 'Friday night → Monday, across the DST change').toBe(utc('2025-03-10T13:30:00Z'));
    expect(calendarFor('NYSE', { holidays: [] }).nextOpen(utc('2025-07-03T22:00:00Z')), 'without holidays Jul 4 opens').toBe(utc('2025-07-04T13:30:00Z'));
  });

  it('rejects malformed dates loudly', () => {
    expect(() => nyse.day('2025-3-1'), 'a malformed date is a caller bug').toThrow(RangeError);
    expect(() => calendarFor('NYSE', { holidays: ['2025-02-30'] }), 'an impossible holiday fails at start').toThrow(RangeError);
  });
});

describe('HOSE calendar', () => {
  const hose = calendarFor('HOSE');

  it('has two regular windows with a lunch break, UTC+7 all year', () => {
    const d = hose.day('2025-03-04');
    expect(d?.regular, '09:00–11:30 and 13:00–14:45 local = 02:00–04:30 and 06:00–07:45 UTC').toEqual([
      { start: utc('2025-03-04T02:00:00Z'), end: utc('2025-03-04T04:30:00Z') },
      { start: utc('2025-03-04T06:00:00Z'), end: utc('2025-03-04T07:45:00Z') },
    ]);
    expect([d?.pre, d?.post], 'no pre or post market').toEqual([null, null]);
    expect(hose.phaseAt(utc('2025-03-04T01:59:59.999Z')), 'before 09:00 closed').toBe('closed');
    expect(hose.phaseAt(utc('2025-03-04T02:00:00Z')), '09:00 regular').toBe('regular');
    expect(hose.phaseAt(utc('2025-03-04T04:30:00Z')), '11:30 is lunch').toBe('lunch');
    expect(hose.phaseAt(utc('2025-03-04T05:59:59.999Z')), '12:59:59.999 is lunch').toBe('lunch');
    expect(hose.phaseAt(utc('2025-03-04T06:00:00Z')), '13:00 regular again').toBe('regular');
    expect(hose.phaseAt(utc('2025-03-04T07:45:00Z')), '14:45 closed').toBe('closed');
    expect(hose.dayAt(utc('2025-03-04T05:00:00Z'))?.date, 'the lunch break is inside the trading day').toBe('2025-03-04');
    expect(hose.nextOpen(utc('2025-03-04T05:00:00Z')), 'the afternoon re-open counts as the next open').toBe(utc('2025-03-04T06:00:00Z'));
    expect(hose.localDate(utc('2025-03-03T17:00:00Z')), 'UTC 17:00 is already the next local date').toBe('2025-03-04');
  });

  it('closes on weekends and the (best-effort) Tet holidays', () => {
    expect(hose.isTradingDate('2025-03-08'), 'Saturday').toBe(false);
    expect(hose.isTradingDate('2025-01-29'), 'Tet 2025').toBe(false);
    for (const d of VN_HOLIDAYS) {
      const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
      expect(wd > 0 && wd < 6, `built-in VN holiday ${d} must be a weekday`).toBe(true);
    }
  });
});

describe('CRYPTO and alwaysOpen', () => {
  it('crypto trades 24/7 with UTC dates as days', () => {
    const c = calendarFor('CRYPTO');
    expect(c.phaseAt(utc('2025-03-08T03:00:00Z')), 'Saturday night is regular').toBe('regular');
    expect(c.day('2025-03-09')?.regular, 'one UTC-day window, even on the US DST day').toEqual([{ start: utc('2025-03-09T00:00:00Z'), end: utc('2025-03-10T00:00:00Z') }]);
    expect(c.dayAt(utc('2025-12-25T23:59:59.999Z'))?.date, 'no holidays; the day is the UTC date').toBe('2025-12-25');
    expect(c.nextOpen(utc('2025-03-08T03:00:00Z')), 'next open is the next UTC midnight').toBe(utc('2025-03-09T00:00:00Z'));
  });

  it('alwaysOpen makes every instant regular, days keyed by local date', () => {
    const h = calendarFor('HOSE', { alwaysOpen: true });
    for (const iso of ['2025-03-08T12:00:00Z', '2025-01-29T03:00:00Z', '2025-03-04T05:00:00Z', '2025-03-03T17:00:00Z']) {
      expect(h.phaseAt(utc(iso)), `${iso} must be regular with alwaysOpen (weekend, holiday, lunch, midnight)`).toBe('regular');
    }
    expect(h.dayAt(utc('2025-03-03T17:30:00Z'))?.regular, 'local day 00:00–24:00 +07').toEqual([{ start: utc('2025-03-03T17:00:00Z'), end: utc('2025-03-04T17:00:00Z') }]);
  });
});

describe('hot-path cost', () => {
  it('answers per-tick calls inside a known day without time-zone arithmetic', () => {
    const cal = calendarFor('NYSE');
    const spy = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    try {
      const open = utc('2025-03-10T13:30:00Z');
      cal.phaseAt(open);
      const warm = spy.mock.calls.length;
      // A whole session of ticks, crossing pre → regular → post segments of the same date.
      for (let ts = utc('2025-03-10T08:00:00Z'); ts < utc('2025-03-11T00:00:00Z'); ts += 1000) {
        cal.phaseAt(ts);
        cal.dayAt(ts);
      }
      expect(spy.mock.calls.length - warm, 'a day of per-second ticks must reuse the cached date (no Intl call per tick)').toBe(0);
    } finally {
      spy.mockRestore();
    }
  });
});
