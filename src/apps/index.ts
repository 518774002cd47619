export { Platform, dataPath, type PlatformOptions } from './platform.js';
export { createSource, runSource, type SourceRun } from './source-runner.js';
