/**
 * The log port (ARCHITECTURE.md §4 "Log"): the tickerplant every event passes through before
 * anyone acts on it. Two implementations pass one contract suite (test/log/log-contract.ts): the
 * embedded journal (`log/journal`) and Apache Kafka (`log/kafka`). The shapes follow Kafka so the
 * adapter is thin: topics with partitions, keyed records (key = symbol keeps per-symbol order,
 * placed by the Java-compatible murmur2 partitioner), consumer groups with explicitly committed
 * offsets. Offsets are plain numbers (exact to 2^53).
 */

export interface TopicConfig {
  partitions: number;
  /** Delete whole segments older than this; undefined keeps forever. */
  retentionMs?: number;
  /** Keep at most about this many bytes per partition (whole segments are deleted). */
  retentionBytes?: number;
}

export interface ProducerRecord {
  key: string;
  value: Uint8Array;
  /** Record timestamp, epoch ms; defaults to the append time. Used by seek-to-timestamp. */
  timestamp?: number;
  headers?: Readonly<Record<string, string>>;
  /** Explicit partition; by default murmur2(key) like Kafka's Java client. */
  partition?: number;
  /**
   * The decoded form of `value`, for consumers in the same process. An embedded log may hand it
   * back on `LogRecord.payload` while the record is still in its memory tail, sparing a read and a
   * decode (the kdb+ tickerplant publishes what it logs). Never persisted; `value` stays the truth.
   */
  payload?: unknown;
}

/**
 * A record as consumers get it. Implementations may hand out class instances whose fields are
 * accessors (the journal's tail makes `value` on first read), so copy a record field by field,
 * not with spread or structuredClone, which see own data properties only.
 */
export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: Uint8Array;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The producer's `payload`, when an in-process log served this record from memory; else undefined. */
  readonly payload?: unknown;
  /**
   * The buffer `value` lies in, as its bytes [valueAt, valueAt + valueLength), when the log read
   * it from a larger one (the journal's segment blocks): a reader that copies the bytes on (the
   * bronze writer) reads them there, and `value`, a view made on first access, is never made.
   * All three are set or none.
   */
  readonly valueSource?: Buffer;
  readonly valueAt?: number;
  readonly valueLength?: number;
}

/**
 * How a producer turns items of its own type into records, for `Log.appendItems`: the log asks
 * for each item's key, timestamp and value bytes, and an in-process log hands the item itself back
 * on `LogRecord.payload`, as it does `ProducerRecord.payload`.
 */
export interface RecordCodec<T> {
  key(item: T): string;
  /** Epoch ms. */
  timestamp(item: T): number;
  /** At least the bytes `write` puts down for `item`. */
  maxBytes(item: T): number;
  /**
   * Writes the item's value at `buf[pos…]`, where `maxBytes(item)` bytes are free, and returns
   * where it ended. `view` is a DataView over all of `buf`, for numbers. `maxBytes` and `write`
   * must not throw: the journal stages items as it writes them, after checking keys and
   * timestamps, so a throw would leave part of a batch staged.
   */
  write(item: T, buf: Buffer, view: DataView, pos: number): number;
}

export interface AppendAck {
  readonly partition: number;
  readonly offset: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface PartitionInfo {
  readonly partition: number;
  /** First offset still retained. */
  readonly startOffset: number;
  /** Offset the next record will get (high watermark). */
  readonly endOffset: number;
  readonly bytes: number;
}

export interface TopicInfo {
  readonly name: string;
  readonly config: Readonly<TopicConfig>;
  readonly partitions: readonly PartitionInfo[];
}

/** Where a consumer starts in a partition that has no committed offset for its group. */
export type ResetPolicy = 'earliest' | 'latest';

export type SeekPosition = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

export interface ConsumerOptions {
  group: string;
  topics: readonly string[];
  /** Default 'earliest'. */
  reset?: ResetPolicy;
}

export interface PollOptions {
  /** Most records returned by one poll. Default 10,000. */
  maxRecords?: number;
  /** How long to wait for the first record when none is ready. Default 0 (return at once). */
  timeoutMs?: number;
}

export interface CommitOffset extends TopicPartition {
  /** The next offset to read, as in Kafka: last processed offset + 1. */
  readonly offset: number;
}

export interface LogConsumer {
  readonly group: string;
  /** Partitions this member owns now; changes on rebalance (Kafka). */
  assignment(): readonly TopicPartition[];
  /** A batch of records in offset order per partition; empty when nothing came before timeout. */
  poll(options?: PollOptions): Promise<LogRecord[]>;
  seek(tp: TopicPartition, position: SeekPosition): Promise<void>;
  /** Durably records the group's position; only call after the outputs of those records are durable. */
  commit(offsets: readonly CommitOffset[]): Promise<void>;
  committed(tp: TopicPartition): Promise<number | null>;
  close(): Promise<void>;
}

export interface Log {
  /** Creates the topic if missing; an existing topic keeps its partition count. */
  ensureTopic(name: string, config: TopicConfig): Promise<void>;
  topics(): Promise<TopicInfo[]>;
  /**
   * Appends a batch. Resolves once every record is durable under the log's durability policy
   * (group commit: concurrent appends share one flush). Acks are in input order.
   */
  append(topic: string, records: readonly ProducerRecord[]): Promise<AppendAck[]>;
  /**
   * Appends one record per item, durable as `append` is, placed by key, with no acks. The journal
   * encodes each value straight into its frame buffer: no intermediate buffer, value view, record
   * object or ack per record (the ingest of ticks, the hottest append). Kafka builds
   * ProducerRecords with `recordsOf`.
   */
  appendItems<T>(topic: string, items: readonly T[], codec: RecordCodec<T>): Promise<void>;
  consumer(options: ConsumerOptions): Promise<LogConsumer>;
  /** Reads without a group (topic browser, tests): up to `max` records from `offset`. */
  read(tp: TopicPartition, offset: number, max: number): Promise<LogRecord[]>;
  close(): Promise<void>;
}
