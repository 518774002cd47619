import { describe, expect, it } from 'vitest';
import { calendarFor, marketStatus } from '../../../src/domain/calendar/index.js';

const utc = (iso: string): number => Date.parse(iso);
const win = (start: string, end: string): { start: number; end: number } => ({ start: utc(start), end: utc(end) });

describe('marketStatus: NYSE (America/New_York, pre 04:00, regular 09:30–16:00, post to 20:00)', () => {
  const nyse = calendarFor('NYSE');
  // Friday 2025-03-07 is in EST (UTC−5); the clocks spring forward on Sunday 2025-03-09, so Monday is EDT (UTC−4).
  const friday = [win('2025-03-07T14:30:00Z', '2025-03-07T21:00:00Z')];
  const monday = [win('2025-03-10T13:30:00Z', '2025-03-10T20:00:00Z')];

  it('pre-market: the day’s window is ahead, no close, the next open is today’s 09:30', () => {
    expect(marketStatus(nyse, utc('2025-03-07T14:00:00Z')), '09:00 EST on a Friday is pre-market').toEqual({
      exchange: 'NYSE',
      timeZone: 'America/New_York',
      phase: 'pre',
      alwaysOpen: false,
      localTime: '09:00',
      localDate: '2025-03-07',
      nextOpen: utc('2025-03-07T14:30:00Z'),
      nextClose: null,
      sessions: friday,
    });
  });

  it('regular: the close is 16:00 local and the next open is the next trading day’s, across the DST change', () => {
    const s = marketStatus(nyse, utc('2025-03-07T14:30:00Z'));
    expect(s.phase, '09:30:00.000 is the first regular instant').toBe('regular');
    expect(s.nextClose, 'the session closes at 16:00 EST = 21:00 UTC').toBe(utc('2025-03-07T21:00:00Z'));
    expect(s.nextOpen, 'Monday opens at 09:30 EDT = 13:30 UTC (one hour earlier in UTC after the spring change)').toBe(utc('2025-03-10T13:30:00Z'));
    expect(s.sessions, 'today’s window').toEqual(friday);
    const summer = marketStatus(nyse, utc('2025-03-10T13:30:00Z'));
    expect([summer.phase, summer.localTime, summer.nextClose], 'Monday 09:30 EDT is regular and closes 20:00 UTC').toEqual(['regular', '09:30', utc('2025-03-10T20:00:00Z')]);
  });

  it('post-market: still the same session day (its windows are shown), no close, next open Monday', () => {
    const s = marketStatus(nyse, utc('2025-03-07T22:00:00Z'));
    expect([s.phase, s.localTime, s.nextClose], '17:00 EST is after-hours').toEqual(['post', '17:00', null]);
    expect(s.sessions, 'the session day containing now is Friday').toEqual(friday);
    expect(s.nextOpen, 'next open Monday 09:30 EDT').toBe(utc('2025-03-10T13:30:00Z'));
    const regularEnd = marketStatus(nyse, utc('2025-03-10T20:00:00Z'));
    expect(regularEnd.phase, '16:00:00.000 is already post (windows are half-open)').toBe('post');
  });

  it('closed at night: the local date is still Friday, the windows shown are the next trading day’s', () => {
    const s = marketStatus(nyse, utc('2025-03-08T02:00:00Z'));
    expect([s.phase, s.localDate, s.localTime], '21:00 EST Friday, after post-market').toEqual(['closed', '2025-03-07', '21:00']);
    expect(s.sessions, 'the next trading day is Monday').toEqual(monday);
    expect(s.nextOpen).toBe(utc('2025-03-10T13:30:00Z'));
  });

  it('a weekend is closed, and the hours before Monday’s pre-market show Monday', () => {
    const sat = marketStatus(nyse, utc('2025-03-08T17:00:00Z'));
    expect([sat.phase, sat.localDate, sat.nextClose, sat.alwaysOpen], 'Saturday noon').toEqual(['closed', '2025-03-08', null, false]);
    expect(sat.sessions, 'Monday’s window, in EDT').toEqual(monday);
    const early = marketStatus(nyse, utc('2025-03-10T06:00:00Z'));
    expect([early.phase, early.localTime], '02:00 EDT Monday, before pre-market at 04:00').toEqual(['closed', '02:00']);
    expect(early.sessions, 'today is the next trading day').toEqual(monday);
  });

  it('a holiday is closed and points at the next trading day; an early close ends the session at 13:00', () => {
    const july4 = marketStatus(nyse, utc('2025-07-04T16:00:00Z'));
    expect([july4.phase, july4.localDate], 'Independence Day, a Friday').toEqual(['closed', '2025-07-04']);
    expect(july4.sessions, 'Monday 2025-07-07').toEqual([win('2025-07-07T13:30:00Z', '2025-07-07T20:00:00Z')]);
    expect(july4.nextOpen).toBe(utc('2025-07-07T13:30:00Z'));
    const july3 = marketStatus(nyse, utc('2025-07-03T16:00:00Z'));
    expect([july3.phase, july3.nextClose], 'the day before closes at 13:00 EDT = 17:00 UTC').toEqual(['regular', utc('2025-07-03T17:00:00Z')]);
  });
});

