import { EVENT_KINDS, INTERVALS, decodeEventFields, emptyEventFields, eventFields, type MarketEvent } from '../../domain/index.js';
import type { LogRecord } from '../../log/log.js';
import { sqlString } from '../../shared/sql.js';

/** DuckDB column types the bronze tables use. */
export type BronzeColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER';

export interface BronzeColumn {
  readonly name: string;
  readonly type: BronzeColumnType;
  /**
   * A VARCHAR column with few distinct values, staged as a number: the index in `values` when
   * given, else in the batch's own dictionary of the strings it has seen. Handing DuckDB one string
   * per row costs a native call each; numbers go over a whole chunk at a time.
   */
  readonly coded?: { readonly values?: readonly string[] };
}

/**
 * One batch of rows, column by column, as the bronze writer hands it to DuckDB: numbers (and coded
 * strings) in Float64Arrays, NaN standing for NULL (validated numbers are finite, so NaN is free);
 * other strings in plain arrays, null for NULL. Rows are added one at a time: `row()`, then a
 * setter per column.
 */
export class ColumnBatch {
  readonly columns: readonly BronzeColumn[];
  /** Rows added. */
  n = 0;
  #cap: number;
  /** Per column: the numbers (empty for text columns). */
  readonly nums: Float64Array<ArrayBuffer>[];
  /** Per column: the strings (empty for number and coded columns). */
  readonly texts: (string | null)[][];
  /** Per dictionary-coded column: the strings seen, by code. */
  readonly dictValues: string[][];
  readonly #dicts: Map<string, number>[];
  #row = -1;

  constructor(columns: readonly BronzeColumn[], capacity = 4096) {
    this.columns = columns;
    this.#cap = capacity;
    this.nums = columns.map((c) => new Float64Array(isText(c) ? 0 : capacity));
    this.texts = columns.map(() => []);
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
    (this.texts[c] as (string | null)[])[this.#row] = v;
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
    for (const t of this.texts) t.length = 0;
    for (const d of this.#dicts) d.clear();
    for (const v of this.dictValues) v.length = 0;
  }

  /**
   * The SQL expression that turns staged column `c` back into its type: a coded string is looked
   * up in its list (DuckDB lists are 1-based), BIGINT and INTEGER are cast from the staged double
   * (exact: epoch ms and offsets are far below 2^53).
   */
  sqlValue(c: number): string {
    const col = this.columns[c] as BronzeColumn;
    const ref = `"${col.name}"`;
    if (col.coded) {
      const values = col.coded.values ?? (this.dictValues[c] as string[]);
      if (values.length === 0) return `CAST(NULL AS VARCHAR)`;
      return `[${values.map(sqlString).join(', ')}][CAST(${ref} AS INTEGER) + 1]`;
    }
    if (col.type === 'BIGINT' || col.type === 'INTEGER') return `CAST(${ref} AS ${col.type})`;
    return ref;
  }

  #grow(): void {
    this.#cap *= 2;
    for (let c = 0; c < this.nums.length; c++) {
      const old = this.nums[c] as Float64Array<ArrayBuffer>;
      if (old.length === 0) continue;
      const next = new Float64Array(this.#cap);
      next.set(old);
      this.nums[c] = next;
    }
  }
}

/** Text columns are staged as strings; every other column as a double. */
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
    // In-process records carry the validated event; otherwise the bytes are decoded (CRC-checked by the log).
    const e = r.payload as MarketEvent | undefined;
    if (e === undefined) decodeEventFields(r.value, fields);
    else eventFields(e, fields);
    const f = fields;
    b.row();
    b.num(0, f.kind);
    b.code(1, f.symbol);
    b.num(2, f.ts);
    b.code(3, f.source);
    b.text(4, f.id);
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
