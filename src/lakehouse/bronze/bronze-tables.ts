import { isUtf8 } from 'node:buffer';
import { EVENT_KINDS, INTERVALS, decodeEventFields, emptyEventFields, eventFields, writeUtf8, type MarketEvent } from '../../domain/index.js';
import type { LogRecord } from '../../log/log.js';

/** DuckDB column types the bronze tables use. */
export type BronzeColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER';

export interface BronzeColumn {
  readonly name: string;
  readonly type: BronzeColumnType;
  /**
   * A VARCHAR column with few distinct values, staged as a number: the index in `values` when
   * given, else in the batch's own dictionary of the strings it has seen; DuckDB gets it as an
   * ENUM of those strings. Handing DuckDB one string per row costs a native call each; codes go
   * over a whole chunk at a time.
   */
  readonly coded?: { readonly values?: readonly string[] };
}

/**
 * One text column's values as UTF-8 bytes in one growing arena: row r is
 * `bytes[starts[r], ends[r])`, or NULL when `starts[r]` is -1; every row added must be set (a row
 * left unset reads whatever the arena's last use left). Bytes, not strings: a lane's batch holds
 * ~100,000 rows while the next is read, and a string per row outlived the young generation, so
 * every flush's ids were promoted and then marked and swept by the old-generation GC. The bytes
 * go to DuckDB as they are, with no UTF-8 conversion per row; they are always valid UTF-8 (DuckDB
 * turns invalid bytes into NULL, which the staging function's validity mask would then undo).
 */
export class TextColumn {
  bytes: Uint8Array<ArrayBuffer>;
  starts: Int32Array<ArrayBuffer>;
  ends: Int32Array<ArrayBuffer>;
  /** Bytes of the arena in use. */
  used = 0;

  constructor(rows: number) {
    this.bytes = new Uint8Array(rows * 16);
    this.starts = new Int32Array(rows);
    this.ends = new Int32Array(rows);
  }

  /**
   * Copies `src[start, end)`, the UTF-8 bytes of the value, into row `row`. Bytes that are not
   * valid UTF-8 (not written by the event codec) go through a string, as before, so each bad
   * sequence becomes U+FFFD.
   */
  setBytes(row: number, src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    const at = this.#reserve(n);
    const dst = this.bytes;
    // A byte loop beats a native copy call for the short strings (ids) this mostly sees.
    let high = 0;
    if (n <= 64) {
      for (let i = 0; i < n; i++) {
        const b = src[start + i] as number;
        high |= b;
        dst[at + i] = b;
      }
    } else {
      dst.set(src.subarray(start, end), at);
      high = 0x80;
    }
    if (high >= 0x80 && !isUtf8(dst.subarray(at, at + n))) {
      this.setString(row, Buffer.from(src.buffer, src.byteOffset, src.byteLength).toString('utf8', start, end));
      return;
    }
    this.starts[row] = at;
    this.ends[row] = at + n;
    this.used = at + n;
  }

  /** Stores `s` (or NULL) in row `row` as UTF-8. */
  setString(row: number, s: string | null): void {
    if (s === null) {
      this.starts[row] = -1;
      return;
    }
    // Room for the worst case: 3 UTF-8 bytes per UTF-16 unit.
    const at = this.#reserve(s.length * 3);
    const n = writeUtf8(this.bytes, s, at);
    this.starts[row] = at;
    this.ends[row] = at + n;
    this.used = at + n;
  }

  clear(): void {
    this.used = 0;
  }

  /** Grows the row index to `rows`. */
  growRows(rows: number): void {
    const starts = new Int32Array(rows);
    starts.set(this.starts);
    this.starts = starts;
    const ends = new Int32Array(rows);
    ends.set(this.ends);
    this.ends = ends;
  }

  /** The arena position for `n` more bytes, growing the arena if needed. */
  #reserve(n: number): number {
    const at = this.used;
    if (at + n > this.bytes.length) {
      const next = new Uint8Array(Math.max(2 * this.bytes.length, at + n));
      next.set(this.bytes.subarray(0, at));
      this.bytes = next;
    }
    return at;
  }
}

/**
 * One batch of rows, column by column, as the bronze writer hands it to DuckDB: numbers (and coded
 * strings) in Float64Arrays, NaN standing for NULL (validated numbers are finite, so NaN is free);
 * other strings as UTF-8 bytes in a TextColumn. Rows are added one at a time: `row()`, then a
 * setter per column.
 */
export class ColumnBatch {
  readonly columns: readonly BronzeColumn[];
  /** Rows added. */
  n = 0;
  #cap: number;
  /** Per column: the numbers (empty for text columns). */
  readonly nums: Float64Array<ArrayBuffer>[];
  /** Per column: the strings (null for number and coded columns). */
  readonly texts: (TextColumn | null)[];
  /** Per dictionary-coded column: the strings seen, by code. */
  readonly dictValues: string[][];
  readonly #dicts: Map<string, number>[];
  #row = -1;

