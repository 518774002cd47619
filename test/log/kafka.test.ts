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
}
