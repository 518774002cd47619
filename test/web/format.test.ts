import { describe, expect, it } from 'vitest';
import { bytes, duration, pct, price, time, toCsv } from '../../web/src/format.js';

describe('dashboard formats', () => {
  it('writes RFC 4180 CSV: quotes fields with commas, quotes or line breaks, doubles inner quotes, CRLF line ends', () => {
    const csv = toCsv(['a', 'b,c'], [[1, 'x"y'], [null, 'line\nbreak'], [{ k: 1 }, '']]);
    expect(csv).toBe('a,"b,c"\r\n1,"x""y"\r\n,"line\nbreak"\r\n"{""k"":1}",\r\n');
  });

  it('keeps each market’s price convention: VND without decimals, USD with two', () => {
    expect(price(25_350, 'VND')).toBe('25,350');
    expect(price(189.5, 'USD')).toBe('189.50');
    expect(price(null, 'USD'), 'a missing price is a dash, not 0').toBe('—');
  });

  it('signs changes and prints sizes and durations in readable units', () => {
    expect(pct(1.234)).toBe('+1.23%');
    expect(pct(-0.5)).toBe('-0.50%');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(5 * 1024 * 1024)).toBe('5.0 MiB');
    expect(duration(850)).toBe('850 ms');
    expect(duration(90_000)).toBe('1 min 30 s');
  });

  it('shows times in the exchange’s zone, DST included', () => {
    // 2025-03-10 13:30 UTC is 09:30 in New York (EDT, UTC−4) and 20:30 in Ho Chi Minh City (UTC+7).
    const open = Date.UTC(2025, 2, 10, 13, 30);
    expect(time(open, 'America/New_York', 'time')).toBe('09:30');
    expect(time(open, 'Asia/Ho_Chi_Minh', 'time')).toBe('20:30');
    expect(time(open, 'America/New_York', 'date')).toBe('2025-03-10');
  });
});
