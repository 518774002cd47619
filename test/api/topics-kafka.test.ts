import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi, type MessagesPage, type RejectRow, type TopicRow } from '../../src/api/index.js';
import { KafkaLog } from '../../src/log/kafka/kafka-log.js';
import { DLQ_TOPIC, IngestWriter, TICKS_TOPIC } from '../../src/sources/ingest/index.js';
import { kafkaBrokers, serviceUnavailable } from '../fixtures/services.js';
import { deps, storeWithData } from './fixtures.js';

/**
 * The topic browser and the rejects view on a real Kafka broker (deploy/local/kafka.sh): the same
 * routes over the same log port as the journal. A prefix unique to this run keeps its topics apart.
 */
const brokers = kafkaBrokers();
const missing = await serviceUnavailable('Kafka', brokers);

if (missing !== null) {
  describe('topic browser on Kafka', () => {
    it.skip(missing, () => undefined);
  });
} else {
  describe('topic browser and rejects on Kafka', () => {
    const topicPrefix = `api${Date.now().toString(36)}.`;
    const NOW = Date.now();
    let log: KafkaLog;
    let app: FastifyInstance;

    beforeAll(async () => {
      log = await KafkaLog.open({ brokers, clientId: 'stockstream-api-test', topicPrefix });
      await log.ensureTopic(TICKS_TOPIC, { partitions: 2 });
      await log.ensureTopic(DLQ_TOPIC, { partitions: 1 });
      const writer = new IngestWriter({ log, source: 'kafka-test', now: () => NOW, policy: (now) => ({ now, maxFutureMs: 60_000, maxPastMs: 86_400_000, knownSymbols: null }) });
      const events = Array.from({ length: 30 }, (_, i) => ({ kind: 'trade', symbol: 'AAPL', ts: NOW - 1000 + i, source: 'kafka-test', id: `k${i}`, price: 190, size: 100 }));
      await writer.write([...events, { ...events[0], id: 'bad', price: 0 }]);
      app = buildApi(deps(storeWithData(), { log }));
    });
    afterAll(async () => {
      await app?.close();
      await log?.close();
    });

    it('lists the topics without the prefix, with offsets from the broker', async () => {
      const rows = (await app.inject({ url: '/api/topics' })).json() as TopicRow[];
      expect(rows.map((t) => [t.name, t.messages]), 'logical names and retained counts').toEqual([
        [TICKS_TOPIC, 30],
        [DLQ_TOPIC, 1],
      ]);
    });

    it('pages through a partition: the tail, from an offset, and JSON dead letters', async () => {
      const p = ((await app.inject({ url: '/api/topics' })).json() as TopicRow[])[0]!.partitions.find((x) => x.endOffset > 0)!;
      const tail = (await app.inject({ url: `/api/topics/ticks/messages?partition=${p.partition}&limit=3` })).json() as MessagesPage;
      expect(tail.messages.map((m) => m.offset), 'the newest three').toEqual([p.endOffset - 3, p.endOffset - 2, p.endOffset - 1]);
      expect(tail.messages.every((m) => m.key === 'AAPL' && m.encoding === 'event' && (m.value as { symbol?: string }).symbol === 'AAPL'), 'ticks keyed by symbol, their binary codec decoded').toBe(true);
      const from = (await app.inject({ url: `/api/topics/ticks/messages?partition=${p.partition}&offset=1&limit=2` })).json() as MessagesPage;
      expect(from.messages.map((m) => m.offset), 'two from offset 1').toEqual([1, 2]);
      const rejects = (await app.inject({ url: '/api/rejects' })).json() as RejectRow[];
      expect(rejects.map((r) => ('rule' in r ? r.rule : null)), 'the one reject, read back from Kafka').toEqual(['non_positive']);
      const nf = await app.inject({ url: '/api/topics/nope/messages' });
      expect([nf.statusCode, (nf.json() as { error: { message: string } }).error.message], '404 naming the topics there are').toEqual([404, expect.stringContaining(`the topics are ${TICKS_TOPIC}, ${DLQ_TOPIC}`)]);
    });
  });
}
