import { basename } from 'node:path';
import { StockStreamError } from '../../shared/errors.js';
import { parseEventTime } from './event-time.js';

/** One table cell: CSV text, or a DuckDB value already cast by the Parquet reader. */
export type Cell = string | number | null | undefined;

/**
 * Turns table rows (CSV or Parquet) into wire-format market events (src/domain/validate.ts).
 *
 * Header names are matched case-insensitively, ignoring `_`, `-` and spaces (`Bid_Size` = `bidSize`):
 *   ticks: <time>, symbol, price, size|volume   [kind, id, bid, ask, bidSize, askSize]
 *   bars:  <time>, symbol, open, high, low, close, volume   [interval (default 1m), id]
 *   <time> is the first of ts, time, timestamp, date, datetime; `ticker` is accepted for symbol.
 * A header with any of open/high/low/close is a bar file. A tick file with bid and ask but no
 * price is a quote file. A row whose kind cell says `quote` becomes a quote.
 *
 * Rows are never refused here: a non-numeric cell stays as its text and an empty cell as missing,
 * so ingest validation rejects the row naming the field and the value, and the replay goes on.
 */
export class RowDecoder {
  readonly kind: 'ticks' | 'bars';
  readonly #source: string;
  readonly #idPrefix: string;
  readonly #time: number;
  readonly #symbol: number;
  readonly #id: number;
  readonly #kindCol: number;
  readonly #price: number;
  readonly #size: number;
  readonly #bid: number;
  readonly #ask: number;
  readonly #bidSize: number;
  readonly #askSize: number;
  readonly #open: number;
  readonly #high: number;
  readonly #low: number;
  readonly #close: number;
  readonly #volume: number;
  readonly #interval: number;

  /** Throws SS_CLI_FILE when a required column is missing: that file cannot be replayed at all. */
  constructor(columns: readonly string[], file: string, source: string) {
    const names = columns.map((c) => c.trim().toLowerCase().replace(/[\s_-]/g, ''));
    const find = (...aliases: string[]): number => {
      for (const a of aliases) {
        const i = names.indexOf(a);
        if (i !== -1) return i;
      }
      return -1;
    };
    this.#source = source;
    this.#idPrefix = `${basename(file)}:`;
    this.#time = find('ts', 'time', 'timestamp', 'date', 'datetime');
    this.#symbol = find('symbol', 'ticker');
    this.#id = find('id');
    this.#kindCol = find('kind');
    this.#price = find('price');
    this.#size = find('size', 'volume');
    this.#bid = find('bid');
    this.#ask = find('ask');
    this.#bidSize = find('bidsize');
    this.#askSize = find('asksize');
    this.#open = find('open');
    this.#high = find('high');
    this.#low = find('low');
    this.#close = find('close');
    this.#volume = find('volume');
    this.#interval = find('interval');
    this.kind = this.#open !== -1 || this.#high !== -1 || this.#low !== -1 || this.#close !== -1 ? 'bars' : 'ticks';

    const missing: string[] = [];
    if (this.#time === -1) missing.push('a time column (ts, time, timestamp or date)');
    if (this.#symbol === -1) missing.push('symbol');
    if (this.kind === 'bars') {
      for (const [name, i] of [['open', this.#open], ['high', this.#high], ['low', this.#low], ['close', this.#close], ['volume', this.#volume]] as const) {
        if (i === -1) missing.push(name);
      }
    } else if (!(this.#price === -1 && this.#bid !== -1 && this.#ask !== -1)) {
      if (this.#price === -1) missing.push('price');
      if (this.#size === -1) missing.push('size or volume');
    }
    if (missing.length > 0) {
      throw new StockStreamError(
        'SS_CLI_FILE',
        `${file}: the header has columns [${columns.join(', ')}] but is missing ${missing.join(', ')}; ` +
          'a tick file needs a time column (ts, time, timestamp or date), symbol, price and size (or volume); ' +
          'a bar file needs the time column, symbol, open, high, low, close and volume. Rename or add the columns',
        { context: { file, columns: [...columns], missing } },
      );
    }
  }

  /** One row as a wire-format event; `row` is the line (CSV) or row (Parquet) number for the default id. */
  decode(cells: readonly Cell[], row: number): Record<string, unknown> {
    const symbol = text(cells[this.#symbol]);
    const ts = parseEventTime(cells[this.#time]);
    const id = (this.#id === -1 ? undefined : text(cells[this.#id])) ?? this.#idPrefix + row;
    if (this.kind === 'bars') {
      return {
        kind: 'bar',
        symbol,
        ts,
        source: this.#source,
        id,
        interval: (this.#interval === -1 ? undefined : text(cells[this.#interval])) ?? '1m',
        open: num(cells[this.#open]),
        high: num(cells[this.#high]),
        low: num(cells[this.#low]),
        close: num(cells[this.#close]),
        volume: num(cells[this.#volume]),
      };
    }
    const kindText = this.#kindCol === -1 ? undefined : text(cells[this.#kindCol])?.toLowerCase();
    const price = this.#price === -1 ? undefined : num(cells[this.#price]);
    const kind = kindText ?? (price === undefined && this.#bid !== -1 && this.#ask !== -1 ? 'quote' : 'trade');
    if (kind === 'quote') {
      return {
        kind,
        symbol,
        ts,
        source: this.#source,
        id,
        bid: num(cells[this.#bid]),
        ask: num(cells[this.#ask]),
        // A quote file without size columns is top-of-book prices only: sizes unknown, reported as 0.
        bidSize: this.#bidSize === -1 ? 0 : num(cells[this.#bidSize]),
        askSize: this.#askSize === -1 ? 0 : num(cells[this.#askSize]),
      };
    }
    return { kind, symbol, ts, source: this.#source, id, price, size: this.#size === -1 ? undefined : num(cells[this.#size]) };
  }
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function text(cell: Cell): string | undefined {
  if (cell === null || cell === undefined) return undefined;
  const s = String(cell).trim();
  return s === '' ? undefined : s;
}

/** A number when the cell is one; otherwise the cell's text, so the reject names the bad value. */
function num(cell: Cell): number | string | undefined {
  if (typeof cell === 'number') return cell;
  const s = text(cell);
  if (s === undefined) return undefined;
  return NUMBER_RE.test(s) ? Number(s) : s;
}
