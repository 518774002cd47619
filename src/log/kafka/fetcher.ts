import { ConnectionPool, type Broker, type ClusterMetadata, type Connection, type Consumer } from '@platformatic/kafka';
import type { LogRecord } from '../log.js';
import { fetchRaw, READ_COMMITTED, type FetchedPartition, type FetchPartition, type FetchResponse } from './fetch-request.js';
import { AbortedTransactions, batchRecordCount, decodeBatch, scanBatches } from './record-batch.js';

/** Bytes asked per partition per fetch; doubled (up to the cap) for a batch larger than that. */
const PARTITION_MAX_BYTES = 1 << 20;
const PARTITION_MAX_BYTES_CAP = 64 << 20;
/** Bytes asked per fetch response in all. */
const RESPONSE_MAX_BYTES = 8 << 20;
/**
 * Fetched bytes not yet polled above which no fetch is sent. What is buffered stays below this
 * plus one response per broker (the fetches in flight when it was crossed).
 */
const MAX_BUFFERED_BYTES = 16 << 20;

/** https://kafka.apache.org/protocol#protocol_error_codes */
const OFFSET_OUT_OF_RANGE = 1;
const KAFKA_ERRORS: Readonly<Record<number, string>> = {
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  13: 'NETWORK_EXCEPTION',
  56: 'KAFKA_STORAGE_ERROR',
  74: 'FENCED_LEADER_EPOCH',
  75: 'UNKNOWN_LEADER_EPOCH',
  100: 'UNKNOWN_TOPIC_ID',
};

/** Wait before fetching again after `failures` consecutive failures: 100 ms doubling up to 5 s. */
function backoffMs(failures: number): number {
  return Math.min(5_000, 100 * 2 ** Math.max(0, failures - 1));
}

export function partitionKey(logicalTopic: string, partition: number): string {
  return `${logicalTopic}/${partition}`;
}

export interface FetcherOptions {
  clientId: string;
  /** The group member's client, asked for metadata only (partition leaders, broker addresses). */
  consumer: Consumer;
  /** How long a fetch waits on the broker for records (ms). */
  maxWaitMs: number;
  /** Where a partition starts again when its position is outside the log (the reset policy). */
  resetOffset(tp: { topic: string; partition: number }): Promise<number>;
}

export interface FetchAssignment {
  /** The topic's name on the cluster. */
  readonly topic: string;
  /** The topic's name on the port (records carry it). */
  readonly logical: string;
  readonly partition: number;
  /** Where the partition starts, unless it is owned already and stands there. */
  readonly offset: number;
}

export interface FetchPosition {
  readonly logical: string;
  readonly partition: number;
  /** The next offset to hand out. */
  readonly next: number;
}

class Partition {
  readonly key: string;
  /** Next offset to hand out: every record below it was handed out or skipped. */
  next: number;
  /** Next offset to fetch: the end of what is buffered or in flight. */
  fetchAt: number;
  /** Bumped when the position is moved; data fetched for an older one is dropped. */
  gen = 0;
  maxBytes = PARTITION_MAX_BYTES;
  inFlight = false;
  /** Waiting for the reset policy after OFFSET_OUT_OF_RANGE. */
  resetting = false;
  failures = 0;
  retryAt = 0;

  constructor(
    readonly topic: string,
    readonly logical: string,
    readonly partition: number,
    offset: number,
  ) {
    this.key = partitionKey(logical, partition);
    this.next = offset;
    this.fetchAt = offset;
  }
}

/** One partition's records of one fetch response, decoded batch by batch as they are polled. */
interface Chunk {
  readonly part: Partition;
  readonly gen: number;
  readonly buf: Buffer;
  /** Next batch to decode. */
  pos: number;
  readonly end: number;
  /** The offset after the chunk's last batch. */
  readonly nextOffset: number;
  readonly aborted: AbortedTransactions | null;
  /** Records of a batch decoded but not yet handed out (a poll's maxRecords cut it). */
  decoded: LogRecord[] | null;
  di: number;
}

interface BrokerState {
  inFlight: boolean;
  failures: number;
  retryAt: number;
}

/** A partition in a fetch request, as it stood when the request was sent. */
interface Sent {
  readonly part: Partition;
  readonly gen: number;
}

