export { Platform, dataPath, exchangeCalendars, runningServer, serverInfoPath, type PlatformOptions, type ServerInfo } from './platform.js';
export { createSource, runSource, type SourceRun } from './source-runner.js';
export { lakeClient, lakeApiOf, openLocalLakehouse, type LakeClient } from './lake-client.js';
export { backfillFiles, backfillFromLog, countRecords, type BackfillProgress, type BackfillResult, type LogBackfillResult } from './backfill.js';
export { openLog, describeLog } from './open-log.js';
export { checkRole, runs, type Role, type Component } from './roles.js';
