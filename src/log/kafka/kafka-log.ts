import { Admin, Consumer, ProduceAcks, Producer, type Message, type MessagesStream } from '@platformatic/kafka';
import { StockStreamError } from '../../shared/errors.js';
import type {
  AppendAck,
  CommitOffset,
  ConsumerOptions,
  Log,
  LogConsumer,
  LogRecord,
  PartitionInfo,
  PollOptions,
  ProducerRecord,
  SeekPosition,
  TopicConfig,
  TopicInfo,
  TopicPartition,
} from '../log.js';
import { partitionForKey } from '../partitioner.js';

export interface KafkaLogOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  clientId?: string;
  /** Replication factor of the topics it creates. Default 1 (a single local broker). */
  replicationFactor?: number;
  /** Consumer group session timeout (ms): how long a member that stopped heartbeating keeps its partitions. Default 10,000. */
  sessionTimeoutMs?: number;
  /** Default 1,000. */
  heartbeatIntervalMs?: number;
  /**
   * How long a fetch waits on the broker for new records (ms). Also bounds a `poll()` without a
   * timeout, which waits for the fetch in flight (see KafkaLogConsumer.poll). Default 100.
   */
  fetchMaxWaitMs?: number;
  /**
   * Prepended to every topic and consumer group on the cluster (and stripped from what comes
   * back), so several deployments or test runs share one cluster without meeting. Default ''.
   */
  topicPrefix?: string;
  /**
   * Lets the client commit what it has fetched every this many ms. Never set it in a deployment:
   * records fetched but not yet written would be committed, and lost by a crash. It exists, off
   * by default and absent from the configuration, so a test can show that loss happens with it
   * and not without (test/log/kafka-crash.test.ts).
   */
  autocommitIntervalMs?: number;
}

type Resolved = Required<KafkaLogOptions>;

interface OutgoingMessage {
  topic: string;
  partition: number;
  key: Buffer;
  value: Buffer;
  timestamp: bigint;
  headers: Map<Buffer, Buffer> | undefined;
}

/** One append() waiting for its send. */
interface PendingAppend {
  topic: string;
  messages: OutgoingMessage[];
  placed: Int32Array;
  /** Bytes per "topic/partition" (see MAX_PARTITION_BYTES). */
  sizes: Map<string, number>;
  bytes: number;
  resolve: (acks: AppendAck[]) => void;
  reject: (err: unknown) => void;
}

/** Appends queued behind a send go together in the next one up to this many bytes in all. */
const MAX_SEND_BYTES = 8 * 1024 * 1024;
/**
 * Bytes of one partition in one send, counted as key + value + 16 per record (the v2 record
 * framing): the broker refuses a record batch above message.max.bytes, 1 MiB by default.
 */
const MAX_PARTITION_BYTES = 900 * 1024;
const RECORD_OVERHEAD = 16;
/**
 * Messages a consumer's stream buffers ahead. The client fetches again only while its buffer is
 * below this; its default (1,024) made every poll wait for a fresh fetch round trip.
 */
const PREFETCH_MESSAGES = 50_000;

/** Kafka's DescribeConfigs source for a value set on the topic itself. */
const DYNAMIC_TOPIC_CONFIG = 1;
/** ListOffsets special timestamps. */
const EARLIEST = -2n;
const LATEST = -1n;

function closedError(what: string): StockStreamError {
  return new StockStreamError('SS_LOG_CLOSED', `Expected an open ${what}, but it is closed. Open a new one.`);
}

function kafkaError(what: string, err: unknown): StockStreamError {
  const reason = err instanceof Error ? err.message : String(err);
  return new StockStreamError('SS_LOG_IO', `Expected to ${what} on Kafka, but it failed: ${reason}. Check that the brokers in log.kafka.brokers are reachable.`, { cause: err });
}

function headersOf(entries: Iterable<[Buffer | null, Buffer | null]> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (entries) for (const [k, v] of entries) if (k !== null) out[k.toString('utf8')] = v === null ? '' : v.toString('utf8');
  return out;
}