interface Waiter {
  /** Released by the completion of any request sent after this one (Infinity: by data only). */
  readonly after: number;
  readonly resolve: () => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Fetches a consumer group member's partitions from their leaders and hands their records out
 * in polls. Per broker one fetch is in flight at a time, sent again as soon as the previous one
 * answers (the records it brought are decoded later, when polled), while the bytes buffered stay
 * below MAX_BUFFERED_BYTES. Positions are kept per partition; moving one (seek, a new
 * assignment, the reset policy after OFFSET_OUT_OF_RANGE) drops what was fetched for it.
 *
 * A failed fetch (broker away, connection lost, timeout) backs its broker off, 100 ms doubling
 * up to 5 s, and refreshes the metadata; a partition-level error (not the leader, unknown topic,
 * ...) does the same for its partition. Fetching resumes from the positions held, so a broker
 * restart costs a pause, never a record. https://kafka.apache.org/documentation/#consumerapi
 */
export class Fetcher {
  readonly #o: FetcherOptions;
  readonly #pool: ConnectionPool;
  readonly #parts = new Map<string, Partition>();
  readonly #brokers = new Map<number, BrokerState>();
  #chunks: Chunk[] = [];
  #bytes = 0;
  /** Fetch requests sent so far. */
  #seq = 0;
  readonly #waiters = new Set<Waiter>();
  #pumping = false;
  #pumpAgain = false;
  /** The metadata must be refreshed before the next fetch (a leader moved or a broker failed). */
  #stale = false;
  #metadataFailures = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = 0;
  #failure: unknown = null;
  #closed = false;
  readonly #watched = new WeakSet<Connection>();

  constructor(o: FetcherOptions) {
    this.#o = o;
    // Fetches wait on the broker: they get connections of their own, so they never hold up the
    // group's heartbeats and commits.
    this.#pool = new ConnectionPool(o.clientId);
  }

  /** Why fetching last failed, or null once a fetch succeeds. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Owns exactly `assignments`: new partitions start at their offset, owned ones move to it if they stand elsewhere. */
  assign(assignments: readonly FetchAssignment[]): void {
    const keep = new Set<string>();
    for (const a of assignments) {
      const key = partitionKey(a.logical, a.partition);
      keep.add(key);
      const p = this.#parts.get(key);
      if (p === undefined) this.#parts.set(key, new Partition(a.topic, a.logical, a.partition, a.offset));
      else if (p.next !== a.offset) this.#move(p, a.offset);
    }
    this.retain(keep);
    this.#pump();
  }

