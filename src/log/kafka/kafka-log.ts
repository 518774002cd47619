import { Admin, Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
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
  RecordCodec,
  SeekPosition,
  TopicConfig,
  TopicInfo,
  TopicPartition,
} from '../log.js';
import { partitionForKey } from '../partitioner.js';
import { recordsOf } from '../records-of.js';
import { FETCH_VERSION } from './fetch-request.js';
import { Fetcher, partitionKey } from './fetcher.js';

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
   * timeout, which waits for one fetch round (see KafkaLogConsumer.poll). Default 100.
   */
  fetchMaxWaitMs?: number;
  /**
   * Prepended to every topic and consumer group on the cluster (and stripped from what comes
   * back), so several deployments or test runs share one cluster without meeting. Default ''.
   */
  topicPrefix?: string;
  /**
   * Commits what a consumer has handed out every this many ms (and on close), as a client's
   * autocommit does. Never set it in a deployment: records polled but not yet written would be
   * committed, and lost by a crash. It exists, off by default and absent from the configuration,
   * so a test can show that loss happens with it and not without
   * (test/integration/crash-before-write.test.ts).
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

/** Kafka's DescribeConfigs source for a value set on the topic itself. */
const DYNAMIC_TOPIC_CONFIG = 1;
/** ListOffsets special timestamps. */
const EARLIEST = -2n;
const LATEST = -1n;

function closedError(what: string): StockStreamError {
  return new StockStreamError('SS_LOG_CLOSED', `Expected an open ${what}, but it is closed. Open a new one.`);
}

