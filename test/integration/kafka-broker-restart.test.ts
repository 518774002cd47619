import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, trade, type MarketEvent } from '../../src/domain/index.js';
import { KafkaLog } from '../../src/log/kafka/kafka-log.js';
import type { LogConsumer } from '../../src/log/index.js';
import { DedupOperator } from '../../src/processors/dedup/index.js';
import { freePort } from '../fixtures/postgres.js';
import { kafkaBrokers, serviceUnavailable } from '../fixtures/services.js';
import { ROOT } from './helpers.js';

/**
 * Issue 4: restart the broker mid-produce; every acknowledged event is consumed exactly once
 * downstream. A private broker (deploy/local/kafka.sh on free ports in a temp dir, never the
 * shared one) is stopped and started while a producer appends batches of trades and a consumer
 * group member reads them through the dedup operator, as the processors do. An append the log
 * refused is sent again, as sources do, so it may land twice: the ids make that harmless
 * downstream. The idempotent producer must add no duplicate of its own while it retries.
 */
const run = promisify(execFile);
const missing = await serviceUnavailable('Kafka', kafkaBrokers());
const state = mkdtempSync(join(tmpdir(), 'ss-kafka-restart-'));
const BATCHES = 120;
const PER_BATCH = 400;

let env: NodeJS.ProcessEnv = {};
async function kafka(action: 'start' | 'stop'): Promise<void> {
  await run('bash', [join(ROOT, 'deploy', 'local', 'kafka.sh'), action], { env, timeout: 120_000 });
}

afterAll(async () => {
  await kafka('stop').catch(() => undefined);
  rmSync(state, { recursive: true, force: true });
});

describe.skipIf(missing !== null)(`Kafka broker restart mid-produce${missing === null ? '' : ` (${missing})`}`, () => {
  it('every acknowledged event is consumed exactly once downstream', async () => {
    const port = await freePort();
    env = { ...process.env, STOCKSTREAM_SERVICES_DIR: state, STOCKSTREAM_KAFKA_PORT: String(port), STOCKSTREAM_KAFKA_CONTROLLER_PORT: String(await freePort()), STOCKSTREAM_KAFKA_HEAP: '256m' };
    await kafka('start');
    const brokers = [`127.0.0.1:${port}`];
    const log = await KafkaLog.open({ brokers, clientId: 'restart-test' });
    await log.ensureTopic('ticks', { partitions: 3 });

    const acked = new Set<string>();
    const resent = new Set<string>();
    let refused = 0;
    const producing = (async () => {
      for (let b = 0; b < BATCHES; b++) {
        const events: MarketEvent[] = Array.from({ length: PER_BATCH }, (_, i) => trade({ symbol: `S${i % 17}`, ts: 1_772_000_000_000 + b * PER_BATCH + i, source: 't', id: `b${b}-${i}`, price: 10 + i / 100, size: 100 }));
        for (;;) {
          try {
            await log.append('ticks', events.map((e) => ({ key: e.symbol, value: encodeEvent(e), timestamp: e.ts })));
            for (const e of events) acked.add(e.id);
            break;
          } catch {
            // Refused while the broker is away: a source keeps the batch and sends it again.
            refused++;
            for (const e of events) resent.add(e.id);
            await new Promise((r) => setTimeout(r, 300));
          }
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    const downstream = new Map<string, number>();
    const raw = new Map<string, number>();
    const dedup = new DedupOperator({ window: BATCHES * PER_BATCH });
    // The member lives through the restart: poll waits while the broker is away, then goes on.
    const consumer: LogConsumer = await log.consumer({ group: 'restart-test', topics: ['ticks'] });
    let stop = false;
    const consuming = (async () => {
      while (!stop || raw.size < acked.size) {
        const records = await consumer.poll({ maxRecords: 5_000, timeoutMs: 200 });
        if (records.length === 0) continue;
        const events = records.map((r) => decodeEvent(r.value));
        for (const e of events) raw.set(e.id, (raw.get(e.id) ?? 0) + 1);
        const fresh: MarketEvent[] = [];
        dedup.processBatch(events, fresh);
        for (const e of fresh) downstream.set(e.id, (downstream.get(e.id) ?? 0) + 1);
        const next = new Map<number, number>();
        for (const r of records) next.set(r.partition, r.offset + 1);
        await consumer.commit([...next].map(([partition, offset]) => ({ topic: 'ticks', partition, offset }))).catch(() => undefined);
      }
    })();

    // Restart once a third of the batches are acknowledged, while the producer keeps going.
    while (acked.size < (BATCHES * PER_BATCH) / 3) await new Promise((r) => setTimeout(r, 20));
    await kafka('stop');
    await new Promise((r) => setTimeout(r, 1_000));
    await kafka('start');
    await producing;
    stop = true;
    const deadline = Date.now() + 60_000;
    while (raw.size < acked.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.race([consuming, new Promise((r) => setTimeout(r, 5_000))]);
    await consumer.close().catch(() => undefined);
    await log.close();

    expect(acked.size, 'every batch was acknowledged in the end').toBe(BATCHES * PER_BATCH);
    expect(refused, 'the restart made some appends fail (else the test proved nothing)').toBeGreaterThan(0);
    const missingIds = [...acked].filter((id) => downstream.get(id) !== 1);
    expect(missingIds.slice(0, 5), `every acknowledged event is consumed exactly once downstream (${missingIds.length} are not)`).toEqual([]);
    const doubledByProducer = [...raw].filter(([id, n]) => n > 1 && !resent.has(id));
    expect(doubledByProducer.slice(0, 5), 'no event appended once is in the log twice (idempotent producer retries)').toEqual([]);
  }, 240_000);
});