describe('marketStatus: HOSE (Asia/Ho_Chi_Minh, 09:00–11:30 and 13:00–14:45)', () => {
  const hose = calendarFor('HOSE');
  const sessions = [win('2025-03-10T02:00:00Z', '2025-03-10T04:30:00Z'), win('2025-03-10T06:00:00Z', '2025-03-10T07:45:00Z')];

  it('the lunch break has no close and re-opens at 13:00; the morning closes at 11:30, not 14:45', () => {
    const lunch = marketStatus(hose, utc('2025-03-10T05:00:00Z'));
    expect(lunch, '12:00 ICT on a Monday').toEqual({
      exchange: 'HOSE',
      timeZone: 'Asia/Ho_Chi_Minh',
      phase: 'lunch',
      alwaysOpen: false,
      localTime: '12:00',
      localDate: '2025-03-10',
      nextOpen: utc('2025-03-10T06:00:00Z'),
      nextClose: null,
      sessions,
    });
    const morning = marketStatus(hose, utc('2025-03-10T03:00:00Z'));
    expect([morning.phase, morning.nextClose, morning.nextOpen], '10:00 ICT: closes for lunch at 11:30, next open 13:00').toEqual(['regular', utc('2025-03-10T04:30:00Z'), utc('2025-03-10T06:00:00Z')]);
  });
});

describe('marketStatus: markets that never close', () => {
  it('the simulator’s demo switch: regular at any hour, always open, no open or close, the whole local day as the window', () => {
    const demo = calendarFor('NYSE', { alwaysOpen: true });
    // Sunday 2025-03-09 is the 23-hour spring-forward day in New York.
    const s = marketStatus(demo, utc('2025-03-09T17:00:00Z'));
    expect(s, 'a Sunday in demo mode trades').toEqual({
      exchange: 'NYSE',
      timeZone: 'America/New_York',
      phase: 'regular',
      alwaysOpen: true,
      localTime: '13:00',
      localDate: '2025-03-09',
      nextOpen: null,
      nextClose: null,
      sessions: [win('2025-03-09T05:00:00Z', '2025-03-10T04:00:00Z')],
    });
  });

  it('CRYPTO trades 24/7 in UTC days', () => {
    const s = marketStatus(calendarFor('CRYPTO'), utc('2025-03-08T23:59:00Z'));
    expect([s.phase, s.alwaysOpen, s.nextOpen, s.nextClose, s.localTime], 'a Saturday minute before UTC midnight').toEqual(['regular', true, null, null, '23:59']);
  });

  it('a 24-hour market that closes at weekends is not always open: it closes at Friday midnight', () => {
    // The demo switch keeps weekends open, so build a CRYPTO-like week from a holiday list: with
    // 2025-03-08 and -09 as holidays the UTC days chain only until Saturday 00:00.
    const s = marketStatus(calendarFor('CRYPTO', { holidays: ['2025-03-08', '2025-03-09'] }), utc('2025-03-06T12:00:00Z'));
    expect([s.alwaysOpen, s.nextClose], 'windows chain Thursday → Friday, then stop').toEqual([false, utc('2025-03-08T00:00:00Z')]);
    expect(s.nextOpen, 'and reopen Monday 00:00 UTC').toBe(utc('2025-03-10T00:00:00Z'));
  });
});
