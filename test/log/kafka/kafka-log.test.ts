import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaLog } from '../../../src/log/kafka/kafka-log.js';
import type { LogConsumer, LogRecord } from '../../../src/log/log.js';
import { kafkaBrokers, serviceUnavailable } from '../../fixtures/services.js';

/**
 * The Kafka consumer's own fetch loop through a rebalance (the contract suite covers one member
 * at a time): a second member takes half the partitions from the group's committed offsets, and
 * the first keeps its other half where it stands, handing out nothing twice.
 */
const brokers = kafkaBrokers();
const missing = await serviceUnavailable('Kafka', brokers);
const PARTITIONS = 4;
const PER_PARTITION = 100;
const COMMITTED = 60;
const MORE = 10;

async function pollUntil(c: LogConsumer, into: LogRecord[], done: () => boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done() && Date.now() < deadline; ) into.push(...(await c.poll({ maxRecords: 37, timeoutMs: 200 })));
}

describe.skipIf(missing !== null)(`Kafka consumer through a rebalance${missing === null ? '' : ` (${missing})`}`, () => {
  let log: KafkaLog;
  beforeAll(async () => {
    log = await KafkaLog.open({ brokers, clientId: 'rebalance-test', topicPrefix: `rb${Date.now().toString(36)}.` });
  });
  afterAll(async () => {
    await log.close();
  });

  it('a new member starts at the committed offsets; the old one keeps its partitions where it stands', async () => {
    await log.ensureTopic('t', { partitions: PARTITIONS });
    const append = (from: number, n: number): Promise<unknown> =>
      log.append('t', Array.from({ length: PARTITIONS * n }, (_, i) => ({ key: 'k', partition: i % PARTITIONS, value: Buffer.from(`p${i % PARTITIONS}-${from + Math.floor(i / PARTITIONS)}`) })));
    await append(0, PER_PARTITION);

    const c1 = await log.consumer({ group: 'g', topics: ['t'] });
    const first: LogRecord[] = [];
    await pollUntil(c1, first, () => first.length >= PARTITIONS * PER_PARTITION, 20_000);
    expect(first.length, 'the lone member reads every record once').toBe(PARTITIONS * PER_PARTITION);
    // Only the first COMMITTED of each partition are durable downstream.
    await c1.commit(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 't', partition, offset: COMMITTED })));

    const c2 = await log.consumer({ group: 'g', topics: ['t'] });
    try {
      // c1 learns of the rebalance on its next heartbeat; its assignment then shrinks.
      for (const deadline = Date.now() + 20_000; c1.assignment().length === PARTITIONS && Date.now() < deadline; ) await c1.poll({ timeoutMs: 100 });
      const mine1 = c1.assignment().map((a) => a.partition);
      const mine2 = c2.assignment().map((a) => a.partition);
      expect([...mine1, ...mine2].sort(), 'the two members split the partitions').toEqual([0, 1, 2, 3]);
      expect(mine1.length > 0 && mine2.length > 0, 'each member owns some').toBe(true);

      await append(PER_PARTITION, MORE);
      const got1: LogRecord[] = [];
      const got2: LogRecord[] = [];
      const want2 = mine2.length * (PER_PARTITION - COMMITTED + MORE);
      await Promise.all([pollUntil(c1, got1, () => got1.length >= mine1.length * MORE, 20_000), pollUntil(c2, got2, () => got2.length >= want2, 20_000)]);
      // A little longer: anything handed out twice would show up now.
      got1.push(...(await c1.poll({ timeoutMs: 300 })));
      got2.push(...(await c2.poll({ timeoutMs: 300 })));

      const offsets = (rs: LogRecord[], p: number): number[] => rs.filter((r) => r.partition === p).map((r) => r.offset);
      const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
      for (const p of mine2) expect(offsets(got2, p), `the new member reads partition ${p} from the committed offset, each record once`).toEqual(range(COMMITTED, PER_PARTITION + MORE));
      for (const p of mine1) expect(offsets(got1, p), `the old member hands out only what is new on partition ${p}, not again from the commit`).toEqual(range(PER_PARTITION, PER_PARTITION + MORE));
      expect(
        got2.every((r) => Buffer.from(r.value).toString() === `p${r.partition}-${r.offset}`),
        'every record carries its own value',
      ).toBe(true);
    } finally {
      await c2.close();
      await c1.close();
    }
  }, 90_000);
});
