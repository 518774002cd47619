import { describe, it } from 'vitest';
import { KafkaLog } from '../../src/log/kafka/kafka-log.js';
import { kafkaBrokers, serviceUnavailable } from '../fixtures/services.js';
import { logContract } from './log-contract.js';

/**
 * The log contract on a real Apache Kafka broker (deploy/local/kafka.sh). Topic and group names
 * are unique per test, so the suite shares the broker with anything else.
 */
const brokers = kafkaBrokers();
const missing = await serviceUnavailable('Kafka', brokers);

if (missing !== null) {
  describe('Log contract: Kafka', () => {
    it.skip(missing, () => undefined);
  });
} else {
  logContract('Kafka (idempotent producer, acks=all, no autocommit)', async () => {
    const log = await KafkaLog.open({ brokers, clientId: 'stockstream-test' });
    let current: KafkaLog = log;
    return {
      log,
      cleanup: async () => current.close(),
      reopen: async () => {
        current = await KafkaLog.open({ brokers, clientId: 'stockstream-test' });
        return current;
      },
    };
  });
  // The same contract through a topic prefix: every name the port sees is logical, every name on
  // the cluster prefixed (topics(), records, assignments, commits and seeks all map both ways).
  const topicPrefix = `ns${Date.now().toString(36)}.`;
  logContract(`Kafka with topicPrefix ${topicPrefix}`, async () => {
    const log = await KafkaLog.open({ brokers, clientId: 'stockstream-test', topicPrefix });
    let current: KafkaLog = log;
    return {
      log,
      cleanup: async () => current.close(),
      reopen: async () => {
        current = await KafkaLog.open({ brokers, clientId: 'stockstream-test', topicPrefix });
        return current;
      },
    };
  });
}
