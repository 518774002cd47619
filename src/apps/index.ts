export { Platform, dataPath, exchangeCalendars, runningServer, serverInfoPath, type PlatformOptions, type ServerInfo } from './platform.js';
export { createSource, runSource, type SourceRun } from './source-runner.js';
export { lakeClient, lakeApiOf, openLocalLakehouse, type LakeClient } from './lake-client.js';
export { backfillFiles, backfillFromLog, countRecords, type BackfillProgress, type BackfillResult, type LogBackfillResult } from './backfill.js';