  constructor(columns: readonly BronzeColumn[], capacity = 4096) {
    this.columns = columns;
    this.#cap = capacity;
    this.nums = columns.map((c) => new Float64Array(isText(c) ? 0 : capacity));
    this.texts = columns.map((c) => (isText(c) ? new TextColumn(capacity) : null));
    this.dictValues = columns.map(() => []);
    this.#dicts = columns.map(() => new Map());
  }

  /** Rows it holds before its columns must grow. */
  get capacity(): number {
    return this.#cap;
  }

  /** Starts a new row; every column must then be set. */
  row(): void {
    if (this.n === this.#cap) this.#grow();
    this.#row = this.n++;
  }

  num(c: number, v: number): void {
    (this.nums[c] as Float64Array<ArrayBuffer>)[this.#row] = v;
  }

  text(c: number, v: string | null): void {
    (this.texts[c] as TextColumn).setString(this.#row, v);
  }

  /** A text column's value given as its UTF-8 bytes `src[start, end)` (copied). */
  textBytes(c: number, src: Uint8Array, start: number, end: number): void {
    (this.texts[c] as TextColumn).setBytes(this.#row, src, start, end);
  }

  /** A dictionary-coded column's value. */
  code(c: number, v: string): void {
    const dict = this.#dicts[c] as Map<string, number>;
    let code = dict.get(v);
    if (code === undefined) {
      code = dict.size;
      dict.set(v, code);
      (this.dictValues[c] as string[]).push(v);
    }
    (this.nums[c] as Float64Array<ArrayBuffer>)[this.#row] = code;
  }

  clear(): void {
    this.n = 0;
    this.#row = -1;
    for (const t of this.texts) t?.clear();
    for (const d of this.#dicts) d.clear();
    for (const v of this.dictValues) v.length = 0;
  }

  /** A coded column's strings by code (its fixed list or the batch's dictionary); null for other columns. */
  codedValues(c: number): readonly string[] | null {
    const col = this.columns[c] as BronzeColumn;
    return col.coded ? (col.coded.values ?? (this.dictValues[c] as string[])) : null;
  }

  /**
   * The SQL expression that turns staged column `c` into its type: BIGINT and INTEGER are cast
   * from the staged double (exact: epoch ms and offsets are far below 2^53); a coded string is
   * staged as an ENUM of its values, which Parquet receives as the strings themselves.
   */
  sqlValue(c: number): string {
    const col = this.columns[c] as BronzeColumn;
    const ref = `"${col.name}"`;
    if (col.type === 'BIGINT' || col.type === 'INTEGER') return `CAST(${ref} AS ${col.type})`;
    return ref;
  }

  #grow(): void {
    this.#cap *= 2;
    for (let c = 0; c < this.nums.length; c++) {
      this.texts[c]?.growRows(this.#cap);
      const old = this.nums[c] as Float64Array<ArrayBuffer>;
      if (old.length === 0) continue;
      const next = new Float64Array(this.#cap);
      next.set(old);
      this.nums[c] = next;
    }
  }
}

/** Text columns are staged as UTF-8 bytes; every other column as a double. */
export function isText(c: BronzeColumn): boolean {
  return c.type === 'VARCHAR' && c.coded === undefined;
}

/**
 * One bronze table: which log topic lands in it and how a record becomes a row. Rows keep the
 * record's place in the log (`log_partition`, `log_offset`, `log_ts`) so every row traces back to
 * the event it came from, and file names can be derived from offsets.
 */
export interface BronzeTable {
  readonly name: string;
  readonly topic: string;
  readonly columns: readonly BronzeColumn[];
  /** Epoch-ms column the `date` partition (UTC) is derived from. */
  readonly dateColumn: string;
  /** Adds the record's row to `batch` (whose columns are this table's). */
  addRow(record: LogRecord, batch: ColumnBatch): void;
}

const LOG_COLUMNS: readonly BronzeColumn[] = [
  { name: 'log_partition', type: 'INTEGER' },
  { name: 'log_offset', type: 'BIGINT' },
  { name: 'log_ts', type: 'BIGINT' },
];

function addLog(r: LogRecord, b: ColumnBatch, at: number): void {
  b.num(at, r.partition);
  b.num(at + 1, r.offset);
  b.num(at + 2, r.timestamp);
}

/** The fields of the record being added (one reused object: no allocation per row). */
const fields = emptyEventFields();

/** Every accepted market event, as validated at ingress; fields of other kinds are null. */
export const TICKS_TABLE: BronzeTable = {
  name: 'ticks',
  topic: 'ticks',
  dateColumn: 'ts',
  columns: [
    { name: 'kind', type: 'VARCHAR', coded: { values: EVENT_KINDS } },
    { name: 'symbol', type: 'VARCHAR', coded: {} },
    { name: 'ts', type: 'BIGINT' },
    { name: 'source', type: 'VARCHAR', coded: {} },
    { name: 'id', type: 'VARCHAR' },
    { name: 'price', type: 'DOUBLE' },
    { name: 'size', type: 'DOUBLE' },
    { name: 'conditions', type: 'VARCHAR' },
    { name: 'bid', type: 'DOUBLE' },
    { name: 'ask', type: 'DOUBLE' },
    { name: 'bid_size', type: 'DOUBLE' },
    { name: 'ask_size', type: 'DOUBLE' },
    { name: 'bar_interval', type: 'VARCHAR', coded: { values: INTERVALS } },
    { name: 'open', type: 'DOUBLE' },
    { name: 'high', type: 'DOUBLE' },
    { name: 'low', type: 'DOUBLE' },
    { name: 'close', type: 'DOUBLE' },
    { name: 'volume', type: 'DOUBLE' },
    ...LOG_COLUMNS,
  ],
  addRow(r, b) {
    // In-process records carry the validated event; otherwise the bytes are decoded (CRC-checked
    // by the log), in the block the log read them from when it says where (no value view per record).
    const e = r.payload as MarketEvent | undefined;
    let src: Uint8Array | null = null;
    if (e !== undefined) eventFields(e, fields);
    else {
      src = r.valueSource ?? r.value;
      const at = r.valueAt ?? 0;
      decodeEventFields(src, fields, at, at + (r.valueLength ?? src.length));
    }
    const f = fields;
    b.row();
    b.num(0, f.kind);
    b.code(1, f.symbol);
    b.num(2, f.ts);
    b.code(3, f.source);
    if (f.idStart < 0) b.text(4, f.id);
    else b.textBytes(4, src as Uint8Array, f.idStart, f.idEnd);
    b.num(5, f.price);
    b.num(6, f.size);
    b.text(7, f.conditions);
    b.num(8, f.bid);
    b.num(9, f.ask);
    b.num(10, f.bidSize);
    b.num(11, f.askSize);
    b.num(12, f.interval < 0 ? NaN : f.interval);
    b.num(13, f.open);
    b.num(14, f.high);
    b.num(15, f.low);
    b.num(16, f.close);
    b.num(17, f.volume);
    addLog(r, b, 18);
  },
};

/**
 * Refused input from `ticks.dlq` (the DeadLetter JSON written by ingest): the rule, field and value
 * that failed, the message with the fix, and the raw input as JSON text. `symbol` is the record key
 * (the raw symbol when the input had one, else the source name; '_invalid' when empty or longer
 * than a symbol can be).
 */
export const REJECTS_TABLE: BronzeTable = {
  name: 'rejects',
  topic: 'ticks.dlq',
  dateColumn: 'received_at',
  columns: [
    { name: 'symbol', type: 'VARCHAR' },
    { name: 'received_at', type: 'BIGINT' },
    { name: 'source', type: 'VARCHAR' },
    { name: 'rule', type: 'VARCHAR' },
    { name: 'field', type: 'VARCHAR' },
    { name: 'value', type: 'VARCHAR' },
    { name: 'message', type: 'VARCHAR' },
    { name: 'raw', type: 'VARCHAR' },
    ...LOG_COLUMNS,
  ],
  addRow(r, b) {
    let d: Record<string, unknown>;
    try {
      d = JSON.parse(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).toString('utf8')) as Record<string, unknown>;
    } catch {
      // Not expected (ingest writes JSON), but a dead letter must never be lost: keep the bytes.
      d = { rule: 'unreadable', field: '', value: null, message: 'dead-letter record is not JSON', raw: Buffer.from(r.value).toString('base64') };
    }
    const text = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));
    b.row();
    // The key is the raw input's symbol: an empty or over-long one would make a bad directory name.
    b.text(0, r.key.length === 0 || r.key.length > 32 ? '_invalid' : r.key);
    b.num(1, typeof d['receivedAt'] === 'number' ? d['receivedAt'] : r.timestamp);
    b.text(2, text(d['source']));
    b.text(3, text(d['rule']));
    b.text(4, text(d['field']));
    b.text(5, d['value'] === undefined ? null : JSON.stringify(d['value']));
    b.text(6, text(d['message']));
    b.text(7, d['raw'] === undefined ? null : JSON.stringify(d['raw']));
    addLog(r, b, 8);
  },
};

export const BRONZE_TABLES: readonly BronzeTable[] = [TICKS_TABLE, REJECTS_TABLE];
