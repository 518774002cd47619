export { type Operator, BaseOperator } from './operator.js';
export { FileCheckpointStore, decodeCheckpoint, encodeCheckpoint, type Checkpoint, type CheckpointStore } from './checkpoint-store.js';
export { LogCheckpointStore, type LogCheckpointStoreOptions } from './log-checkpoint-store.js';
export { WatermarkTracker } from './watermark.js';
export { PartitionRunner, type PartitionTask, type PartitionRunnerOptions, type PartitionProgress } from './partition-runner.js';
