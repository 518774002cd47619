import { describe, expect, it } from 'vitest';
import { parseEventTime, splitCsvLine } from '../../../src/sources/replay/index.js';

describe('parseEventTime', () => {
  it.each([
    ['1704205800', 1704205800000, 'ten digits are epoch seconds'],
    ['1704205800.5', 1704205800500, 'fractional seconds'],
    ['1704205800123', 1704205800123, 'thirteen digits are ms'],
    ['1704205800123456', 1704205800123, 'sixteen digits are µs'],
    ['1704205800123456789', 1704205800123, 'nineteen digits are ns'],
    ['2024-01-02T14:30:00Z', Date.UTC(2024, 0, 2, 14, 30), 'ISO with Z'],
    ['2024-01-02 14:30:00', Date.UTC(2024, 0, 2, 14, 30), 'no zone means UTC, on every machine'],
    ['2024-01-02T21:30:00+07:00', Date.UTC(2024, 0, 2, 14, 30), 'an offset is honoured'],
    ['2024-01-02', Date.UTC(2024, 0, 2), 'a date is midnight UTC'],
  ])('%s', (cell, want, why) => {
    expect(parseEventTime(cell), why).toBe(want);
  });

  it('keeps unreadable text and reports empty as missing, so ingest names the value', () => {
    expect(parseEventTime('yesterday'), 'bad text passes through for the reject message').toBe('yesterday');
    expect(parseEventTime('  '), 'an empty cell is a missing ts').toBeUndefined();
    expect(parseEventTime(1704205800000), 'numbers from DuckDB are already ms').toBe(1704205800000);
  });
});

describe('splitCsvLine', () => {
  it('handles quotes, doubled quotes and empty cells', () => {
    expect(splitCsvLine('a,"b,c","say ""hi""",,e'), 'RFC 4180 quoting').toEqual(['a', 'b,c', 'say "hi"', '', 'e']);
    expect(splitCsvLine('a,b,'), 'a trailing comma is an empty last cell').toEqual(['a', 'b', '']);
    expect(splitCsvLine('"x"'), 'a lone quoted cell').toEqual(['x']);
  });
});
