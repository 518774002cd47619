/**
 * Scale out (issue 4): the same ~100-byte JSON ticks over Kafka, two ways in one run.
 * Peer: raw @platformatic/kafka — an idempotent acks=all producer sends the messages (keyed by
 * symbol, batches of `batchSize`, one send at a time) while a consumer group member reads them back;
 * the figure is messages over the time from the first send to the last message consumed.
 * StockStream: `up --role all` on `log.kind: kafka` in this process — ingest (parse, validate,
 * encode, durable append) and the tick pipelines (dedup, candles at 6 intervals, KPIs) reading
 * the partitions back through the consumer group; the figure is ticks over the time from the
 * first write to the last tick processed. One process, one broker on this machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { Platform } from '../src/apps/platform.js';
import { loadConfig } from '../src/shared/config/index.js';
import { createLogger } from '../src/shared/logger.js';
import { FEED_RATE } from './e2e.js';
import { ingestAll, tickMessages } from './fixtures.js';

export interface KafkaBenchResult {
  ticks: number;
  batchSize: number;
  partitions: number;
  brokers: string;
  rawPerSec: number;
  oursPerSec: number;
  ratio: number;
  /** A process instance alone: ticks already on Kafka, read and processed (candles, KPIs, live store). */
  processPerSec: number;
}

function brokersFromEnv(): string[] {
  return (process.env['STOCKSTREAM_KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function reachable(hostPort: string): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function symbolOf(message: string): string {
  // The fixture's messages start {"kind":"trade","symbol":"S0001",...
  const at = message.indexOf('"symbol":"') + 10;
  return message.slice(at, message.indexOf('"', at));
}

async function rawRate(brokers: string[], messages: readonly string[], batchSize: number, partitions: number): Promise<number> {
  const topic = `bench-raw-${Date.now().toString(36)}`;
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: brokers });
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  await admin.close();
  const producer = new Producer({ clientId: 'bench-producer', bootstrapBrokers: brokers, idempotent: true, acks: ProduceAcks.ALL, serializers: stringSerializers });
  const consumer = new Consumer({ clientId: 'bench-consumer', groupId: `${topic}-group`, bootstrapBrokers: brokers, maxWaitTime: 100 });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 100 });
    let seen = 0;
    const consumed = new Promise<void>((resolve, reject) => {
      stream.on('data', () => {
        if (++seen === messages.length) resolve();
      });
      stream.on('error', reject);
    });
    const t0 = performance.now();
    // One send at a time: @platformatic/kafka 1.35's idempotent producer gives concurrent sends the
    // same sequence numbers, and the broker acknowledges the later ones as duplicates without
    // writing them (4 concurrent sends of 5,000 acked, 5,000 stored). KafkaLog serializes too.
    for (let i = 0; i < messages.length; i += batchSize) {
      await producer.send({ messages: messages.slice(i, i + batchSize).map((value) => ({ topic, key: symbolOf(value), value })) });
    }
    await withinStall(consumed, 'the peer consumer', () => ({ seen, of: messages.length }));
    const seconds = (performance.now() - t0) / 1000;
    await stream.close();
    return messages.length / seconds;
  } finally {
    await Promise.allSettled([producer.close(), consumer.close(true)]);
  }
}

/** A measured pass that has not finished after this long is stuck, not slow (passes take ~10 s). */
const STALL_MS = 180_000;

class Stalled extends Error {}

/**
 * `work`, or a Stalled error naming `what` and `state()` once STALL_MS passes: a consumer group that
 * never gets its partitions (seen once in a full run, after ~20 earlier bench topics on the broker)
 * must end the Kafka figures with a reason, not hang the whole bench.
 */
async function withinStall<T>(work: Promise<T>, what: string, state: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Stalled(`${what} made no end in ${STALL_MS / 1000} s (${JSON.stringify(state())})`)), STALL_MS);
  });
  try {
    return await Promise.race([work, stall]);
  } finally {
    clearTimeout(timer);
  }
}