function kafkaError(what: string, err: unknown): StockStreamError {
  const reason = (err instanceof Error ? err.message : String(err)).replace(/\.+$/, '');
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

  async appendItems<T>(logical: string, items: readonly T[], codec: RecordCodec<T>): Promise<void> {
    await this.append(logical, recordsOf(logical, items, codec));
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

/** A partition of the member's assignment, named both ways. */
interface Owned {
  readonly topic: string;
  readonly logical: string;
  readonly partition: number;
  readonly key: string;
}

/** How long opening a consumer waits for its partitions' starting offsets. */
const PLACE_TIMEOUT_MS = 30_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A consumer group member. @platformatic/kafka keeps the membership (join, heartbeats,
 * rebalances, commits, offset look-ups); records are fetched by a Fetcher of ours (fetcher.ts:
 * Fetch requests whose record batches stay raw until polled, record-batch.ts decodes them), so a
 * record costs one object, its key string and a view of the fetched bytes.
 *
 * Positions are kept per partition by the Fetcher. On every assignment (the client's
 * 'consumer:group:join') revoked partitions are forgotten at once, with what was fetched for
 * them; then each owned partition starts at the later of where this member stands and the
 * group's committed offset (a partition another member moved on while this one was away skips
 * what that member did), else at the committed offset, else at the reset policy. Offsets are
 * committed only by `commit()` (autocommit exists only for the test that shows why not).
 *
 * Fetch failures (a broker away) back off and resume inside the Fetcher. A group the client
 * cannot rejoin raises 'error': the member then joins again on its own, with backoff, so `poll`
 * just waits out a broker restart instead of failing the pipeline (or crashing the process on
 * an unheard 'error').
 */
class KafkaLogConsumer implements LogConsumer {
  readonly group: string;
  readonly #o: Resolved;
  readonly #options: ConsumerOptions;
  readonly #consumer: Consumer;
  readonly #fetcher: Fetcher;
  readonly #onClose: () => void;
  /** Group joins seen; placing the partitions of an older one gives way to the newer. */
  #joins = 0;
  /** The placement of the partitions of the latest join (and every one before it). */
  #placing: Promise<void> = Promise.resolve();
  #closed = false;
  #recovering: Promise<void> | null = null;
  /** The last group-level failure the member is recovering from, or null. */
  #failure: unknown = null;
  #autocommitTimer: NodeJS.Timeout | null = null;
  #autocommitting = false;
  /** Positions the autocommit timer last committed, by partition key. */
  readonly #autocommitted = new Map<string, number>();

  private constructor(o: Resolved, options: ConsumerOptions, consumer: Consumer, onClose: () => void) {
    this.#o = o;
    this.#options = options;
    this.group = options.group;
    this.#consumer = consumer;
    this.#onClose = onClose;
    this.#fetcher = new Fetcher({
      clientId: `${o.clientId}-${options.group}-fetch`,
      consumer,
      maxWaitMs: o.fetchMaxWaitMs,
      resetOffset: (tp) => this.#resolve(tp, options.reset ?? 'earliest'),
    });
    consumer.on('consumer:group:join', () => this.#joined());
    consumer.on('error', (err: unknown) => this.#failed(err));
    if (o.autocommitIntervalMs > 0) this.#autocommitTimer = setInterval(() => void this.#autocommit(), o.autocommitIntervalMs);
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
    const c = new KafkaLogConsumer(o, options, consumer, onClose);
    try {
      const fetch = (await consumer.listApis()).find((a) => a.apiKey === 1);
      if (fetch === undefined || fetch.minVersion > FETCH_VERSION || fetch.maxVersion < FETCH_VERSION) {
        throw new Error(`the broker serves Fetch versions ${fetch === undefined ? 'none' : `${fetch.minVersion}-${fetch.maxVersion}`}, and this consumer speaks version ${FETCH_VERSION}`);
      }
      consumer.topics.trackAll(...options.topics.map((t) => o.topicPrefix + t));
      // Emits 'consumer:group:join' before it resolves: the placement is under way by then.
      await consumer.joinGroup({});
      // Placing retries while the cluster is away; opening does not wait forever for it.
      let timer: NodeJS.Timeout | undefined;
      const placed = await Promise.race([c.#placing.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), PLACE_TIMEOUT_MS)))]);
      clearTimeout(timer);
      if (!placed) throw new Error(`the group's committed offsets could not be read within ${PLACE_TIMEOUT_MS} ms (${String(c.#failure)})`);
      return c;
    } catch (err) {
      await c.#shut();
      throw kafkaError(`join consumer group ${options.group}`, err);
    }
  }

  assignment(): readonly TopicPartition[] {
    return this.#owned()
      .map((o) => ({ topic: o.logical, partition: o.partition }))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /**
   * Records ready now, up to `maxRecords`. With a timeout, waits up to it for the first record;
   * without one, waits for one fetch sent after the call to come back (a fetch waits at most
   * `fetchMaxWaitMs` on the broker, and one may be in flight before it), so "what the log holds
   * now" means what one fetch round brings, as close as Kafka gets to it.
   */
  async poll(options: PollOptions = {}): Promise<LogRecord[]> {
    this.#check();
    const max = options.maxRecords ?? 10_000;
    if (max <= 0) return [];
    const out = this.#fetcher.take(max);
    if (out.length > 0) return out;
    const timeoutMs = options.timeoutMs ?? 0;
    if (timeoutMs <= 0) {
      await this.#fetcher.wait(4 * this.#o.fetchMaxWaitMs + 1000, true);
      this.#check();
      return this.#fetcher.take(max);
    }
    for (const deadline = Date.now() + timeoutMs; ; ) {
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.#fetcher.wait(left, false);
      this.#check();
      const got = this.#fetcher.take(max);
      if (got.length > 0) return got;
    }
  }

  async seek(tp: TopicPartition, position: SeekPosition): Promise<void> {
    this.#check();
    const key = partitionKey(tp.topic, tp.partition);
    let offset: number;
    try {
      offset = await this.#resolve(tp, position);
    } catch (err) {
      throw kafkaError(`seek ${key}`, err);
    }
    // A partition just assigned is placed first, so the seek is what stands.
    await this.#placing;
    this.#fetcher.seek(key, offset);
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
    // As the client's autocommit did: what was handed out is committed on the way out.
    if (this.#autocommitTimer !== null) await this.#autocommit(true);
    await this.#shut();
  }

  /** Why the member is not fetching now (a broker away), or null. */
  get failure(): unknown {
    return this.#failure ?? this.#fetcher.failure;
  }

  async #shut(): Promise<void> {
    this.#closed = true;
    if (this.#autocommitTimer !== null) clearInterval(this.#autocommitTimer);
    await this.#fetcher.close();
    // Leaving the group hands its partitions over at once instead of after the session timeout.
    await Promise.resolve(this.#consumer.close(true)).catch(() => undefined);
  }

  #check(): void {
    if (this.#closed) throw closedError('consumer');
  }

  #owned(): Owned[] {
    const out: Owned[] = [];
    const cut = this.#o.topicPrefix.length;
    for (const a of this.#consumer.assignments ?? []) {
      const logical = a.topic.slice(cut);
      for (const partition of a.partitions) out.push({ topic: a.topic, logical, partition, key: partitionKey(logical, partition) });
    }
    return out;
  }

  /** A new assignment: revoked partitions go now; owned ones are placed once their offsets are known. */
  #joined(): void {
    if (this.#closed) return;
    const joined = ++this.#joins;
    this.#fetcher.retain(new Set(this.#owned().map((o) => o.key)));
    this.#placing = this.#placing.then(() => this.#place(joined));
  }

  async #place(joined: number): Promise<void> {
    for (let attempt = 0; !this.#closed && joined === this.#joins; attempt++) {
      try {
        const owned = this.#owned();
        const committed = await this.#committedOf(owned);
        // Partitions new here with nothing committed start at the reset policy.
        const fresh = owned.filter((o, i) => committed[i] === null && this.#fetcher.position(o.key) === undefined);
        const reset = await this.#resetOf(fresh);
        if (this.#closed || joined !== this.#joins) return;
        // Positions are read now, not before the awaits: polls went on meanwhile.
        this.#fetcher.assign(
          owned.map((o, i) => {
            const at = this.#fetcher.position(o.key);
            const c = committed[i] ?? null;
            const offset = at !== undefined ? Math.max(at, c ?? at) : (c ?? reset.get(o.key) ?? 0);
            return { topic: o.topic, logical: o.logical, partition: o.partition, offset };
          }),
        );
        this.#failure = null;
        return;
      } catch (err) {
        this.#failure = err;
        await sleep(Math.min(5_000, 250 * 2 ** attempt));
      }
    }
  }

  /** The group's committed offsets of `owned`, in order (null: none). */
  async #committedOf(owned: readonly Owned[]): Promise<(number | null)[]> {
    if (owned.length === 0) return [];
    const byTopic = new Map<string, number[]>();
    for (const o of owned) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o.partition]);
    const r = await this.#consumer.listCommittedOffsets({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
    return owned.map((o) => {
      const c = r.get(o.topic)?.[o.partition];
      return c === undefined || c < 0n ? null : Number(c);
    });
  }

  /** Where the reset policy puts each of `owned`, by key. */
  async #resetOf(owned: readonly Owned[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (owned.length === 0) return out;
    const partitions: Record<string, number[]> = {};
    for (const o of owned) (partitions[o.topic] ??= []).push(o.partition);
    const r = await this.#consumer.listOffsets({ topics: Object.keys(partitions), partitions, timestamp: (this.#options.reset ?? 'earliest') === 'earliest' ? EARLIEST : LATEST });
    for (const o of owned) out.set(o.key, Number(r.get(o.topic)?.[o.partition] ?? 0));
    return out;
  }

  /** Commits what was handed out (autocommitIntervalMs: only for the test that shows the loss). */
  async #autocommit(last = false): Promise<void> {
    if (this.#autocommitting || (this.#closed && !last)) return;
    const offsets = this.#fetcher.positions().filter((p) => this.#autocommitted.get(partitionKey(p.logical, p.partition)) !== p.next);
    if (offsets.length === 0) return;
    this.#autocommitting = true;
    try {
      await this.#consumer.commit({ offsets: offsets.map((p) => ({ topic: this.#o.topicPrefix + p.logical, partition: p.partition, offset: BigInt(p.next), leaderEpoch: -1 })) });
      for (const p of offsets) this.#autocommitted.set(partitionKey(p.logical, p.partition), p.next);
    } catch {
      // The next tick tries again.
    } finally {
      this.#autocommitting = false;
    }
  }

  #failed(err: unknown): void {
    if (this.#closed) return;
    this.#failure = err;
    if (this.#recovering !== null) return;
    this.#recovering = this.#recover().finally(() => {
      this.#recovering = null;
    });
  }

  /** Joins the group again, backing off up to 5 s while the cluster is away; the join places the partitions. */
  async #recover(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      await sleep(Math.min(5_000, 250 * 2 ** attempt));
      if (this.#closed) return;
      try {
        await this.#consumer.joinGroup({});
        this.#failure = null;
        return;
      } catch (err) {
        this.#failure = err;
      }
    }
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