/**
 * The log port on Apache Kafka (ARCHITECTURE.md §4 "Log"), through `@platformatic/kafka`. It
 * passes the same contract suite as the journal (test/log/log-contract.ts):
 * - topics are created with the configured partitions and replication, retention as topic configs;
 * - records are placed by the journal's Java-compatible murmur2 partitioner (computed here, so the
 *   journal and Kafka put every symbol on the same partition), sent by an idempotent producer with
 *   acks=all: an acknowledged record is on every in-sync replica and a retried send is not doubled;
 * - consumer groups never autocommit: offsets move only on `commit()`, after the outputs are durable
 *   (autocommitIntervalMs exists only for the test that proves why).
 * https://kafka.apache.org/documentation/#design
 */
export class KafkaLog implements Log {
  readonly #o: Resolved;
  readonly #admin: Admin;
  readonly #producer: Producer;
  /** A group-less reader for `read()` (topic browser, tests): fetches directly, joins no group. */
  readonly #reader: Consumer;
  /** Partition counts by topic, filled on first use. */
  readonly #partitions = new Map<string, number>();
  readonly #consumers = new Set<KafkaLogConsumer>();
  readonly #queue: PendingAppend[] = [];
  #sending = false;
  #closed = false;

  private constructor(o: Resolved) {
    this.#o = o;
    const base = { bootstrapBrokers: [...o.brokers], retries: 5, retryDelay: 250 };
    this.#admin = new Admin({ ...base, clientId: `${o.clientId}-admin` });
    this.#producer = new Producer({ ...base, clientId: `${o.clientId}-producer`, idempotent: true, acks: ProduceAcks.ALL });
    this.#reader = new Consumer({ ...base, clientId: `${o.clientId}-reader`, groupId: `${o.clientId}-reader-${process.pid}` });
    // Failures reach the caller through the operation that met them; an 'error' event nobody
    // hears would instead end the process.
    for (const client of [this.#admin, this.#producer, this.#reader]) client.on('error', () => undefined);
  }

  /** Connects and checks the cluster answers, so a wrong address fails at start, not on the first append. */
  static async open(options: KafkaLogOptions): Promise<KafkaLog> {
    if (options.brokers.length === 0) throw new StockStreamError('SS_CONFIG_INVALID', 'log.kafka.brokers: expected at least one host:port, got none. Set STOCKSTREAM_LOG_KAFKA_BROKERS=host:port.');
    const log = new KafkaLog({
      brokers: options.brokers,
      clientId: options.clientId ?? 'stockstream',
      replicationFactor: options.replicationFactor ?? 1,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
      fetchMaxWaitMs: options.fetchMaxWaitMs ?? 100,
      topicPrefix: options.topicPrefix ?? '',
      autocommitIntervalMs: options.autocommitIntervalMs ?? 0,
    });
    try {
      await log.#admin.listTopics({ includeInternals: false });
    } catch (err) {
      await log.close();
      throw kafkaError(`reach the brokers ${options.brokers.join(', ')}`, err);
    }
    return log;
  }

  get options(): Readonly<Resolved> {
    return this.#o;
  }

  async ensureTopic(logical: string, config: TopicConfig): Promise<void> {
    const name = this.#o.topicPrefix + logical;
    this.#check();
    if (!(Number.isInteger(config.partitions) && config.partitions > 0)) {
      throw new StockStreamError('SS_LOG_TOPIC', `Topic ${name}: expected partitions to be an integer > 0, got ${config.partitions}.`);
    }
    if ((await this.#existing()).has(name)) return;
    const configs = [];
    if (config.retentionMs !== undefined) configs.push({ name: 'retention.ms', value: String(config.retentionMs) });
    if (config.retentionBytes !== undefined) configs.push({ name: 'retention.bytes', value: String(config.retentionBytes) });
    // Kafka deletes whole closed segments only, and by default rolls one every 7 days or 1 GiB:
    // a topic kept for an hour would hold a week. Roll often enough that retention bites on time.
    if (config.retentionMs !== undefined) configs.push({ name: 'segment.ms', value: String(Math.min(7 * 86_400_000, Math.max(60_000, Math.floor(config.retentionMs / 8)))) });
    if (config.retentionBytes !== undefined) configs.push({ name: 'segment.bytes', value: String(Math.min(1_073_741_824, Math.max(1_048_576, Math.floor(config.retentionBytes / 4)))) });
    try {
      await this.#admin.createTopics({ topics: [name], partitions: config.partitions, replicas: this.#o.replicationFactor, configs });
    } catch (err) {
      // Another process may have created it in between: then it exists and keeps its partitions.
      if (!(await this.#existing()).has(name)) throw kafkaError(`create topic ${name}`, err);
    }
    // The controller answers before every broker knows the topic: wait until its partitions have leaders.
    for (const deadline = Date.now() + 30_000; ; ) {
      try {
        const starts = await this.#reader.listOffsets({ topics: [name], timestamp: EARLIEST });
        if ((starts.get(name)?.length ?? 0) === config.partitions) return;
      } catch (err) {
        if (Date.now() > deadline) throw kafkaError(`see the new topic ${name} in the cluster's metadata`, err);
      }
      if (Date.now() > deadline) throw kafkaError(`see the new topic ${name} with ${config.partitions} partitions`, new Error('it did not appear within 30 s'));
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async topics(): Promise<TopicInfo[]> {
    this.#check();
    const prefix = this.#o.topicPrefix;
    const names = [...(await this.#existing())].filter((n) => n.startsWith(prefix)).sort();
    if (names.length === 0) return [];
    try {
      const [starts, ends, configs] = await Promise.all([
        this.#reader.listOffsets({ topics: names, timestamp: EARLIEST }),
        this.#reader.listOffsets({ topics: names, timestamp: LATEST }),
        this.#admin.describeConfigs({ resources: names.map((n) => ({ resourceType: 2, resourceName: n, configurationKeys: ['retention.ms', 'retention.bytes'] })) }),
      ]);
      const dirs = await this.#admin.describeLogDirs({ topics: names.map((n) => ({ name: n, partitions: (starts.get(n) ?? []).map((_, i) => i) })) });
      const bytes = new Map<string, number>();
      for (const broker of dirs) for (const dir of broker.results) for (const t of dir.topics) for (const p of t.partitions) bytes.set(`${t.name}/${p.partitionIndex}`, Number(p.partitionSize));
      return names.map((name) => {
        const config: TopicConfig = { partitions: starts.get(name)?.length ?? 0 };
        for (const c of configs.find((d) => d.resourceName === name)?.configs ?? []) {
          if (c.configSource !== DYNAMIC_TOPIC_CONFIG || c.value === null) continue;
          if (c.name === 'retention.ms') config.retentionMs = Number(c.value);
          if (c.name === 'retention.bytes') config.retentionBytes = Number(c.value);
        }
        const partitions: PartitionInfo[] = (starts.get(name) ?? []).map((s, p) => ({
          partition: p,
          startOffset: Number(s),
          endOffset: Number(ends.get(name)?.[p] ?? s),
          bytes: bytes.get(`${name}/${p}`) ?? 0,
        }));
        return { name: name.slice(prefix.length), config, partitions };
      });
    } catch (err) {
      throw kafkaError('describe the topics', err);
    }
  }

  async append(logical: string, records: readonly ProducerRecord[]): Promise<AppendAck[]> {
    this.#check();
    const topic = this.#o.topicPrefix + logical;
    if (records.length === 0) return [];
    const n = await this.#partitionCount(topic);
    const placed = new Int32Array(records.length);
    const messages = records.map((r, i): OutgoingMessage => {
      const partition = r.partition ?? partitionForKey(r.key, n);
      if (!(Number.isInteger(partition) && partition >= 0 && partition < n)) {
        throw new StockStreamError('SS_LOG_TOPIC', `Topic ${topic} has partitions 0..${n - 1}, but a record asked for partition ${partition}. Leave partition unset to place by key.`);
      }
      placed[i] = partition;
      return {
        topic,
        partition,
        key: Buffer.from(r.key, 'utf8'),
        value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
        timestamp: BigInt(r.timestamp ?? Date.now()),
        headers: r.headers ? new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')])) : undefined,
      };
    });
    // A record batch above the broker's message.max.bytes (1 MiB by default) is refused whole:
    // a large append goes in consecutive sends (the queue keeps their order, so per-key order holds).
    const parts: Promise<AppendAck[]>[] = [];
    let from = 0;
    let bytes = 0;
    let sizes = new Map<string, number>();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as OutgoingMessage;
      const size = m.value.length + m.key.length + RECORD_OVERHEAD;
      const key = `${topic}/${m.partition}`;
      const inPartition = sizes.get(key) ?? 0;
      if (i > from && (inPartition + size > MAX_PARTITION_BYTES || bytes + size > MAX_SEND_BYTES)) {
        parts.push(this.#enqueue(topic, messages.slice(from, i), placed.subarray(from, i), sizes, bytes));
        from = i;
        bytes = 0;
        sizes = new Map();
      }
      sizes.set(key, (sizes.get(key) ?? 0) + size);
      bytes += size;
    }
    parts.push(this.#enqueue(topic, from === 0 ? messages : messages.slice(from), from === 0 ? placed : placed.subarray(from), sizes, bytes));
    const acks = await Promise.all(parts);
    return acks.length === 1 ? (acks[0] as AppendAck[]) : acks.flat();
  }

  #enqueue(topic: string, messages: OutgoingMessage[], placed: Int32Array, sizes: Map<string, number>, bytes: number): Promise<AppendAck[]> {
    return new Promise<AppendAck[]>((resolve, reject) => {
      this.#queue.push({ topic, messages, placed, sizes, bytes, resolve, reject });
      if (!this.#sending) void this.#send();
    });
  }

  /** Whether `next` fits in a send that already holds `sizes` and `bytes`. */
  static #fits(next: PendingAppend, sizes: Map<string, number>, bytes: number): boolean {
    if (bytes + next.bytes > MAX_SEND_BYTES) return false;
    for (const [key, n] of next.sizes) if ((sizes.get(key) ?? 0) + n > MAX_PARTITION_BYTES) return false;
    return true;
  }

  /**
   * Sends queued appends, all queued at once, one send at a time: concurrent sends may reach the
   * broker out of order, and appends must land in the order they were issued (per-key order).
   * Worse, @platformatic/kafka 1.35's idempotent producer gives concurrent sends the same sequence
   * numbers, and the broker acknowledges the later ones as duplicates without storing them.
   * Appends that come while a send is in flight go together in the next one, so the round trips
   * are shared (group commit, as in the journal).
   */
  async #send(): Promise<void> {
    this.#sending = true;
    while (this.#queue.length > 0) {
      const group: PendingAppend[] = [];
      let bytes = 0;
      const sizes = new Map<string, number>();
      while (this.#queue.length > 0 && (group.length === 0 || KafkaLog.#fits(this.#queue[0] as PendingAppend, sizes, bytes))) {
        const next = this.#queue.shift() as PendingAppend;
        for (const [key, n] of next.sizes) sizes.set(key, (sizes.get(key) ?? 0) + n);
        bytes += next.bytes;
        group.push(next);
      }
      let result;
      try {
        result = await this.#producer.send({ messages: group.flatMap((g) => g.messages) });
      } catch (err) {
        const error = this.#closed ? closedError('log') : kafkaError(`append ${group.reduce((n, g) => n + g.messages.length, 0)} records`, err);
        for (const g of group) g.reject(error);
        continue;
      }
      // The broker gives each partition's base offset; a partition's records of one send are
      // consecutive from it, in the order they were sent.
      const next = new Map<string, number>();
      for (const o of result.offsets ?? []) next.set(`${o.topic}/${o.partition}`, Number(o.offset));
      for (const g of group) {
        try {
          const acks: AppendAck[] = new Array<AppendAck>(g.placed.length);
          for (let i = 0; i < g.placed.length; i++) {
            const partition = g.placed[i] as number;
            const key = `${g.topic}/${partition}`;
            const offset = next.get(key);
            if (offset === undefined) throw kafkaError(`append to ${g.topic}`, new Error(`no offset came back for partition ${partition}`));
            acks[i] = { partition, offset };
            next.set(key, offset + 1);
          }
          g.resolve(acks);
        } catch (err) {
          g.reject(err);
        }
      }
    }
    this.#sending = false;
  }

  async consumer(options: ConsumerOptions): Promise<LogConsumer> {
    this.#check();
    for (const t of options.topics) await this.#partitionCount(this.#o.topicPrefix + t);
    const c = await KafkaLogConsumer.open(this.#o, options, () => this.#consumers.delete(c));
    this.#consumers.add(c);
    return c;
  }

  async read(logical: TopicPartition, offset: number, max: number): Promise<LogRecord[]> {
    this.#check();
    const tp = { topic: this.#o.topicPrefix + logical.topic, partition: logical.partition };
    const n = await this.#partitionCount(tp.topic);
    if (tp.partition < 0 || tp.partition >= n) throw new StockStreamError('SS_LOG_TOPIC', `Topic ${tp.topic} has partitions 0..${n - 1}, not ${tp.partition}.`);
    if (max <= 0) return [];
    try {
      const [starts, ends] = await Promise.all([
        this.#reader.listOffsets({ topics: [tp.topic], partitions: { [tp.topic]: [tp.partition] }, timestamp: EARLIEST }),
        this.#reader.listOffsets({ topics: [tp.topic], partitions: { [tp.topic]: [tp.partition] }, timestamp: LATEST }),
      ]);
      const start = Number(starts.get(tp.topic)?.[tp.partition] ?? 0);
      const end = Number(ends.get(tp.topic)?.[tp.partition] ?? 0);
      const out: LogRecord[] = [];
      for (let at = Math.max(offset, start); at < end && out.length < max; ) {
        const got = await fetchRecords(this.#reader, tp, at, this.#o.fetchMaxWaitMs, logical.topic);
        if (got.length === 0) break;
        for (const r of got) if (r.offset >= at && out.length < max && r.offset < end) out.push(r);
        at = (got[got.length - 1] as LogRecord).offset + 1;
      }
      return out;
    } catch (err) {
      throw kafkaError(`read ${tp.topic}/${tp.partition} from ${offset}`, err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [...this.#consumers]) await c.close();
    await Promise.allSettled([this.#producer.close(), this.#reader.close(), this.#admin.close()]);
  }

  #check(): void {
    if (this.#closed) throw closedError('log');
  }

  async #existing(): Promise<Set<string>> {
    try {
      return new Set(await this.#admin.listTopics({ includeInternals: false }));
    } catch (err) {
      throw kafkaError('list topics', err);
    }
  }

  async #partitionCount(topic: string): Promise<number> {
    const known = this.#partitions.get(topic);
    if (known !== undefined) return known;
    if (!(await this.#existing()).has(topic)) {
      throw new StockStreamError('SS_LOG_TOPIC', `Topic ${topic} does not exist on Kafka. Create it first (ensureTopic), or check the topic name.`);
    }
    const starts = await this.#reader.listOffsets({ topics: [topic], timestamp: EARLIEST });
    const n = starts.get(topic)?.length ?? 0;
    this.#partitions.set(topic, n);
    return n;
  }
}

/** One fetch of a partition from `offset` (records of whole batches; the caller trims). */
async function fetchRecords(reader: Consumer, tp: TopicPartition, offset: number, maxWaitMs: number, logicalTopic: string): Promise<LogRecord[]> {
  const metadata = await reader.metadata({ topics: [tp.topic] });
  const topic = metadata.topics.get(tp.topic);
  const leader = topic?.partitions[tp.partition]?.leader;
  if (topic === undefined || leader === undefined) throw new Error(`no leader known for ${tp.topic}/${tp.partition}`);
  const response = await reader.fetch({
    node: leader,
    maxWaitTime: maxWaitMs,
    topics: [{ topicId: topic.id, partitions: [{ partition: tp.partition, fetchOffset: BigInt(offset), partitionMaxBytes: 4 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
  });
  const out: LogRecord[] = [];
  for (const t of response.responses) {
    for (const p of t.partitions) {
      if (p.partitionIndex !== tp.partition) continue;
      if (p.errorCode !== 0) throw new Error(`fetch of ${tp.topic}/${tp.partition} failed with Kafka error code ${p.errorCode}`);
      for (const batch of p.records ?? []) {
        // Transaction markers carry no data (this producer writes none, but another may).
        if (batch.attributes & 0x20) continue;
        for (const r of batch.records) {
          out.push({
            topic: logicalTopic,
            partition: tp.partition,
            offset: Number(batch.firstOffset + BigInt(r.offsetDelta)),
            key: r.key ? r.key.toString('utf8') : '',
            value: r.value ? new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength) : new Uint8Array(0),
            timestamp: Number(batch.firstTimestamp + r.timestampDelta),
            headers: headersOf(r.headers),
          });
        }
      }
    }
  }
  return out;
}

/**
 * A consumer group member. Kafka's client streams records; the port polls, so records are pulled
 * from the stream (paused mode: it fetches ahead only up to its buffer) and handed out in batches.
 * Positions are kept here per partition (`#next`), so a record the stream delivers again after a
 * rebalance is dropped when this member already returned it, and `seek` restarts the stream at
 * exact offsets. Offsets are committed only by `commit()` (no autocommit outside that test).
 *
 * The client gives up on a broker that stays away (its stream fails after a few fetch retries;
 * a group it cannot rejoin raises 'error'): the member then resumes on its own, with backoff, from
 * the positions it handed out, so `poll` just waits out a broker restart instead of failing the
 * pipeline (or crashing the process on an unheard 'error').
 */
class KafkaLogConsumer implements LogConsumer {
  readonly group: string;
  readonly #o: Resolved;
  readonly #options: ConsumerOptions;
  readonly #consumer: Consumer;
  readonly #onClose: () => void;
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
  /** Next offset to hand out per "topic/partition"; absent until known. */
  #next = new Map<string, number>();
  #pending: LogRecord[] = [];
  #closed = false;
  #recovering: Promise<void> | null = null;
  /** The last failure the member is recovering from, or null when healthy. */
  #failure: unknown = null;

  private constructor(o: Resolved, options: ConsumerOptions, consumer: Consumer, stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, onClose: () => void) {
    this.#o = o;
    this.#options = options;
    this.group = options.group;
    this.#consumer = consumer;
    this.#stream = this.#watch(stream);
    this.#onClose = onClose;
    consumer.on('consumer:group:join', () => this.#rejoined());
    consumer.on('error', (err: unknown) => this.#failed(err));
  }

  static async open(o: Resolved, options: ConsumerOptions, onClose: () => void): Promise<KafkaLogConsumer> {
    const consumer = new Consumer({
      bootstrapBrokers: [...o.brokers],
      clientId: `${o.clientId}-${options.group}`,
      groupId: o.topicPrefix + options.group,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(o.sessionTimeoutMs, 10_000),
      retries: 5,
      retryDelay: 250,
    });
    try {
      const stream = await consumer.consume({
        topics: options.topics.map((t) => o.topicPrefix + t),
        mode: 'committed',
        fallbackMode: options.reset ?? 'earliest',
        autocommit: o.autocommitIntervalMs > 0 ? o.autocommitIntervalMs : false,
        highWaterMark: PREFETCH_MESSAGES,
        maxWaitTime: o.fetchMaxWaitMs,
      });
      return new KafkaLogConsumer(o, options, consumer, stream, onClose);
    } catch (err) {
      await Promise.resolve(consumer.close(true)).catch(() => undefined);
      throw kafkaError(`join consumer group ${options.group}`, err);
    }
  }

  assignment(): readonly TopicPartition[] {
    const out: TopicPartition[] = [];
    const cut = this.#o.topicPrefix.length;
    for (const a of this.#consumer.assignments ?? []) for (const partition of a.partitions) out.push({ topic: a.topic.slice(cut), partition });
    return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /**
   * Records ready now, up to `maxRecords`. With a timeout, waits up to it for the first record;
   * without one, waits only for the fetch in flight (at most `fetchMaxWaitMs` on the broker), so
   * "what the log holds now" means what one fetch round brings, as close as Kafka gets to it.
   */
  async poll(options: PollOptions = {}): Promise<LogRecord[]> {
    this.#check();
    const max = options.maxRecords ?? 10_000;
    const out = this.#take(max);
    if (out.length > 0 || max <= 0) return out;
    const stream = this.#stream;
    const timeoutMs = options.timeoutMs ?? 0;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stream.off('readable', done);
        stream.off('fetch', onFetch);
        stream.off('close', done);
        resolve();
      };
      const onFetch = (): void => {
        // A fetch's records are pushed right after its 'fetch' event: look once they are in.
        if (timeoutMs === 0) setImmediate(done);
      };
      const timer = setTimeout(done, timeoutMs === 0 ? 4 * this.#o.fetchMaxWaitMs + 1000 : timeoutMs);
      stream.on('readable', done);
      stream.on('fetch', onFetch);
      stream.on('close', done);
    });
    this.#check();
    return this.#take(max);
  }

  async seek(tp: TopicPartition, position: SeekPosition): Promise<void> {
    this.#check();
    const key = `${tp.topic}/${tp.partition}`;
    let offset: number;
    try {
      offset = await this.#resolve(tp, position);
    } catch (err) {
      throw kafkaError(`seek ${key}`, err);
    }
    // Every owned partition restarts where this member stands; the sought one at `offset`.
    const offsets = [];
    for (const a of this.assignment()) {
      const k = `${a.topic}/${a.partition}`;
      const at = k === key ? offset : (this.#next.get(k) ?? (await this.#startOf(a)));
      offsets.push({ topic: this.#o.topicPrefix + a.topic, partition: a.partition, offset: BigInt(at) });
      this.#next.set(k, at);
    }
    this.#pending = this.#pending.filter((r) => `${r.topic}/${r.partition}` !== key);
    await this.#swapStream({ mode: 'manual', offsets });
  }

  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    this.#check();
    if (offsets.length === 0) return;
    try {
      await this.#consumer.commit({ offsets: offsets.map((o) => ({ topic: this.#o.topicPrefix + o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) });
    } catch (err) {
      throw kafkaError(`commit offsets of group ${this.group}`, err);
    }
  }

  async committed(tp: TopicPartition): Promise<number | null> {
    this.#check();
    try {
      const topic = this.#o.topicPrefix + tp.topic;
      const r = await this.#consumer.listCommittedOffsets({ topics: [{ topic, partitions: [tp.partition] }] });
      const o = r.get(topic)?.[tp.partition];
      return o === undefined || o < 0n ? null : Number(o);
    } catch (err) {
      throw kafkaError(`read the committed offset of group ${this.group}`, err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    await this.#stream.close().catch(() => undefined);
    // Leaving the group hands its partitions over at once instead of after the session timeout.
    await Promise.resolve(this.#consumer.close(true)).catch(() => undefined);
  }

  #check(): void {
    if (this.#closed) throw closedError('consumer');
  }

  /** Up to `max` records, dropping any this member has already returned (redelivered after a rebalance). */
  #take(max: number): LogRecord[] {
    const out: LogRecord[] = [];
    const owned = new Set(this.assignment().map((a) => `${a.topic}/${a.partition}`));
    const accept = (r: LogRecord): void => {
      const key = `${r.topic}/${r.partition}`;
      if (!owned.has(key)) return;
      const next = this.#next.get(key);
      if (next !== undefined && r.offset < next) return;
      this.#next.set(key, r.offset + 1);
      out.push(r);
    };
    while (out.length < max && this.#pending.length > 0) accept(this.#pending.shift() as LogRecord);
    while (out.length < max) {
      const m = this.#stream.read() as Message<Buffer, Buffer, Buffer, Buffer> | null;
      if (m === null) break;
      accept(toRecord(m, this.#o.topicPrefix.length));
    }
    return out;
  }

  /** After a rebalance: partitions this member no longer owns are forgotten; the stream resumes from committed offsets. */
  #rejoined(): void {
    const owned = new Set(this.assignment().map((a) => `${a.topic}/${a.partition}`));
    for (const k of [...this.#next.keys()]) if (!owned.has(k)) this.#next.delete(k);
    this.#pending = this.#pending.filter((r) => owned.has(`${r.topic}/${r.partition}`));
  }

  async #swapStream(start: { mode: 'manual'; offsets: { topic: string; partition: number; offset: bigint }[] }): Promise<void> {
    // The new stream subscribes before the old one closes, so the topics stay subscribed and the
    // group is not rejoined (a rejoin would rebalance every member).
    const next = await this.#consumer.consume({ topics: this.#options.topics.map((t) => this.#o.topicPrefix + t), mode: start.mode, offsets: start.offsets, autocommit: this.#o.autocommitIntervalMs > 0 ? this.#o.autocommitIntervalMs : false, highWaterMark: PREFETCH_MESSAGES, maxWaitTime: this.#o.fetchMaxWaitMs });
    const old = this.#stream;
    this.#stream = this.#watch(next);
    await old.close().catch(() => undefined);
  }

  /** Paused mode (see `paused`) plus recovery when the stream fails. */
  #watch(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>): MessagesStream<Buffer, Buffer, Buffer, Buffer> {
    stream.on('error', (err: unknown) => {
      // A stream closed on purpose (swapped, or the consumer closing) may still report.
      if (stream === this.#stream) this.#failed(err);
    });
    return paused(stream);
  }

  /** Why the member is not fetching now (a broker away), or null. */
  get failure(): unknown {
    return this.#failure;
  }

  #failed(err: unknown): void {
    if (this.#closed) return;
    this.#failure = err;
    if (this.#recovering !== null) return;
    this.#recovering = this.#recover().finally(() => {
      this.#recovering = null;
    });
  }

  /** Restarts the stream where this member stands, backing off up to 5 s while the cluster is away. */
  async #recover(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
      if (this.#closed) return;
      try {
        const offsets = [];
        for (const a of this.assignment()) {
          const at = this.#next.get(`${a.topic}/${a.partition}`) ?? (await this.#startOf(a));
          offsets.push({ topic: this.#o.topicPrefix + a.topic, partition: a.partition, offset: BigInt(at) });
        }
        await this.#swapStream({ mode: 'manual', offsets });
        this.#failure = null;
        return;
      } catch (err) {
        this.#failure = err;
      }
    }
  }

  /** Where a partition with no position here starts: its committed offset, else the reset policy. */
  async #startOf(tp: TopicPartition): Promise<number> {
    const committed = await this.committed(tp);
    if (committed !== null) return committed;
    return this.#resolve(tp, this.#options.reset ?? 'earliest');
  }

  async #resolve(logical: TopicPartition, position: SeekPosition): Promise<number> {
    const tp = { topic: this.#o.topicPrefix + logical.topic, partition: logical.partition };
    const only = { topics: [tp.topic], partitions: { [tp.topic]: [tp.partition] } };
    if (position === 'earliest' || position === 'latest') {
      const r = await this.#consumer.listOffsets({ ...only, timestamp: position === 'earliest' ? EARLIEST : LATEST });
      return Number(r.get(tp.topic)?.[tp.partition] ?? 0);
    }
    if ('offset' in position) return position.offset;
    const r = await this.#consumer.listOffsetsWithTimestamps({ ...only, timestamp: BigInt(position.timestamp) });
    const found = r.get(tp.topic)?.get(tp.partition)?.offset;
    // No record at or after the timestamp: the end.
    if (found === undefined || found < 0n) return this.#resolve(logical, 'latest');
    return Number(found);
  }
}

/**
 * Puts the stream in paused mode with a standing 'readable' listener: it then fetches ahead up to
 * its buffer on its own. (A stream nobody listens to yet fetches nothing: @platformatic/kafka
 * waits for a reader before its first fetch.)
 */
function paused<T extends MessagesStream<Buffer, Buffer, Buffer, Buffer>>(stream: T): T {
  stream.on('readable', () => undefined);
  return stream;
}

function toRecord(m: Message<Buffer, Buffer, Buffer, Buffer>, prefixLength: number): LogRecord {
  const v = m.value;
  return {
    topic: prefixLength === 0 ? m.topic : m.topic.slice(prefixLength),
    partition: m.partition,
    offset: Number(m.offset),
    key: m.key ? m.key.toString('utf8') : '',
    value: v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0),
    timestamp: Number(m.timestamp),
    headers: headersOf(m.headers),
  };
}
