/**
 * Splits one CSV line into cells (RFC 4180 subset): comma-separated, fields optionally in double
 * quotes with "" for a quote inside. Quoted fields cannot span lines: market data files have none,
 * and line-at-a-time parsing keeps row numbers exact and memory flat. Cells are not trimmed here.
 */
export function splitCsvLine(line: string): string[] {
  if (line.indexOf('"') === -1) return line.split(',');
  const cells: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < n) {
        const q = line.indexOf('"', i);
        if (q === -1) {
          // Unterminated quote: keep the rest of the line rather than lose the row.
          value += line.slice(i);
          i = n;
          break;
        }
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      const comma = line.indexOf(',', i);
      // Text between the closing quote and the comma is kept, as lenient parsers do.
      value += comma === -1 ? line.slice(i) : line.slice(i, comma);
      cells.push(value);
      if (comma === -1) return cells;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma === -1) {
        cells.push(line.slice(i));
        return cells;
      }
      cells.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}
