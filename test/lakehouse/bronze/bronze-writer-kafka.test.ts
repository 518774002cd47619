import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BronzeWriter, type LakeFile } from '../../../src/lakehouse/index.js';
import { KafkaLog } from '../../../src/log/kafka/kafka-log.js';
import { DLQ_TOPIC, IngestWriter, TICKS_TOPIC } from '../../../src/sources/ingest/index.js';
import { kafkaBrokers, serviceUnavailable } from '../../fixtures/services.js';

/**
 * The bronze writer on Kafka while a source keeps writing: a requested flush (the lake's
 * incremental job asks for one each run) lands what the log held when it was asked and returns.
 * It used to read until a poll came back empty, which a prefetching Kafka consumer under a live
 * feed never does: the lake role stopped landing anything.
 */
const brokers = kafkaBrokers();
const missing = await serviceUnavailable('Kafka', brokers);
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(missing !== null)(`BronzeWriter on Kafka${missing === null ? '' : ` (${missing})`}`, () => {
  it('a requested flush and a stop return under a steady feed, landing everything written before them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-bronze-kafka-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = await KafkaLog.open({ brokers, clientId: 'bronze-kafka-test', topicPrefix: `bk${Date.now().toString(36)}.` });
    cleanups.push(() => log.close());
    await log.ensureTopic(TICKS_TOPIC, { partitions: 3 });
    await log.ensureTopic(DLQ_TOPIC, { partitions: 1 });
    const t0 = Date.parse('2025-03-10T14:00:00Z');
    const ingest = new IngestWriter({ log, source: 'test', now: () => t0, policy: (now) => ({ now, maxFutureMs: 86_400_000, maxPastMs: Number.POSITIVE_INFINITY, knownSymbols: null }) });
    let n = 0;
    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        await ingest.write(Array.from({ length: 200 }, () => ({ kind: 'trade', symbol: `S${n % 9}`, ts: t0 + n, source: 'test', id: `e${n++}`, price: 10, size: 1 })));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const files: LakeFile[] = [];
    const writer = await BronzeWriter.open({ log, lakeDir: join(dir, 'lake'), flushIntervalMs: 60_000, onCommit: async (f) => void files.push(...f) });
    writer.start();
    await new Promise((r) => setTimeout(r, 1_500));
    const before = n;
    const asked = Date.now();
    await Promise.race([writer.requestFlush(), new Promise((_, reject) => setTimeout(() => reject(new Error('requestFlush did not return within 20 s under a steady feed')), 20_000))]);
    const tookMs = Date.now() - asked;
    // Stopping (a lake instance shutting down while the ingest instances go on) must end too.
    await Promise.race([writer.stop(), new Promise((_, reject) => setTimeout(() => reject(new Error('stop did not return within 20 s under a steady feed')), 20_000))]);
    feeding = false;
    await feed;
    const landed = files.filter((f) => f.topic === TICKS_TOPIC).reduce((s, f) => s + f.rows, 0);
    expect(tookMs, 'the flush returned promptly').toBeLessThan(20_000);
    expect(landed, `every tick written before the request (${before}) is landed by it`).toBeGreaterThanOrEqual(before);
  }, 60_000);
});
