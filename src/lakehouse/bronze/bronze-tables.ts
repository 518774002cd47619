import { decodeEvent, type MarketEvent } from '../../domain/index.js';
import type { LogRecord } from '../../log/log.js';

/** DuckDB column types the bronze tables use. */
export type BronzeColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER';

export interface BronzeColumn {
  readonly name: string;
  readonly type: BronzeColumnType;
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
  /** Appends the record's row to `cols` (one array per column, in `columns` order). */
  addRow(record: LogRecord, cols: unknown[][]): void;
}

const LOG_COLUMNS: readonly BronzeColumn[] = [
  { name: 'log_partition', type: 'INTEGER' },
  { name: 'log_offset', type: 'BIGINT' },
  { name: 'log_ts', type: 'BIGINT' },
];

function pushLog(r: LogRecord, cols: unknown[][], at: number): void {
  (cols[at] as unknown[]).push(r.partition);
  (cols[at + 1] as unknown[]).push(r.offset);
  (cols[at + 2] as unknown[]).push(r.timestamp);
}

/** Every accepted market event, as validated at ingress; fields of other kinds are null. */
export const TICKS_TABLE: BronzeTable = {
  name: 'ticks',
  topic: 'ticks',
  dateColumn: 'ts',
  columns: [
    { name: 'kind', type: 'VARCHAR' },
    { name: 'symbol', type: 'VARCHAR' },
    { name: 'ts', type: 'BIGINT' },
    { name: 'source', type: 'VARCHAR' },
    { name: 'id', type: 'VARCHAR' },
    { name: 'price', type: 'DOUBLE' },
    { name: 'size', type: 'DOUBLE' },
    { name: 'conditions', type: 'VARCHAR' },
    { name: 'bid', type: 'DOUBLE' },
    { name: 'ask', type: 'DOUBLE' },
    { name: 'bid_size', type: 'DOUBLE' },
    { name: 'ask_size', type: 'DOUBLE' },
    { name: 'bar_interval', type: 'VARCHAR' },
    { name: 'open', type: 'DOUBLE' },
    { name: 'high', type: 'DOUBLE' },
    { name: 'low', type: 'DOUBLE' },
    { name: 'close', type: 'DOUBLE' },
    { name: 'volume', type: 'DOUBLE' },
    ...LOG_COLUMNS,
  ],
  addRow(r, cols) {
    // In-process records carry the validated event; otherwise the bytes are decoded (CRC-checked by the log).
    const e = (r.payload as MarketEvent | undefined) ?? decodeEvent(r.value);
    const c = cols as unknown[][] as [unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[]];
    c[0].push(e.kind);
    c[1].push(e.symbol);
    c[2].push(e.ts);
    c[3].push(e.source);
    c[4].push(e.id);
    const t = e.kind === 'trade' ? e : null;
    const q = e.kind === 'quote' ? e : null;
    const b = e.kind === 'bar' ? e : null;
    c[5].push(t?.price ?? null);
    c[6].push(t?.size ?? null);
    c[7].push(t === null || t.conditions.length === 0 ? null : t.conditions.join(','));
    c[8].push(q?.bid ?? null);
    c[9].push(q?.ask ?? null);
    c[10].push(q?.bidSize ?? null);
    c[11].push(q?.askSize ?? null);
    c[12].push(b?.interval ?? null);
    c[13].push(b?.open ?? null);
    c[14].push(b?.high ?? null);
    c[15].push(b?.low ?? null);
    c[16].push(b?.close ?? null);
    c[17].push(b?.volume ?? null);
    pushLog(r, cols, 18);
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
  addRow(r, cols) {
    let d: Record<string, unknown>;
    try {
      d = JSON.parse(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).toString('utf8')) as Record<string, unknown>;
    } catch {
      // Not expected (ingest writes JSON), but a dead letter must never be lost: keep the bytes.
      d = { rule: 'unreadable', field: '', value: null, message: 'dead-letter record is not JSON', raw: Buffer.from(r.value).toString('base64') };
    }
    const c = cols as unknown[][] as [unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[], unknown[]];
    const text = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));
    // The key is the raw input's symbol: an empty or over-long one would make a bad directory name.
    c[0].push(r.key.length === 0 || r.key.length > 32 ? '_invalid' : r.key);
    c[1].push(typeof d['receivedAt'] === 'number' ? d['receivedAt'] : r.timestamp);
    c[2].push(text(d['source']));
    c[3].push(text(d['rule']));
    c[4].push(text(d['field']));
    c[5].push(d['value'] === undefined ? null : JSON.stringify(d['value']));
    c[6].push(text(d['message']));
    c[7].push(d['raw'] === undefined ? null : JSON.stringify(d['raw']));
    pushLog(r, cols, 8);
  },
};

export const BRONZE_TABLES: readonly BronzeTable[] = [TICKS_TABLE, REJECTS_TABLE];
