export type {
  AppendAck,
  CommitOffset,
  ConsumerOptions,
  Log,
  LogConsumer,
  LogRecord,
  PartitionInfo,
  PollOptions,
  ProducerRecord,
  RecordCodec,
  ResetPolicy,
  SeekPosition,
  TopicConfig,
  TopicInfo,
  TopicPartition,
} from './log.js';
export { murmur2, partitionForKey, KeyPartitioner } from './partitioner.js';
export { Journal, type JournalOptions, type JournalStats, type FsyncPolicy } from './journal/journal.js';
export { readRange, type LogReader } from './read-range.js';
export { recordsOf } from './records-of.js';
