import { randomBytes } from 'node:crypto';
import type { Log, LogRecord, ProducerRecord } from '../../log/log.js';
import { readRange } from '../../log/read-range.js';
import { encodeCheckpoint, restorable, type Checkpoint, type CheckpointStore } from './checkpoint-store.js';

export interface LogCheckpointStoreOptions {
  log: Log;
  /** Partitions of the checkpoint topics: the input topic's count (partition p's checkpoints live in partition p). */
  partitions: number;
  /** Keep checkpoints this long (ms); the runner rewrites each one well within it. Default 1 hour. */
  retentionMs?: number;
  /** Bytes per record; a checkpoint larger than this is split. Default 256 KiB (under Kafka's 1 MiB batch limit). */
  chunkBytes?: number;
}

/*
 * Wire format: topic `checkpoints.<name>`, one partition per input partition. A checkpoint is the
 * bytes of encodeCheckpoint (magic, JSON, typed arrays, CRC-32C) cut into records of at most
 * chunkBytes, appended in one call:
 *
 *   key      "<name>/p<partition>"
 *   value    chunk i of the encoded checkpoint
 *   headers  ckpt: id of this checkpoint (hex), part: i, parts: n
 *
 * The chunks of one checkpoint may interleave with another writer's (a partition's previous owner
 * finishing a save during a rebalance), so the reader groups them by id. The CRC of the whole
 * encoding refuses a checkpoint assembled wrongly.
 */

/**
 * Checkpoints kept on the log itself (the Kafka Streams changelog idea), so a partition's new
 * owner on another machine resumes from the state its previous owner saved. Loading reads the
 * partition backwards from its end to the newest checkpoint whose every chunk is present.
 */
export class LogCheckpointStore implements CheckpointStore {
  readonly #o: Required<LogCheckpointStoreOptions>;
  readonly #ensured = new Set<string>();

  constructor(options: LogCheckpointStoreOptions) {
    this.#o = { retentionMs: 3_600_000, chunkBytes: 256 * 1024, ...options };
  }

  static topicOf(name: string): string {
    return `checkpoints.${name}`;
  }

  async #ensure(name: string): Promise<string> {
    const topic = LogCheckpointStore.topicOf(name);
    if (!this.#ensured.has(topic)) {
      await this.#o.log.ensureTopic(topic, { partitions: this.#o.partitions, retentionMs: this.#o.retentionMs });
      this.#ensured.add(topic);
    }
    return topic;
  }

  async save<State>(name: string, checkpoint: Checkpoint<State>): Promise<void> {
    const encoding = encodeCheckpoint(checkpoint);
    const topic = await this.#ensure(name);
    const bytes = await encoding;
    const id = randomBytes(8).toString('hex');
    const size = this.#o.chunkBytes;
    const parts = Math.max(1, Math.ceil(bytes.length / size));
    const records: ProducerRecord[] = [];
    for (let i = 0; i < parts; i++) {
      records.push({
        key: `${name}/p${checkpoint.partition}`,
        partition: checkpoint.partition,
        value: bytes.subarray(i * size, Math.min(bytes.length, (i + 1) * size)),
        timestamp: checkpoint.writtenAt,
        headers: { ckpt: id, part: String(i), parts: String(parts) },
      });
    }
    await this.#o.log.append(topic, records);
  }

  async load<State>(name: string, partition: number): Promise<Checkpoint<State> | null> {
    const topic = await this.#ensure(name);
    const info = (await this.#o.log.topics()).find((t) => t.name === topic)?.partitions.find((p) => p.partition === partition);
    if (info === undefined || info.endOffset <= info.startOffset) return null;
    const key = `${name}/p${partition}`;
    // Chunks seen so far by checkpoint id, walking back from the end a window at a time.
    const seen = new Map<string, { found: number; chunks: (Uint8Array | undefined)[] }>();
    const window = 64;
    let end = info.endOffset;
    while (end > info.startOffset) {
      const from = Math.max(info.startOffset, end - window);
      const records = await readRange(this.#o.log, topic, partition, from, end, Number.POSITIVE_INFINITY);
      for (let i = records.length - 1; i >= 0; i--) {
        const r = records[i] as LogRecord;
        if (r.key !== key) continue;
        const id = r.headers['ckpt'];
        const part = Number(r.headers['part']);
        const parts = Number(r.headers['parts']);
        if (id === undefined || !Number.isInteger(part) || !Number.isInteger(parts) || part < 0 || part >= parts) continue;
        let entry = seen.get(id);
        if (entry === undefined) seen.set(id, (entry = { found: 0, chunks: Array.from({ length: parts }, () => undefined) }));
        if (entry.chunks.length !== parts || entry.chunks[part] !== undefined) continue;
        entry.chunks[part] = r.value;
        if (++entry.found === parts) {
          return restorable<State>(Buffer.concat(entry.chunks as Uint8Array[]), partition, `checkpoint of partition ${partition} in topic ${topic}`, 'delete the topic', { topic, partition });
        }
      }
      end = from;
    }
    return null;
  }
}
