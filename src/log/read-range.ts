import type { Log, LogRecord } from './log.js';

/** The part of the log port a reader needs (the topic browser, the rejects view, resume and checkpoint scans); the journal and KafkaLog both have it. */
export type LogReader = Pick<Log, 'topics' | 'read'>;

/**
 * The records of one partition in [from, to), at most `max`: `Log.read` may return fewer than
 * asked (the journal stops where its memory tail starts, Kafka at a fetch's size), so this reads
 * on until the range is covered or the log has nothing more.
 */
export async function readRange(log: LogReader, topic: string, partition: number, from: number, to: number, max: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let at = from;
  while (at < to && out.length < max) {
    const got = await log.read({ topic, partition }, at, Math.min(max - out.length, to - at));
    if (got.length === 0) break;
    for (const r of got) if (r.offset >= at && r.offset < to && out.length < max) out.push(r);
    const next = (got[got.length - 1] as LogRecord).offset + 1;
    // A log that answered only with records before `at` would loop here for ever.
    if (next <= at) break;
    at = next;
  }
  return out;
}
