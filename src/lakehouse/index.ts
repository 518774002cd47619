export { BronzeWriter, type BronzeWriterOptions, type BronzeStats } from './bronze/bronze-writer.js';
export { BRONZE_TABLES, TICKS_TABLE, REJECTS_TABLE, type BronzeTable, type BronzeColumn, type BronzeColumnType } from './bronze/bronze-tables.js';
