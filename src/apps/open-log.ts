import { join, resolve } from 'node:path';
import { Journal, type Log } from '../log/index.js';
import { KafkaLog } from '../log/kafka/kafka-log.js';
import type { Config } from '../shared/config/index.js';
import type { Logger } from '../shared/logger.js';

/** The log `log.kind` names (ARCHITECTURE.md §2.1: apps/ is where configuration picks implementations). */
export async function openLog(config: Readonly<Config>, logger: Logger): Promise<Log> {
  const c = config.log;
  if (c.kind === 'kafka') {
    return KafkaLog.open({
      brokers: c.kafka.brokers,
      clientId: c.kafka.clientId,
      replicationFactor: c.kafka.replicationFactor,
      sessionTimeoutMs: c.kafka.sessionTimeoutMs,
      heartbeatIntervalMs: c.kafka.heartbeatIntervalMs,
      topicPrefix: c.kafka.topicPrefix,
    });
  }
  return Journal.open({
    dir: join(resolve(config.dataDir), 'journal'),
    fsync: c.fsync,
    groupCommitMs: c.groupCommitMs,
    segmentBytes: c.segmentBytes,
    onWarning: (msg: string) => logger.warn(msg),
  });
}

/** A one-line description of the log for health and the start banner. */
export function describeLog(config: Readonly<Config>): string {
  const k = config.log.kafka;
  return config.log.kind === 'kafka' ? `Kafka at ${k.brokers.join(',')}${k.topicPrefix === '' ? '' : `, topics ${k.topicPrefix}*`}` : `embedded journal (fsync ${config.log.fsync})`;
}
