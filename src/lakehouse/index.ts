export { BronzeWriter, BRONZE_START_AT_FILE, writeBronzeStartAt, type BronzeWriterOptions, type BronzeStats, type BronzeStartAt } from './bronze/bronze-writer.js';
export { BRONZE_TABLES, TICKS_TABLE, REJECTS_TABLE, type BronzeTable, type BronzeColumn, type BronzeColumnType } from './bronze/bronze-tables.js';
export { LakeDatabase, LAKE_SCHEMAS, type LakeDatabaseOptions, type LakeFile, type LakeFilesChange } from './catalog/lake-database.js';
export { SqlQueryService, DEFAULT_SQL_LIMITS, type SqlLimits, type SqlResult, type SqlColumn } from './query/sql-query.js';
export { loadModelProject, selectModels, MODEL_LAYERS, type Model, type ModelProject, type ModelConfig, type ModelLayer, type ColumnTest } from './models/model-project.js';
export {
  ModelRunner,
  DEFAULT_MODEL_VARS,
  type ModelRunnerOptions,
  type ModelRunResult,
  type ModelRunRecord,
  type RunOptions,
  type TsModelOperator,
  type TsModelRun,
} from './models/model-runner.js';
export { indicatorsModel, indicatorColumn } from './models/indicators-model.js';
export { type LakeReferenceData } from './models/reference-data.js';
export { runModelTests, type ModelTestResult } from './models/model-tests.js';
export { JobScheduler, parseSchedule, type JobDefinition, type JobOutcome, type JobRun, type JobInfo, type JobTrigger } from './jobs/job-scheduler.js';
export { maintainLake, type MaintenanceOptions, type MaintenanceResult } from './jobs/maintenance.js';
export { Lakehouse, shippedModelsDir, type LakehouseOptions, type LakehouseSettings } from './lakehouse.js';
export { ParquetExporter, PARTITION_ROWS, type ExportResult } from './export/parquet-export.js';
export {
  LakeMirror,
  BucketCatalog,
  createObjectStore,
  restoreLake,
  CATALOG_PREFIX,
  type ObjectStore,
  type ObjectStoreStats,
  type PutResult,
  type StoredObject,
  type LakeMirrorOptions,
  type LakeMirrorStats,
  type BucketEntry,
  type BucketFileRow,
  type OpenTransaction,
  type RestoreOptions,
  type RestoreResult,
  type LakeStorageSettings,
} from './storage/index.js';
export { PgGoldSync, type PgGoldSyncOptions, type GoldSyncResult, type GoldTableSync } from './export/pg-gold-sync.js';
