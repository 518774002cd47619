import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeEvent } from '../../domain/index.js';
import type { Log, TopicInfo } from '../../log/log.js';
import { readRange, type LogReader } from '../../log/read-range.js';
import { DLQ_TOPIC, TICKS_TOPIC, rawForDlq } from './ingest-writer.js';

interface ResumeFile {
  version: 1;
  /** Identity of the input (path, size, mtime): a different file starts over. */
  input: string;
  /** Raw records of the input that are durable in the log. */
  consumed: number;
  /** End offsets of `ticks` when `consumed` was recorded. */
  endOffsets: Record<string, number>;
  /** End offsets of `ticks.dlq` then (absent in files written before dead letters were matched). */
  dlqEndOffsets?: Record<string, number>;
}

/**
 * Exactly-once ingest of a replayed file across crashes. After durable appends it records how
 * many raw records of the input are in the log together with the log's end offsets. On restart
 * the replay skips those records, and for the batch that was in flight at the crash (possibly
 * durable in some partitions and not others) it drops every event whose symbol and id already
 * sit in `ticks` after the recorded end offsets, and every refused record whose dead letter sits
 * in `ticks.dlq` after its recorded end offsets. Like Kafka Connect's source offsets, plus an
 * identity check for the in-flight window.
 */
export class ReplayResume {
  readonly #path: string;
  readonly #log: Log;
  readonly #input: string;
  readonly #saveEveryMs: number;
  #consumed: number;
  #skip: number;
  readonly #resumedAt: number;
  /**
   * Events durable after the saved offsets, by symbol and id, with how many times each is there
   * (an input may repeat an id on purpose). The symbol is part of the key because an id need not
   * be unique across symbols, and the in-flight batch may be durable in one symbol's partition
   * but not in another's: keyed by id alone, a durable event would cancel an earlier, lost event
   * of another symbol with the same id. Per symbol the durable occurrences are the first ones in
   * input order (one partition, appended in order), so cancelling the first occurrences is exact.
   * Dead letters durable after their topic's saved offsets are in the same map, keyed by the raw
   * record they carry (see deadKey).
   */
  readonly #inFlight: Map<string, number>;
  #lastSave = 0;

  private constructor(path: string, log: Log, input: string, consumed: number, inFlight: Map<string, number>, saveEveryMs: number) {
    this.#path = path;
    this.#log = log;
    this.#input = input;
    this.#consumed = consumed;
    this.#skip = consumed;
    this.#resumedAt = consumed;
    this.#inFlight = inFlight;
    this.#saveEveryMs = saveEveryMs;
  }

  static async open(options: { path: string; log: Log; input: string; saveEveryMs?: number }): Promise<ReplayResume> {
    let saved: ResumeFile | null = null;
    try {
      saved = JSON.parse(await readFile(options.path, 'utf8')) as ResumeFile;
      if (saved.version !== 1 || saved.input !== options.input) saved = null;
    } catch {
      saved = null;
    }
    const durable = new Map<string, number>();
    if (saved !== null) {
      const topics = await options.log.topics();
      await scan(options.log, topics, TICKS_TOPIC, saved.endOffsets, (value) => {
        const e = decodeEvent(value);
        return eventKey(e.symbol, e.id);
      }, durable);
      // A rejected record of the in-flight batch may be in the dead-letter topic already.
      if (saved.dlqEndOffsets !== undefined) {
        await scan(options.log, topics, DLQ_TOPIC, saved.dlqEndOffsets, (value) => deadKey((JSON.parse(Buffer.from(value).toString('utf8')) as { raw?: unknown }).raw), durable);
      }
    }
    return new ReplayResume(options.path, options.log, options.input, saved?.consumed ?? 0, durable, options.saveEveryMs ?? 500);
  }

  /** Records of the input already durable when this run started. */
  get resumedAt(): number {
    return this.#resumedAt;
  }

  /** Drops what a previous run already made durable; returns the records still to ingest. */
  filter(batch: readonly unknown[]): readonly unknown[] {
    let from = 0;
    if (this.#skip > 0) {
      from = Math.min(this.#skip, batch.length);
      this.#skip -= from;
    }
    const rest = from === 0 ? batch : batch.slice(from);
    if (this.#inFlight.size === 0) return rest;
    // Drop each durable occurrence once: a later copy of the same event in the input is new input.
    return rest.filter((raw) => {
      // A durable event, else perhaps a durable dead letter (a record ingest refused).
      const event = keyOf(raw);
      const key = event !== null && this.#inFlight.has(event) ? event : deadKey(rawForDlq(raw));
      const left = this.#inFlight.get(key);
      if (left === undefined) return true;
      if (left === 1) this.#inFlight.delete(key);
      else this.#inFlight.set(key, left - 1);
      return false;
    });
  }

  /** Call after a batch of `count` raw records (as handed to `filter`) is durable. */
  async advance(count: number, now = Date.now(), force = false): Promise<void> {
    this.#consumed += count;
    if (!force && now - this.#lastSave < this.#saveEveryMs) return;
    this.#lastSave = now;
    const topics = await this.#log.topics();
    const body: ResumeFile = { version: 1, input: this.#input, consumed: this.#consumed, endOffsets: ends(topics, TICKS_TOPIC), dlqEndOffsets: ends(topics, DLQ_TOPIC) };
    await mkdir(dirname(this.#path), { recursive: true });
    const tmp = `${this.#path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(body));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.#path);
  }
}

function eventKey(symbol: string, id: string): string {
  return `${symbol}\u0000${id}`;
}

/**
 * The key of a dead letter by the raw record it carries. It starts with a character an event key
 * cannot (a symbol is upper-case letters, digits and . - : / ^ = _), so the two never meet.
 */
function deadKey(raw: unknown): string {
  return `\u0001${typeof raw === 'string' ? raw : JSON.stringify(raw)}`;
}

function ends(topics: readonly TopicInfo[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of topics.find((t) => t.name === name)?.partitions ?? []) out[String(p.partition)] = p.endOffset;
  return out;
}

/** Counts the key of every record of `topic` after `from` (partition → offset) into `into`. */
async function scan(log: LogReader, topics: readonly TopicInfo[], topic: string, from: Record<string, number>, keyOf: (value: Uint8Array) => string, into: Map<string, number>): Promise<void> {
  for (const p of topics.find((t) => t.name === topic)?.partitions ?? []) {
    for (const r of await readRange(log, topic, p.partition, from[String(p.partition)] ?? p.startOffset, p.endOffset, Number.POSITIVE_INFINITY)) {
      const key = keyOf(r.value);
      into.set(key, (into.get(key) ?? 0) + 1);
    }
  }
}

/**
 * The key of a raw record as it would be logged: ingest keeps a valid symbol and id as given
 * (it refuses, never rewrites, a malformed symbol), so the raw fields match the logged event's.
 */
function keyOf(raw: unknown): string | null {
  let o: unknown = raw;
  if (typeof raw === 'string') {
    try {
      o = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (typeof o !== 'object' || o === null) return null;
  const { symbol, id } = o as { symbol?: unknown; id?: unknown };
  return typeof symbol === 'string' && typeof id === 'string' ? eventKey(symbol, id) : null;
}
