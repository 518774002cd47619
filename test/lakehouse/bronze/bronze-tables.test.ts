import { describe, expect, it } from 'vitest';
import { TextColumn } from '../../../src/lakehouse/bronze/bronze-tables.js';

/** Row `row` of `t` as the string DuckDB would read from its bytes, or null. */
function read(t: TextColumn, row: number): string | null {
  const s = t.starts[row] as number;
  return s < 0 ? null : Buffer.from(t.bytes).toString('utf8', s, t.ends[row]);
}

describe('TextColumn', () => {
  it('keeps strings and byte ranges exactly, ASCII or not, across arena growth', () => {
    const t = new TextColumn(2);
    const src = Buffer.from('xx-giá-€-id-yy', 'utf8');
    const values: (string | null)[] = [];
    let cap = 2;
    for (let row = 0; row < 200; row++) {
      // As ColumnBatch does before a row past its capacity.
      if (row === cap) t.growRows((cap *= 2));
      if (row % 4 === 0) t.setString(row, (values[row] = `sim-7-${row}`));
      else if (row % 4 === 1) t.setString(row, (values[row] = row % 8 === 1 ? null : `giá-€-${row}`));
      else if (row % 4 === 2) {
        t.setBytes(row, src, 3, src.length - 3);
        values[row] = 'giá-€-id';
      } else {
        // Over 64 bytes: the native copy path.
        const long = Buffer.from((values[row] = `${'long-id-'.repeat(10)}${row}`));
        t.setBytes(row, long, 0, long.length);
      }
    }
    expect(
      values.map((_, row) => read(t, row)),
      'every row reads back as written (the arena grew from 32 bytes and the row index from 2 rows)',
    ).toEqual(values);
  });

  it('never hands on bytes that are not UTF-8: a bad sequence becomes U+FFFD, as a string would', () => {
    const t = new TextColumn(4);
    const bad = Uint8Array.from([0x69, 0x64, 0xc3, 0x28]);
    t.setBytes(0, bad, 0, bad.length);
    const stored = Buffer.from(t.bytes.subarray(t.starts[0], t.ends[0]));
    expect(stored.equals(Buffer.from('id\uFFFD(', 'utf8')), `the stored bytes are valid UTF-8, the bad sequence replaced (got ${stored.toString('hex')})`).toBe(true);
    t.setString(1, 'lone \uD800 surrogate');
    expect(read(t, 1), 'a lone surrogate is written as U+FFFD').toBe('lone \uFFFD surrogate');
  });

  it('starts over after clear(), reusing its arena', () => {
    const t = new TextColumn(2);
    t.setString(0, 'first');
    t.clear();
    t.setString(0, 'second');
    expect([read(t, 0), t.used], 'the arena is reused from its start').toEqual(['second', 6]);
  });
});
