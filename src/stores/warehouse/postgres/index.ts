export { PgWarehouse, type PgWarehouseOptions, type WarehouseBatch, type WarehouseAlert, type AlertQuery, type IndicatorValueRow, type IndicatorStateRow } from './pg-warehouse.js';
export { PgWarehouseWriter, type PgWarehouseWriterOptions, type PgWarehouseWriterStats } from './pg-warehouse-writer.js';
export { migrate, migrationChecksum, WAREHOUSE_MIGRATIONS, type Migration, type MigrationResult } from './migrations.js';
export { MonthlyPartitions, PARTITIONED_TABLES, monthOf, partitionName, type PartitionedTable } from './monthly-partitions.js';
export { IndicatorPlan, type WarehouseIndicatorSet, type WarehouseIndicator, type IndicatorBar, type IndicatorColumn } from './indicator-plan.js';
export { IndicatorSeries, type SeriesOutcome, type SeriesSnapshot, type ValuesSink } from './indicator-series.js';
export { decodeCandle, decodeKpi, type Decoded } from './warehouse-records.js';