  /** Forgets every partition but `keys` (revoked ones), with what was fetched for them. */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, p] of this.#parts) {
      if (keys.has(key)) continue;
      this.#parts.delete(key);
      this.#purge(p);
    }
  }

  /** Moves an owned partition; false when it is not owned. */
  seek(key: string, offset: number): boolean {
    const p = this.#parts.get(key);
    if (p === undefined) return false;
    this.#move(p, offset);
    this.#pump();
    return true;
  }

  position(key: string): number | undefined {
    return this.#parts.get(key)?.next;
  }

  positions(): FetchPosition[] {
    return [...this.#parts.values()].map((p) => ({ logical: p.logical, partition: p.partition, next: p.next }));
  }

  /** Up to `max` buffered records, in offset order per partition, decoding only what it hands out. */
  take(max: number): LogRecord[] {
    const out: LogRecord[] = [];
    const before = this.#bytes;
    while (out.length < max && this.#chunks.length > 0) {
      const c = this.#chunks[0] as Chunk;
      const p = c.part;
      if (c.decoded !== null) {
        const d = c.decoded;
        let i = c.di;
        while (i < d.length && out.length < max) out.push(d[i++] as LogRecord);
        p.next = (d[i - 1] as LogRecord).offset + 1;
        c.di = i;
        if (i === d.length) c.decoded = null;
        continue;
      }
      if (c.pos >= c.end) {
        // Past the chunk's control and skipped records too.
        if (c.nextOffset > p.next) p.next = c.nextOffset;
        this.#chunks.shift();
        this.#bytes -= c.end;
        continue;
      }
      const n = out.length;
      if (batchRecordCount(c.buf, c.pos) <= max - n) {
        c.pos = decodeBatch(c.buf, c.pos, p.logical, p.partition, p.next, out, c.aborted);
        if (out.length > n) p.next = (out[out.length - 1] as LogRecord).offset + 1;
      } else {
        const d: LogRecord[] = [];
        c.pos = decodeBatch(c.buf, c.pos, p.logical, p.partition, p.next, d, c.aborted);
        if (d.length > 0) {
          c.decoded = d;
          c.di = 0;
        }
      }
    }
    if (before >= MAX_BUFFERED_BYTES && this.#bytes < MAX_BUFFERED_BYTES) this.#pump();
    return out;
  }

  /**
   * Resolves when records are buffered, after `timeoutMs`, or on close; with `fresh`, also when
   * a fetch sent after this call completes (answered empty, or failed).
   */
  wait(timeoutMs: number, fresh: boolean): Promise<void> {
    if (this.#closed || this.#chunks.length > 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const w: Waiter = { after: fresh ? this.#seq : Number.POSITIVE_INFINITY, resolve, timer: undefined };
      w.timer = setTimeout(() => this.#release(w), timeoutMs);
      this.#waiters.add(w);
      this.#pump();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    for (const w of [...this.#waiters]) this.#release(w);
    this.#chunks = [];
    this.#bytes = 0;
    this.#parts.clear();
    await this.#pool.close().catch(() => undefined);
  }

  #release(w: Waiter): void {
    clearTimeout(w.timer);
    if (this.#waiters.delete(w)) w.resolve();
  }

  /** After request `completed` ended: releases the waiters it satisfies. */
  #wake(completed: number): void {
    const data = this.#chunks.length > 0;
    for (const w of this.#waiters) if (data || completed > w.after) this.#release(w);
  }

  #move(p: Partition, offset: number): void {
    p.next = offset;
    p.fetchAt = offset;
    p.gen++;
    p.maxBytes = PARTITION_MAX_BYTES;
    this.#purge(p);
  }

  #purge(p: Partition): void {
    if (!this.#chunks.some((c) => c.part === p)) return;
    const before = this.#bytes;
    this.#chunks = this.#chunks.filter((c) => {
      if (c.part !== p) return true;
      this.#bytes -= c.end;
      return false;
    });
    if (before >= MAX_BUFFERED_BYTES && this.#bytes < MAX_BUFFERED_BYTES) this.#pump();
  }

  #broker(node: number): BrokerState {
    let b = this.#brokers.get(node);
    if (b === undefined) {
      b = { inFlight: false, failures: 0, retryAt: 0 };
      this.#brokers.set(node, b);
    }
    return b;
  }

  #backoff(p: Partition, now: number): void {
    p.failures++;
    p.retryAt = now + backoffMs(p.failures);
    this.#wakeAt(p.retryAt);
  }

  /** Pumps again at `at` (the earliest back-off ending). */
  #wakeAt(at: number): void {
    if (this.#closed || (this.#timer !== null && this.#timerAt <= at)) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  /** Sends a fetch to every broker that has none in flight and leads partitions ready to fetch. */
  #pump(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#round().finally(() => {
      this.#pumping = false;
      if (this.#pumpAgain) {
        this.#pumpAgain = false;
        this.#pump();
      }
    });
  }

  async #round(): Promise<void> {
    if (this.#bytes >= MAX_BUFFERED_BYTES) return;
    const now = Date.now();
    const ready: Partition[] = [];
    for (const p of this.#parts.values()) {
      if (p.inFlight || p.resetting) continue;
      if (p.retryAt > now) this.#wakeAt(p.retryAt);
      else ready.push(p);
    }
    if (ready.length === 0) return;
    let metadata: ClusterMetadata;
    try {
      metadata = await this.#o.consumer.metadata({ topics: [...new Set(ready.map((p) => p.topic))], forceUpdate: this.#stale });
      this.#stale = false;
      this.#metadataFailures = 0;
    } catch (err) {
      if (this.#closed) return;
      this.#failure = err;
      this.#metadataFailures++;
      const at = Date.now() + backoffMs(this.#metadataFailures);
      for (const p of ready) p.retryAt = Math.max(p.retryAt, at);
      this.#wakeAt(at);
      return;
    }
    if (this.#closed) return;
    const at = Date.now();
    const byLeader = new Map<number, Partition[]>();
    for (const p of ready) {
      if (this.#parts.get(p.key) !== p || p.inFlight || p.resetting) continue;
      const leader = metadata.topics.get(p.topic)?.partitions[p.partition]?.leader ?? -1;
      if (leader < 0 || !metadata.brokers.has(leader)) {
        // No leader now (an election, a broker away): look again after a back-off.
        this.#stale = true;
        this.#backoff(p, at);
        continue;
      }
      const b = this.#broker(leader);
      if (b.inFlight) continue;
      if (b.retryAt > at) {
        this.#wakeAt(b.retryAt);
        continue;
      }
      const group = byLeader.get(leader);
      if (group === undefined) byLeader.set(leader, [p]);
      else group.push(p);
    }
    for (const [leader, parts] of byLeader) this.#send(leader, metadata.brokers.get(leader) as Broker, parts);
  }

  #send(node: number, broker: Broker, parts: Partition[]): void {
    const b = this.#broker(node);
    b.inFlight = true;
    const seq = ++this.#seq;
    const sent: Sent[] = [];
    const byTopic = new Map<string, FetchPartition[]>();
    for (const p of parts) {
      p.inFlight = true;
      sent.push({ part: p, gen: p.gen });
      const request = { partition: p.partition, fetchOffset: p.fetchAt, maxBytes: p.maxBytes };
      const list = byTopic.get(p.topic);
      if (list === undefined) byTopic.set(p.topic, [request]);
      else list.push(request);
    }
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    this.#pool.get(broker, (error, connection) => {
      if (error !== null || connection === undefined) {
        this.#failed(b, sent, seq, error);
        return;
      }
      if (!this.#watched.has(connection)) {
        // A socket error reaches the request as a failure; an 'error' event nobody hears would
        // end the process.
        this.#watched.add(connection);
        connection.on('error', () => undefined);
      }
      fetchRaw(connection, this.#o.maxWaitMs, 1, RESPONSE_MAX_BYTES, READ_COMMITTED, topics, (err, response) => {
        if (err !== null || response === undefined) this.#failed(b, sent, seq, err);
        else this.#received(b, sent, seq, response);
      });
    });
  }

  #failed(b: BrokerState, sent: readonly Sent[], seq: number, err: unknown): void {
    b.inFlight = false;
    for (const s of sent) s.part.inFlight = false;
    if (this.#closed) return;
    b.failures++;
    b.retryAt = Date.now() + backoffMs(b.failures);
    this.#failure = err;
    this.#stale = true;
    this.#wakeAt(b.retryAt);
    this.#wake(seq);
  }

  #received(b: BrokerState, sent: readonly Sent[], seq: number, response: FetchResponse): void {
    b.inFlight = false;
    b.failures = 0;
    for (const s of sent) s.part.inFlight = false;
    if (this.#closed) return;
    const now = Date.now();
    let failure: unknown = null;
    if (response.errorCode !== 0) {
      failure = new Error(`fetch failed with Kafka error code ${response.errorCode}`);
      for (const s of sent) this.#backoff(s.part, now);
    }
    for (const t of response.topics) {
      for (const r of t.partitions) {
        const s = sent.find((x) => x.part.partition === r.partition && x.part.topic === t.topic);
        if (s === undefined) continue;
        const p = s.part;
        // Revoked or moved while the fetch was out: its records belong to an old position.
        if (this.#parts.get(p.key) !== p || p.gen !== s.gen) continue;
        if (r.errorCode === 0) {
          p.failures = 0;
          if (r.records !== null) {
            try {
              this.#buffer(p, r);
            } catch (err) {
              failure = err;
              this.#backoff(p, now);
            }
          }
        } else if (r.errorCode === OFFSET_OUT_OF_RANGE) {
          this.#outOfRange(p);
        } else {
          failure = new Error(`fetch of ${p.topic}/${p.partition} failed with Kafka error ${KAFKA_ERRORS[r.errorCode] ?? r.errorCode}`);
          this.#stale = true;
          this.#backoff(p, now);
        }
      }
    }
    this.#failure = failure;
    this.#wake(seq);
    this.#pump();
  }

  #buffer(p: Partition, r: FetchedPartition): void {
    const records = r.records as Buffer;
    const scan = scanBatches(records, 0, records.length);
    if (scan.nextOffset > p.fetchAt) {
      const aborted = r.aborted !== null && r.aborted.length > 0 ? new AbortedTransactions(r.aborted) : null;
      this.#chunks.push({ part: p, gen: p.gen, buf: records, pos: 0, end: scan.end, nextOffset: scan.nextOffset, aborted, decoded: null, di: 0 });
      this.#bytes += scan.end;
      p.fetchAt = scan.nextOffset;
    } else if (scan.nextOffset < 0 && records.length > 0) {
      // Not even one whole batch fits in maxBytes (a broker that does not return an oversized
      // first batch whole, as KIP-74 has it): ask for more next time.
      p.maxBytes = Math.min(p.maxBytes * 2, PARTITION_MAX_BYTES_CAP);
    }
  }

  #outOfRange(p: Partition): void {
    p.resetting = true;
    const gen = p.gen;
    this.#o
      .resetOffset({ topic: p.logical, partition: p.partition })
      .then(
        (offset) => {
          if (this.#parts.get(p.key) === p && p.gen === gen) this.#move(p, offset);
        },
        (err: unknown) => {
          this.#failure = err;
          this.#backoff(p, Date.now());
        },
      )
      .finally(() => {
        p.resetting = false;
        this.#pump();
      });
  }
}
