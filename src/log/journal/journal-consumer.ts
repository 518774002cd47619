/**
 * A consumer of the journal. Single process, so there is no rebalance: a member is assigned every
 * partition of its topics. Two members of one group in one journal each get that same full
 * assignment and their own positions; they share only the committed offsets (the last commit
 * wins). Use one member per group, or distinct groups, for work that must not be doubled.
 *
 * Positions start at the group's committed offset, else at the reset policy; a position that
 * retention has passed resets to the partition's start without error, like Kafka with
 * auto.offset.reset=earliest.
 */

import { StockStreamError } from '../../shared/errors.js';
import type { CommitOffset, LogConsumer, LogRecord, PollOptions, ResetPolicy, SeekPosition, TopicPartition } from '../log.js';

/** What a consumer needs from its journal; the journal hands it closures over its private state. */
export interface ConsumerHost {
  checkOpen(): void;
  isOpen(): boolean;
  start(tp: TopicPartition): number;
  end(tp: TopicPartition): number;
  read(tp: TopicPartition, offset: number, max: number): Promise<LogRecord[]>;
  offsetForTimestamp(tp: TopicPartition, ts: number): Promise<number>;
  committed(group: string, tp: TopicPartition): number | null;
  commit(group: string, offsets: readonly CommitOffset[]): Promise<void>;
  /** Resolves at the next publish of appended records, or after `ms`, or when `wake` is called. */
  waitForAppend(ms: number, register: (wake: () => void) => void): Promise<void>;
}

const DEFAULT_MAX_RECORDS = 10_000;

export class JournalConsumer implements LogConsumer {
  readonly group: string;
  readonly #host: ConsumerHost;
  readonly #assignment: readonly TopicPartition[];
  readonly #positions: number[];
  #next = 0;
  #closed = false;
  #wake: (() => void) | null = null;

  constructor(host: ConsumerHost, group: string, assignment: readonly TopicPartition[], reset: ResetPolicy) {
    this.#host = host;
    this.group = group;
    this.#assignment = Object.freeze(assignment.map((tp) => Object.freeze({ topic: tp.topic, partition: tp.partition })));
    this.#positions = this.#assignment.map((tp) => {
      const c = host.committed(group, tp);
      if (c !== null) return Math.min(Math.max(c, host.start(tp)), host.end(tp));
      return reset === 'latest' ? host.end(tp) : host.start(tp);
    });
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment;
  }

  #check(): void {
    if (this.#closed) {
      throw new StockStreamError('SS_LOG_CLOSED', `Consumer of group '${this.group}' is closed; create a new consumer to read again.`);
    }
    this.#host.checkOpen();
  }

  #indexOf(tp: TopicPartition): number {
    const i = this.#assignment.findIndex((a) => a.topic === tp.topic && a.partition === tp.partition);
    if (i < 0) {
      throw new StockStreamError(
        'SS_LOG_TOPIC',
        `Expected a partition assigned to this consumer (${this.#assignment.map((a) => `${a.topic}/${a.partition}`).join(', ')}), got ${tp.topic}/${tp.partition}. Subscribe to the topic first.`,
      );
    }
    return i;
  }

  async poll(options: PollOptions = {}): Promise<LogRecord[]> {
    this.#check();
    const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
    const timeoutMs = options.timeoutMs ?? 0;
    if (!Number.isInteger(maxRecords) || maxRecords < 1) {
      throw new StockStreamError('SS_LOG_OFFSET', `Expected maxRecords to be a positive integer, got ${maxRecords}.`);
    }
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const out = await this.#fetch(maxRecords);
      const left = deadline - Date.now();
      if (out.length > 0 || left <= 0 || this.#closed) return out;
      await this.#host.waitForAppend(left, (wake) => {
        this.#wake = wake;
      });
      this.#wake = null;
      // Closing the consumer or the log ends a waiting poll quietly: that is how shutdown looks.
      if (this.#closed || !this.#host.isOpen()) return [];
    }
  }

  async #fetch(maxRecords: number): Promise<LogRecord[]> {
    const n = this.#assignment.length;
    let out: LogRecord[] = [];
    // Start at a rotating partition so one busy partition cannot starve the others.
    const first = this.#next;
    this.#next = n === 0 ? 0 : (first + 1) % n;
    for (let k = 0; k < n && out.length < maxRecords; k++) {
      const i = (first + k) % n;
      const tp = this.#assignment[i]!;
      const start = this.#host.start(tp);
      if (this.#positions[i]! < start) this.#positions[i] = start;
      const pos = this.#positions[i]!;
      if (pos >= this.#host.end(tp)) continue;
      const recs = await this.#host.read(tp, pos, maxRecords - out.length);
      if (recs.length === 0) continue;
      this.#positions[i] = recs[recs.length - 1]!.offset + 1;
      out = out.length === 0 ? recs : out.concat(recs);
    }
    return out;
  }

  async seek(tp: TopicPartition, position: SeekPosition): Promise<void> {
    this.#check();
    const i = this.#indexOf(tp);
    const start = this.#host.start(tp);
    const end = this.#host.end(tp);
    if (position === 'earliest') this.#positions[i] = start;
    else if (position === 'latest') this.#positions[i] = end;
    else if ('offset' in position) {
      if (!Number.isSafeInteger(position.offset) || position.offset < 0) {
        throw new StockStreamError('SS_LOG_OFFSET', `Expected a non-negative integer offset to seek ${tp.topic}/${tp.partition} to, got ${position.offset}.`);
      }
      this.#positions[i] = Math.min(Math.max(position.offset, start), end);
    } else {
      if (!Number.isFinite(position.timestamp)) {
        throw new StockStreamError('SS_LOG_OFFSET', `Expected a finite epoch-ms timestamp to seek ${tp.topic}/${tp.partition} to, got ${position.timestamp}.`);
      }
      this.#positions[i] = await this.#host.offsetForTimestamp(tp, position.timestamp);
    }
  }

  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    this.#check();
    for (const o of offsets) {
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new StockStreamError('SS_LOG_OFFSET', `Expected a non-negative integer offset to commit for ${o.topic}/${o.partition}, got ${o.offset}.`);
      }
    }
    await this.#host.commit(this.group, offsets);
  }

  async committed(tp: TopicPartition): Promise<number | null> {
    this.#check();
    return this.#host.committed(this.group, tp);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
  }
}