function kafkaConfig(dir: string, brokers: string[], partitions: number, topicPrefix: string): ReturnType<typeof loadConfig> {
  return loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      'log.kind': 'kafka',
      'log.kafka.brokers': brokers,
      'log.kafka.topicPrefix': topicPrefix,
      'log.partitions': partitions,
      'ingest.unknownSymbols': 'accept',
      'processing.checkpointIntervalMs': 60_000,
      'lake.enabled': false,
    },
  });
}

/** Ingest everything with processing stopped, then time a fresh instance processing it all. */
async function processRate(brokers: string[], messages: readonly string[], batchSize: number, partitions: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-kafka-'));
  const prefix = `benchp${Date.now().toString(36)}.`;
  try {
    const ingest = await Platform.start({ config: kafkaConfig(join(dir, 'i'), brokers, partitions, prefix), logger: createLogger('silent'), serve: false, acceptHistory: true });
    let ends: Map<number, number>;
    try {
      await ingest.runner.stop();
      for (let i = 0; i < messages.length; i += batchSize) await ingest.ingest.write(messages.slice(i, i + batchSize));
      ends = await ingest.ticksEnd();
    } finally {
      await ingest.close();
    }
    const processor = await Platform.start({ config: kafkaConfig(join(dir, 'p'), brokers, partitions, prefix), logger: createLogger('silent'), serve: false, acceptHistory: true });
    try {
      const t0 = performance.now();
      await withinStall(processor.runner.waitFor(ends, 1), 'a process instance reading the ticks', () => ({ at: processor.runner.progress(), ends: [...ends] }));
      return messages.length / ((performance.now() - t0) / 1000);
    } finally {
      await processor.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function oursRate(brokers: string[], messages: readonly string[], batchSize: number, partitions: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ss-bench-kafka-'));
  try {
    const config = kafkaConfig(dir, brokers, partitions, `bench${Date.now().toString(36)}.`);
    const platform = await Platform.start({ config, logger: createLogger('silent'), serve: false, acceptHistory: true });
    try {
      const t0 = performance.now();
      await ingestAll(platform.ingest, messages, batchSize);
      const ends = await platform.ticksEnd();
      await withinStall(platform.runner.waitFor(ends, 1), 'ingest → process in one process', () => ({ at: platform.runner.progress(), ends: [...ends] }));
      const seconds = (performance.now() - t0) / 1000;
      const s = platform.ingest.stats();
      if (s.accepted !== messages.length) throw new Error(`bench: expected ${messages.length} accepted, got ${s.accepted}`);
      return messages.length / seconds;
    } finally {
      await platform.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** null when no broker answers (the reason is printed instead of figures). */
export async function benchKafka(options: { ticks?: number; batchSize?: number; partitions?: number } = {}): Promise<KafkaBenchResult | { skipped: string }> {
  const brokers = brokersFromEnv();
  if (!(await reachable(brokers[0] as string))) return { skipped: `no Kafka broker at ${brokers.join(',')}: start one with deploy/local/kafka.sh start (and source deploy/local/env.sh)` };
  const ticks = options.ticks ?? 1_000_000;
  const batchSize = options.batchSize ?? 5_000;
  const partitions = options.partitions ?? 4;
  const messages = tickMessages(ticks, { symbols: 1_000, stepMs: 1_000 / FEED_RATE });
  let rawPerSec: number;
  let oursPerSec: number;
  let processPerSec: number;
  try {
    // A warm-up of each path, then the measured runs, alternated so drift on the machine hits both.
    await rawRate(brokers, messages.slice(0, 100_000), batchSize, partitions);
    await oursRate(brokers, messages.slice(0, 100_000), batchSize, partitions);
    rawPerSec = await rawRate(brokers, messages, batchSize, partitions);
    oursPerSec = await oursRate(brokers, messages, batchSize, partitions);
    processPerSec = await processRate(brokers, messages, batchSize, partitions);
  } catch (err) {
    if (err instanceof Stalled) return { skipped: `stalled: ${err.message}` };
    throw err;
  }
  return { ticks, batchSize, partitions, brokers: brokers.join(','), rawPerSec, oursPerSec, ratio: oursPerSec / rawPerSec, processPerSec };
}
