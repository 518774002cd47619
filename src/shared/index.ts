export { StockStreamError, ERROR_CODES, isStockStreamError, type ErrorCode, type ErrorKind, type StockStreamErrorOptions } from './errors.js';
export { Metrics } from './metrics.js';
export { createLogger, type Logger } from './logger.js';
export { configSchema, loadConfig, envPath, ENV_PREFIX, type Config, type ConfigInput, type LoadConfigOptions } from './config/index.js';
