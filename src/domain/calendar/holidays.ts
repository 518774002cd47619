/**
 * Built-in holiday lists. Callers can replace any of them through `calendarFor` options; these
 * are the defaults so a fresh install closes on the right days.
 */

/**
 * NYSE (and NASDAQ) full-day closures 2024–2027, from NYSE's published holiday calendar
 * (https://www.nyse.com/markets/hours-calendars). 2025-01-09 is the national day of mourning for
 * President Carter. Saturday holidays close the Friday before, except New Year's Day.
 */
export const NYSE_HOLIDAYS: readonly string[] = Object.freeze([
  '2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19',
  '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25',
  '2025-01-01', '2025-01-09', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26',
  '2025-06-19', '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25',
  '2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19',
  '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25',
  '2027-01-01', '2027-01-18', '2027-02-15', '2027-03-26', '2027-05-31', '2027-06-18',
  '2027-07-05', '2027-09-06', '2027-11-25', '2027-12-24',
]);

/** NYSE 13:00 early closes (day before Independence Day, day after Thanksgiving, Christmas Eve). */
export const NYSE_EARLY_CLOSES: Readonly<Record<string, string>> = Object.freeze({
  '2024-07-03': '13:00',
  '2024-11-29': '13:00',
  '2024-12-24': '13:00',
  '2025-07-03': '13:00',
  '2025-11-28': '13:00',
  '2025-12-24': '13:00',
  '2026-11-27': '13:00',
  '2026-12-24': '13:00',
  '2027-11-26': '13:00',
});

/**
 * HOSE/HNX weekday closures 2025–2026. BEST-EFFORT: Vietnam's holidays follow the lunar calendar
 * and government decrees that swap working days each year; confirm against the exchange's notice
 * (https://www.hsx.vn) and pass `holidays` explicitly where it matters.
 */
export const VN_HOLIDAYS: readonly string[] = Object.freeze([
  // 2025: New Year, Tet (Jan 27–31), Hung Kings (Apr 7), Reunification + Labour (Apr 30–May 2), National Day (Sep 1–2)
  '2025-01-01', '2025-01-27', '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31',
  '2025-04-07', '2025-04-30', '2025-05-01', '2025-05-02', '2025-09-01', '2025-09-02',
  // 2026: New Year, Tet (Feb 16–20), Hung Kings observed (Apr 27), Apr 30–May 1, National Day (Sep 1–2)
  '2026-01-01', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20',
  '2026-04-27', '2026-04-30', '2026-05-01', '2026-09-01', '2026-09-02',
]);
