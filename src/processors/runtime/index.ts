export { type Operator, BaseOperator } from './operator.js';
export { CheckpointStore, type Checkpoint } from './checkpoint-store.js';
export { WatermarkTracker } from './watermark.js';
export { PartitionRunner, type PartitionTask, type PartitionRunnerOptions, type PartitionProgress } from './partition-runner.js';
